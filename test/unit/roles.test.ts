import { describe, expect, it } from "vitest";
import { decideRole, type Role, roleFromGroups, roleFromUserType } from "../../src/roles/rules";

const both = { allowModeratorPromotion: true, allowAdminPromotion: true };
const none = { allowModeratorPromotion: false, allowAdminPromotion: false };
const modOnly = { allowModeratorPromotion: true, allowAdminPromotion: false };
const adminOnly = { allowModeratorPromotion: false, allowAdminPromotion: true };

describe("roleFromUserType", () => {
  it.each([
    ["Admin", "admin"],
    ["admin", "admin"],
    ["MODERATOR", "moderator"],
    ["Registered", "registered"],
    [" Moderator ", "moderator"],
    ["Employee", undefined],
    ["Administrator", undefined],
    ["", undefined],
    [undefined, undefined],
    [42, undefined],
  ])("%j → %j", (input, expected) => {
    expect(roleFromUserType(input)).toBe(expected);
  });
});

describe("decideRole (SPEC §5)", () => {
  const table: [string, Role, Role | null, Role | null, typeof both, Role, boolean, RegExp | undefined][] = [
    // label, current, typeRole, groupRole, settings, expected role, changed, reason
    ["no source keeps the role", "moderator", null, null, both, "moderator", false, undefined],
    ["same role, nothing to decide", "admin", "admin", null, none, "admin", false, undefined],
    ["promote to moderator allowed", "registered", "moderator", null, modOnly, "moderator", true, /registered → moderator/],
    ["promote to moderator refused", "registered", "moderator", null, adminOnly, "registered", false, /moderator promotion off/],
    ["promote to admin needs admin setting", "registered", "admin", null, modOnly, "registered", false, /admin promotion off/],
    ["promote to admin allowed without moderator setting", "registered", "admin", null, adminOnly, "admin", true, /→ admin/],
    ["demote admin → moderator needs admin setting", "admin", "moderator", null, modOnly, "admin", false, /admin promotion off/],
    ["demote admin → registered allowed", "admin", "registered", null, adminOnly, "registered", true, /admin → registered/],
    [
      "demote moderator → registered needs moderator setting",
      "moderator",
      "registered",
      null,
      adminOnly,
      "moderator",
      false,
      /moderator promotion off/,
    ],
    ["moderator → admin needs admin setting only", "moderator", "admin", null, adminOnly, "admin", true, /moderator → admin/],
    [
      "highest source wins: group admin over userType registered",
      "registered",
      "registered",
      "admin",
      both,
      "admin",
      true,
      /group mapping/,
    ],
    ["highest source wins: userType admin over group moderator", "moderator", "admin", "moderator", both, "admin", true, /userType/],
    [
      "leaving the mapped group demotes (group says registered)",
      "moderator",
      null,
      "registered",
      both,
      "registered",
      true,
      /moderator → registered/,
    ],
  ];
  it.each(table)("%s", (_label, current, typeRole, groupRole, settings, role, changed, reason) => {
    const d = decideRole({ current, typeRole, groupRole }, settings);
    expect(d.role).toBe(role);
    expect(d.changed).toBe(changed);
    if (reason) expect(d.reason).toMatch(reason);
    else expect(d.reason).toBeUndefined();
  });
});

describe("roleFromGroups", () => {
  const mapping = { moderatorGroup: "g-mod", adminGroup: "g-admin" };
  it.each([
    [["g-admin", "g-mod"], mapping, "admin"],
    [["g-mod"], mapping, "moderator"],
    [["other"], mapping, "registered"],
    [[], { moderatorGroup: null, adminGroup: null }, null],
    [["g-mod"], { moderatorGroup: null, adminGroup: "g-admin" }, "registered"],
  ] as const)("%j with %j → %j", (ids, m, expected) => {
    expect(roleFromGroups(ids, m)).toBe(expected);
  });
});
