import { describe, expect, it } from "vitest";
import {
  decideRole,
  type GroupSource,
  groupSource,
  type PromotionSettings,
  type Role,
  type UserTypeSource,
  userTypeSource,
} from "../../src/roles/rules";

const both: PromotionSettings = { allowModeratorPromotion: true, allowAdminPromotion: true };
const none: PromotionSettings = { allowModeratorPromotion: false, allowAdminPromotion: false };
const modOnly: PromotionSettings = { allowModeratorPromotion: true, allowAdminPromotion: false };
const adminOnly: PromotionSettings = { allowModeratorPromotion: false, allowAdminPromotion: true };

describe("userTypeSource", () => {
  const rows: { input: unknown; want: UserTypeSource }[] = [
    { input: "Admin", want: { kind: "role", role: "admin" } },
    { input: "admin", want: { kind: "role", role: "admin" } },
    { input: "MODERATOR", want: { kind: "role", role: "moderator" } },
    { input: "Registered", want: { kind: "role", role: "registered" } },
    { input: " Moderator ", want: { kind: "role", role: "moderator" } },
    { input: "Employee", want: { kind: "other", value: "Employee" } },
    { input: "Administrator", want: { kind: "other", value: "Administrator" } },
    { input: "", want: { kind: "absent" } },
    { input: undefined, want: { kind: "absent" } },
    { input: 42, want: { kind: "absent" } },
  ];
  it.each(rows)("$input → $want.kind", ({ input, want }) => {
    expect(userTypeSource(input)).toEqual(want);
  });
});

describe("groupSource", () => {
  const mapping = { moderatorGroup: "mods", adminGroup: "admins" };
  const names = new Map([
    ["mods", "Site Moderators"],
    ["admins", "Site Admins"],
  ]);
  const rows: {
    name: string;
    groups: string[];
    mapping: typeof mapping | { moderatorGroup: null; adminGroup: null };
    want: GroupSource | null;
  }[] = [
    { name: "admin group wins", groups: ["mods", "admins"], mapping, want: { role: "admin", group: "Site Admins" } },
    { name: "moderator group", groups: ["mods", "other"], mapping, want: { role: "moderator", group: "Site Moderators" } },
    { name: "in no mapped group: registered", groups: ["other"], mapping, want: { role: "registered", group: undefined } },
    { name: "no mapping: groups have no say", groups: ["mods"], mapping: { moderatorGroup: null, adminGroup: null }, want: null },
  ];
  it.each(rows)("$name", ({ groups, mapping: m, want }) => {
    expect(groupSource(groups, m, names)).toEqual(want);
  });

  it("names the group by id when its name is not known", () => {
    expect(groupSource(["g1"], { moderatorGroup: "g1", adminGroup: null })).toEqual({ role: "moderator", group: "g1" });
  });
});

