import { describe, expect, it } from "vitest";
import { idsToAdd, membershipNeeds, netMembershipChange } from "../../src/groups/membership";
import type { MemberOp } from "../../src/scim/patch";

describe("netMembershipChange", () => {
  const rows: { name: string; current: string[]; ops: MemberOp[]; want: { added: string[]; removed: string[] } }[] = [
    { name: "add new", current: [], ops: [{ op: "add", ids: ["a", "b"] }], want: { added: ["a", "b"], removed: [] } },
    { name: "add existing is a no-op", current: ["a"], ops: [{ op: "add", ids: ["a"] }], want: { added: [], removed: [] } },
    { name: "remove non-member is a no-op", current: ["a"], ops: [{ op: "remove", ids: ["z"] }], want: { added: [], removed: [] } },
    {
      name: "remove only the listed (old Entra form)",
      current: ["a", "b", "c"],
      ops: [{ op: "remove", ids: ["b"] }],
      want: { added: [], removed: ["b"] },
    },
    {
      name: "Okta: remove one, add another",
      current: ["a"],
      ops: [
        { op: "remove", ids: ["a"] },
        { op: "add", ids: ["b"] },
      ],
      want: { added: ["b"], removed: ["a"] },
    },
    { name: "remove all", current: ["a", "b"], ops: [{ op: "removeAll" }], want: { added: [], removed: ["a", "b"] } },
    { name: "replace with a set", current: ["a", "b"], ops: [{ op: "replace", ids: ["b", "c"] }], want: { added: ["c"], removed: ["a"] } },
    { name: "replace with empty", current: ["a"], ops: [{ op: "replace", ids: [] }], want: { added: [], removed: ["a"] } },
    {
      name: "add then remove the same",
      current: [],
      ops: [
        { op: "add", ids: ["a"] },
        { op: "remove", ids: ["a"] },
      ],
      want: { added: [], removed: [] },
    },
  ];
  it.each(rows)("$name", ({ current, ops, want }) => {
    expect(netMembershipChange(new Set(current), ops)).toEqual(want);
  });
});

describe("membershipNeeds / idsToAdd", () => {
  it("collects involved ids and whether the full list is needed", () => {
    expect(
      membershipNeeds([
        { op: "add", ids: ["a"] },
        { op: "remove", ids: ["b"] },
      ]),
    ).toEqual({ ids: ["a", "b"], all: false });
    expect(membershipNeeds([{ op: "replace", ids: ["a"] }])).toEqual({ ids: ["a"], all: true });
    expect(membershipNeeds([{ op: "removeAll" }])).toEqual({ ids: [], all: true });
    expect(
      idsToAdd([
        { op: "add", ids: ["a"] },
        { op: "remove", ids: ["b"] },
        { op: "replace", ids: ["c", "a"] },
      ]),
    ).toEqual(["a", "c"]);
  });
});
