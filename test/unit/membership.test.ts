import { describe, expect, it } from "vitest";
import { idsToAdd, membershipNeeds, netMembershipChange } from "../../src/groups/membership";
import type { MemberOp } from "../../src/scim/patch";

describe("netMembershipChange", () => {
  const table: [string, string[], MemberOp[], { added: string[]; removed: string[] }][] = [
    ["add new", [], [{ op: "add", ids: ["a", "b"] }], { added: ["a", "b"], removed: [] }],
    ["add existing is a no-op", ["a"], [{ op: "add", ids: ["a"] }], { added: [], removed: [] }],
    ["remove non-member is a no-op", ["a"], [{ op: "remove", ids: ["z"] }], { added: [], removed: [] }],
    ["remove only the listed (old Entra form)", ["a", "b", "c"], [{ op: "remove", ids: ["b"] }], { added: [], removed: ["b"] }],
    [
      "Okta: remove one, add another",
      ["a"],
      [
        { op: "remove", ids: ["a"] },
        { op: "add", ids: ["b"] },
      ],
      { added: ["b"], removed: ["a"] },
    ],
    ["remove all", ["a", "b"], [{ op: "removeAll" }], { added: [], removed: ["a", "b"] }],
    ["replace with a set", ["a", "b"], [{ op: "replace", ids: ["b", "c"] }], { added: ["c"], removed: ["a"] }],
    ["replace with empty", ["a"], [{ op: "replace", ids: [] }], { added: [], removed: ["a"] }],
    [
      "add then remove the same",
      [],
      [
        { op: "add", ids: ["a"] },
        { op: "remove", ids: ["a"] },
      ],
      { added: [], removed: [] },
    ],
  ];
  it.each(table)("%s", (_label, current, ops, expected) => {
    expect(netMembershipChange(new Set(current), ops)).toEqual(expected);
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