describe("decideRole: the rules table (README) and its gates (SPEC §5)", () => {
  const role = (r: Role): UserTypeSource => ({ kind: "role", role: r });
  const absent: UserTypeSource = { kind: "absent" };
  const employee: UserTypeSource = { kind: "other", value: "Employee" };
  const inGroup = (r: Role, group = "G"): GroupSource => ({ role: r, group: r === "registered" ? undefined : group });
  const rows: {
    name: string;
    current: Role;
    userType: UserTypeSource;
    group: GroupSource | null;
    settings: PromotionSettings;
    want: Role;
    reason?: RegExp;
  }[] = [
    {
      name: "userType names the role it already has",
      current: "admin",
      userType: role("admin"),
      group: null,
      settings: none,
      want: "admin",
    },
    {
      name: "promote to moderator allowed",
      current: "registered",
      userType: role("moderator"),
      group: null,
      settings: modOnly,
      want: "moderator",
      reason: /role changed: registered → moderator \(userType\)/,
    },
    {
      name: "promote to moderator refused",
      current: "registered",
      userType: role("moderator"),
      group: null,
      settings: adminOnly,
      want: "registered",
      reason: /role kept: registered.*moderator promotion off/,
    },
    {
      name: "promote to admin needs the admin setting",
      current: "registered",
      userType: role("admin"),
      group: null,
      settings: modOnly,
      want: "registered",
      reason: /admin promotion off/,
    },
    {
      name: "promote to admin needs only the admin setting",
      current: "registered",
      userType: role("admin"),
      group: null,
      settings: adminOnly,
      want: "admin",
      reason: /→ admin/,
    },
    {
      name: "demote admin → moderator needs the admin setting",
      current: "admin",
      userType: role("moderator"),
      group: null,
      settings: modOnly,
      want: "admin",
      reason: /admin promotion off/,
    },
    {
      name: "demote admin → registered",
      current: "admin",
      userType: role("registered"),
      group: null,
      settings: adminOnly,
      want: "registered",
      reason: /admin → registered/,
    },
    {
      name: "demote moderator → registered needs the moderator setting",
      current: "moderator",
      userType: role("registered"),
      group: null,
      settings: adminOnly,
      want: "moderator",
      reason: /moderator promotion off/,
    },
    {
      name: "moderator → admin needs the admin setting only",
      current: "moderator",
      userType: role("admin"),
      group: null,
      settings: adminOnly,
      want: "admin",
      reason: /moderator → admin/,
    },
    {
      name: "highest source wins: admin group over userType Registered",
      current: "registered",
      userType: role("registered"),
      group: inGroup("admin", "Site Admins"),
      settings: both,
      want: "admin",
      reason: /\(mapped group Site Admins\)/,
    },
    {
      name: "highest source wins: userType Admin over the moderator group",
      current: "moderator",
      userType: role("admin"),
      group: inGroup("moderator"),
      settings: both,
      want: "admin",
      reason: /\(userType\)/,
    },
    {
      name: "both sources agree",
      current: "registered",
      userType: role("moderator"),
      group: inGroup("moderator", "Mods"),
      settings: both,
      want: "moderator",
      reason: /userType and mapped group Mods/,
    },
    {
      name: "leaving the mapped group demotes",
      current: "moderator",
      userType: absent,
      group: inGroup("registered"),
      settings: both,
      want: "registered",
      reason: /moderator → registered \(no userType, in no mapped group\)/,
    },
    {
      name: "userType removed: no source grants admin any more",
      current: "admin",
      userType: absent,
      group: null,
      settings: both,
      want: "registered",
      reason: /admin → registered \(no userType and no mapped group\)/,
    },
    {
      name: "userType removed while admin promotion is off: kept",
      current: "admin",
      userType: absent,
      group: null,
      settings: modOnly,
      want: "admin",
      reason: /admin promotion off/,
    },
    {
      name: "no userType, no mapping, registered: nothing to decide",
      current: "registered",
      userType: absent,
      group: null,
      settings: both,
      want: "registered",
    },
    {
      name: "Employee names no role: the current role is kept",
      current: "moderator",
      userType: employee,
      group: null,
      settings: both,
      want: "moderator",
    },
    {
      name: "Employee and a mapped group: the group decides",
      current: "admin",
      userType: employee,
      group: inGroup("moderator", "Mods"),
      settings: both,
      want: "moderator",
      reason: /admin → moderator \(mapped group Mods\)/,
    },
    {
      name: "Employee, out of every mapped group: registered",
      current: "moderator",
      userType: employee,
      group: inGroup("registered"),
      settings: both,
      want: "registered",
      reason: /\(in no mapped group\)/,
    },
    {
      name: "both gates off: nothing ever changes",
      current: "registered",
      userType: role("admin"),
      group: inGroup("moderator"),
      settings: none,
      want: "registered",
      reason: /admin promotion off/,
    },
  ];
  it.each(rows)("$name", ({ current, userType, group, settings, want, reason }) => {
    const d = decideRole({ current, userType, group }, settings);
    expect(d.role).toBe(want);
    expect(d.changed).toBe(want !== current);
    if (reason) expect(d.reason).toMatch(reason);
    else expect(d.reason).toBeUndefined();
  });
});
