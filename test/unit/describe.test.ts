import { describe, expect, it } from "vitest";
import { eventWords } from "../../src/admin/words";
import { describeAttributes, describeGroupChange, describeUserChange, MAX_CHANGE_LINES } from "../../src/resources/describe";
import type { GroupState } from "../../src/resources/group";
import type { UserState } from "../../src/resources/user";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const user = (data: Record<string, unknown>, extra: Partial<UserState> = {}): UserState => ({
  id: "u1",
  data: { userName: "dave@example.com", ...data },
  active: true,
  role: "registered",
  rolesManaged: false,
  version: 1,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...extra,
});

describe("describeAttributes: each attribute that changed, from → to", () => {
  const cases: { name: string; before: Record<string, unknown>; after: Record<string, unknown>; lines: string[] }[] = [
    { name: "a simple value", before: { title: "Eng" }, after: { title: "Staff" }, lines: ["title: Eng → Staff"] },
    { name: "set where there was none", before: {}, after: { title: "Staff" }, lines: ["title: (none) → Staff"] },
    { name: "removed", before: { title: "Eng" }, after: {}, lines: ["title: Eng → (none)"] },
    {
      name: "a sub-attribute",
      before: { name: { givenName: "Dave" } },
      after: { name: { givenName: "David" } },
      lines: ["name.givenName: Dave → David"],
    },
    {
      name: "a multi-valued attribute, as its values",
      before: { emails: [{ value: "a@x", primary: true }] },
      after: { emails: [{ value: "b@x", primary: true }, { value: "a@x" }] },
      lines: ["emails: a@x (primary) → b@x (primary), a@x"],
    },
    {
      name: "an extension, by its short name; a reference by its value",
      before: { [ENTERPRISE]: { department: "R&D", manager: { value: "m1", $ref: "../Users/m1" } } },
      after: { [ENTERPRISE]: { department: "Sales", manager: { value: "m2", $ref: "../Users/m2" } } },
      lines: ["enterprise.department: R&D → Sales", "enterprise.manager: m1 → m2"],
    },
    { name: "a boolean", before: { x: true }, after: { x: false }, lines: ["x: true → false"] },
    { name: "nothing changed", before: { title: "Eng" }, after: { title: "Eng" }, lines: [] },
    { name: "a long value is cut", before: { title: "a".repeat(100) }, after: { title: "b" }, lines: [`title: ${"a".repeat(59)}… → b`] },
  ];
  for (const c of cases) it(c.name, () => expect(describeAttributes(c.before, c.after)).toEqual(c.lines));

  it("lists at most MAX_CHANGE_LINES and counts the rest", () => {
    const before = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`a${String(i).padStart(2, "0")}`, "x"]));
    const lines = describeAttributes(before, {});
    expect(lines).toHaveLength(MAX_CHANGE_LINES + 1);
    expect(lines.at(-1)).toBe("and 5 more attributes changed");
  });
});

describe("describeUserChange", () => {
  const cases: { name: string; before: UserState | null; after: UserState | null; via?: string; lines: string[] }[] = [
    { name: "created", before: null, after: user({}), lines: ["created"] },
    { name: "created inactive", before: null, after: user({}, { active: false }), lines: ["created (deactivated)"] },
    {
      name: "created as admin",
      before: null,
      after: user({}, { role: "admin" }),
      via: "userType",
      lines: ["created", "role registered → admin (userType)"],
    },
    { name: "deleted", before: user({}), after: null, lines: ["deleted"] },
    { name: "deactivated", before: user({}), after: user({}, { active: false }), lines: ["deactivated"] },
    { name: "reactivated", before: user({}, { active: false }), after: user({}), lines: ["reactivated"] },
    {
      name: "a title and a role in one write",
      before: user({ title: "Eng" }, { role: "moderator" }),
      after: user({ title: "Staff" }, { role: "admin" }),
      via: "app role",
      lines: ["title: Eng → Staff", "role moderator → admin (app role)"],
    },
    {
      name: "active and password are never attributes",
      before: user({ active: true }),
      after: user({ active: false, password: "x" }),
      lines: [],
    },
  ];
  for (const c of cases) it(c.name, () => expect(describeUserChange(c.before, c.after, c.via)).toEqual(c.lines));
});

describe("describeGroupChange", () => {
  const group = (displayName: string): GroupState => ({ id: "g1", data: { displayName }, version: 1, createdAt: "", updatedAt: "" });
  it("created with members: each member's timeline says added to it", () => {
    expect(describeGroupChange(null, group("Site Moderators"), { added: ["u1", "u2"], removed: [] })).toEqual({
      lines: ["created with 2 members"],
      related: [
        { id: "u1", did: "added to Site Moderators" },
        { id: "u2", did: "added to Site Moderators" },
      ],
    });
  });
  it("renamed, a member added and one removed", () => {
    expect(describeGroupChange(group("Mods"), group("Site Moderators"), { added: ["u1"], removed: ["u2"] })).toEqual({
      lines: ["displayName: Mods → Site Moderators", "added 1 member", "removed 1 member"],
      related: [
        { id: "u1", did: "added to Site Moderators" },
        { id: "u2", did: "removed from Site Moderators" },
      ],
    });
  });
  it("deleted: its members were removed from it", () => {
    expect(describeGroupChange(group("Mods"), null, { added: [], removed: ["u1"] })).toEqual({
      lines: ["deleted (it had 1 member)"],
      related: [{ id: "u1", did: "removed from Mods (group deleted)" }],
    });
  });
});

describe("eventWords: what an event told the site, from its own changes", () => {
  const cases: { type: string; changes: Record<string, unknown>; words: string[] }[] = [
    { type: "user.deactivated", changes: { active: { from: true, to: false } }, words: ["deactivated"] },
    { type: "user.updated", changes: { attributes: ["title", "name"] }, words: ["changed: title, name"] },
    { type: "user.role_changed", changes: { role: { from: "moderator", to: "admin" }, reason: "x" }, words: ["role moderator → admin"] },
    { type: "group.members_added", changes: { members: ["a", "b"] }, words: ["2 members added"] },
    { type: "group.members_removed", changes: { members: ["a"] }, words: ["1 member removed"] },
    { type: "user.synced", changes: {}, words: ["its whole current state (resync)"] },
  ];
  for (const c of cases) it(c.type, () => expect(eventWords(c.type, { type: c.type, data: { changes: c.changes } })).toEqual(c.words));
  it("an unreadable payload says nothing rather than guess", () => expect(eventWords("user.updated", "not json")).toEqual(["changed"]));
});
