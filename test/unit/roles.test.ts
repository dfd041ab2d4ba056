import { describe, expect, it } from "vitest";
import type { Role } from "../../src/roles/role";
import { decideRole, decideUserRole, type PromotionSettings } from "../../src/roles/rules";
import {
  type GroupSource,
  groupSource,
  type RolesSource,
  rolesNamingNothing,
  rolesSource,
  type UserTypeSource,
  userTypeSource,
} from "../../src/roles/sources";

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
    { input: "  ", want: { kind: "absent" } },
    { input: undefined, want: { kind: "absent" } },
    { input: 42, want: { kind: "absent" } },
  ];
  it.each(rows)("$input → $want.kind", ({ input, want }) => {
    expect(userTypeSource(input)).toEqual(want);
  });
});

describe("rolesSource: an entry names a role by its value, else its display (SPEC §5)", () => {
  const entra = (value: string) => ({ primary: false, type: "WindowsAzureActiveDirectoryRole", display: value, value });
  const rows: { name: string; input: unknown; want: RolesSource; other?: string[] }[] = [
    { name: "Entra AppRoleAssignmentsComplex", input: [entra("Admin")], want: { kind: "role", role: "admin" } },
    {
      name: "Okta entitlement (a /Roles id)",
      input: [{ value: "moderator", display: "Moderator" }],
      want: { kind: "role", role: "moderator" },
    },
    { name: "any case, around spaces", input: [{ value: " REGISTERED " }], want: { kind: "role", role: "registered" } },
    {
      name: "the highest of several",
      input: [entra("Moderator"), entra("User"), entra("Admin")],
      want: { kind: "role", role: "admin" },
      other: ["User"],
    },
    { name: "display when there is no value", input: [{ display: "Moderator" }], want: { kind: "role", role: "moderator" } },
    {
      name: "a value that names no role is not overruled by its display",
      input: [{ value: "site.admin", display: "Admin" }],
      want: { kind: "other" },
      other: ["site.admin"],
    },
    { name: "Entra's User app role names none", input: [entra("User")], want: { kind: "other" }, other: ["User"] },
    {
      name: "Entra's PATCH without the flag: the assignment JSON-encoded in value",
      input: [{ value: JSON.stringify({ id: "06b07648-ecfe-589f-9d2f-6325724a46ee", value: "Admin", displayName: "Admin" }) }],
      want: { kind: "role", role: "admin" },
    },
    {
      name: "JSON-encoded without an inner value: its displayName",
      input: [{ value: JSON.stringify({ id: "x", displayName: "Moderator" }) }],
      want: { kind: "role", role: "moderator" },
    },
    { name: "a value that only looks like JSON", input: [{ value: "{admin" }], want: { kind: "other" }, other: ["{admin"] },
    { name: "absent", input: undefined, want: { kind: "absent" } },
    { name: "empty (never written: rolesSource(…, true) is the written-before case)", input: [], want: { kind: "absent" } },
    { name: "not a list", input: { value: "admin" }, want: { kind: "absent" } },
  ];
  it.each(rows)("$name", ({ input, want, other }) => {
    expect(rolesSource(input, false)).toEqual(want);
    expect(rolesNamingNothing(input)).toEqual(other ?? []);
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
  const roles = (r: Role): RolesSource => ({ kind: "role", role: r });
  const noRoles: RolesSource = { kind: "absent" };
  const otherRoles: RolesSource = { kind: "other" };
  const inGroup = (r: Role, group = "G"): GroupSource => ({ role: r, group: r === "registered" ? undefined : group });
  const rows: {
    name: string;
    current: Role;
    userType: UserTypeSource;
    roles?: RolesSource;
    group: GroupSource | null;
    settings: PromotionSettings;
    want: Role;
    reason?: string | RegExp;
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
      reason: "role changed: registered → moderator (userType)",
    },
    {
      name: "promote to moderator refused",
      current: "registered",
      userType: role("moderator"),
      group: null,
      settings: adminOnly,
      want: "registered",
      reason: "role kept: registered (userType asks for moderator); moderator promotion off",
    },
    {
      name: "promote to admin needs the admin setting",
      current: "registered",
      userType: role("admin"),
      group: null,
      settings: modOnly,
      want: "registered",
      reason: "role kept: registered (userType asks for admin); admin promotion off",
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
      reason: "role kept: admin (userType asks for moderator); admin promotion off",
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
      reason: "role changed: registered → admin (mapped group Site Admins)",
    },
    {
      name: "highest source wins: userType Admin over the moderator group",
      current: "moderator",
      userType: role("admin"),
      group: inGroup("moderator"),
      settings: both,
      want: "admin",
      reason: /\(userType\)$/,
    },
    {
      name: "both sources agree",
      current: "registered",
      userType: role("moderator"),
      group: inGroup("moderator", "Mods"),
      settings: both,
      want: "moderator",
      reason: "role changed: registered → moderator (userType and mapped group Mods)",
    },
    {
      name: "leaving the mapped group demotes",
      current: "moderator",
      userType: absent,
      group: inGroup("registered"),
      settings: both,
      want: "registered",
      reason: "role changed: moderator → registered (no userType, in no mapped group)",
    },
    {
      name: "userType removed: no source grants admin any more",
      current: "admin",
      userType: absent,
      group: null,
      settings: both,
      want: "registered",
      reason: "role changed: admin → registered (no userType and no mapped group)",
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
      name: "no source, registered: nothing to decide",
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
      reason: "role changed: admin → moderator (mapped group Mods)",
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
      reason: "role kept: registered (userType asks for admin); admin promotion off",
    },
    // The roles source: Entra app roles, Okta entitlements.
    {
      name: "roles Admin promotes",
      current: "registered",
      userType: absent,
      roles: roles("admin"),
      group: null,
      settings: both,
      want: "admin",
      reason: "role changed: registered → admin (roles)",
    },
    {
      name: "roles removed: the role follows the remaining sources",
      current: "admin",
      userType: absent,
      roles: noRoles,
      group: null,
      settings: both,
      want: "registered",
      reason: "role changed: admin → registered (no userType and no mapped group)",
    },
    {
      name: "roles naming no site role (Entra's User) is registered, even with Employee",
      current: "admin",
      userType: employee,
      roles: otherRoles,
      group: null,
      settings: both,
      want: "registered",
      reason: 'role changed: admin → registered (userType "Employee" names no role, no site role in roles and no mapped group)',
    },
    {
      name: "roles removed, userType Employee, no mapping: left as it is (SPEC §5, userType that names no role)",
      current: "admin",
      userType: employee,
      roles: noRoles,
      group: null,
      settings: both,
      want: "admin",
    },
    {
      name: "userType and roles disagree: the higher one",
      current: "registered",
      userType: role("moderator"),
      roles: roles("admin"),
      group: null,
      settings: both,
      want: "admin",
      reason: "role changed: registered → admin (roles)",
    },
    {
      name: "all three agree",
      current: "registered",
      userType: role("moderator"),
      roles: roles("moderator"),
      group: inGroup("moderator", "Mods"),
      settings: both,
      want: "moderator",
      reason: "role changed: registered → moderator (userType, roles and mapped group Mods)",
    },
    // The highest role allowed (issue: bob).
    {
      name: "bob: userType Admin, moderator group, admin promotion off: the highest allowed, moderator",
      current: "registered",
      userType: role("admin"),
      group: inGroup("moderator", "Site Moderators"),
      settings: modOnly,
      want: "moderator",
      reason: "role changed: registered → moderator (mapped group Site Moderators); admin from userType refused: admin promotion off",
    },
    {
      name: "bob again: already moderator, the refusal is said, the role kept",
      current: "moderator",
      userType: role("admin"),
      group: inGroup("moderator", "Site Moderators"),
      settings: modOnly,
      want: "moderator",
      reason: "role kept: moderator (mapped group Site Moderators); admin from userType refused: admin promotion off",
    },
    {
      name: "roles Admin refused, userType Moderator allowed",
      current: "registered",
      userType: role("moderator"),
      roles: roles("admin"),
      group: null,
      settings: modOnly,
      want: "moderator",
      reason: "role changed: registered → moderator (userType); admin from roles refused: admin promotion off",
    },
    {
      name: "admin, admin promotion off, the sources now grant only moderator: admin is kept (moving off admin needs the admin setting)",
      current: "admin",
      userType: absent,
      roles: roles("moderator"),
      group: null,
      settings: modOnly,
      want: "admin",
      reason: "role kept: admin (roles asks for moderator); admin promotion off",
    },
    {
      name: "refused, and no lower source is allowed either: kept, never a role no source grants",
      current: "moderator",
      userType: role("admin"),
      group: null,
      settings: modOnly,
      want: "moderator",
      reason: "role kept: moderator (userType asks for admin); admin promotion off",
    },
    {
      name: "refused: the fallback may be lower than the current role when a source grants it",
      current: "moderator",
      userType: role("admin"),
      roles: roles("registered"),
      group: null,
      settings: modOnly,
      want: "registered",
      reason: "role changed: moderator → registered (roles); admin from userType refused: admin promotion off",
    },
    {
      name: "moderator refused, registered current and granted: kept with the refusal said",
      current: "registered",
      userType: role("registered"),
      roles: roles("moderator"),
      group: null,
      settings: adminOnly,
      want: "registered",
      reason: "role kept: registered (userType); moderator from roles refused: moderator promotion off",
    },
  ];
  it.each(rows)("$name", ({ current, userType, roles: r, group, settings, want, reason }) => {
    const d = decideRole({ current, userType, roles: r ?? noRoles, group }, settings);
    expect(d.role).toBe(want);
    expect(d.changed).toBe(want !== current);
    if (reason === undefined) expect(d.reason).toBeUndefined();
    else if (typeof reason === "string") expect(d.reason).toBe(reason);
    else expect(d.reason).toMatch(reason);
  });
});

describe("decideUserRole reads the sources from the stored data", () => {
  it("Entra's shape and Okta's shape", () => {
    const entra = {
      userType: "Employee",
      roles: [{ primary: false, type: "WindowsAzureActiveDirectoryRole", display: "Admin", value: "Admin" }],
    };
    expect(decideUserRole({ role: "registered", data: entra, rolesManaged: false }, null, both)).toMatchObject({
      role: "admin",
      changed: true,
    });
    const okta = { roles: [{ value: "moderator", display: "Moderator" }] };
    expect(decideUserRole({ role: "registered", data: okta, rolesManaged: false }, null, both)).toMatchObject({
      role: "moderator",
      changed: true,
    });
  });

  it("an Okta entitlement revoked with userType Employee: roles says no role now, so Employee keeps nothing", () => {
    const revoked = { userType: "Employee" };
    expect(decideUserRole({ role: "moderator", data: revoked, rolesManaged: true }, null, both)).toEqual({
      role: "registered",
      changed: true,
      via: 'userType "Employee" names no role, no site role in roles and no mapped group',
      reason: 'role changed: moderator → registered (userType "Employee" names no role, no site role in roles and no mapped group)',
    });
    // Without roles ever written, SPEC §5's rule: a userType that names no role leaves the role as it is.
    expect(decideUserRole({ role: "moderator", data: revoked, rolesManaged: false }, null, both)).toEqual({
      role: "moderator",
      changed: false,
    });
  });
});

describe("rolesSource once the IdP has written roles", () => {
  it.each([undefined, []])("%j after roles were written: no site role, not absent", (input) => {
    expect(rolesSource(input, true)).toEqual({ kind: "other" });
  });
});
