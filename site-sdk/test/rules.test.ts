import { describe, expect, it } from "vitest";
import {
  isBehindTombstone,
  isSynced,
  isTombstone,
  membershipChanges,
  type ScimEvent,
  shouldApply,
  shouldApplyToPair,
  syncAppliesToPair,
  syncedMembership,
} from "../src/index.js";
import { events } from "./fixtures.js";

describe("shouldApply (rules 3 and 4): a change when newer, a synced event when at least as new", () => {
  const cases: { event: ScimEvent; last: number | undefined; applies: boolean }[] = [
    { event: events.updated("u", 5), last: undefined, applies: true },
    { event: events.updated("u", 5), last: 4, applies: true },
    { event: events.updated("u", 5), last: 5, applies: false },
    { event: events.updated("u", 5), last: 6, applies: false },
    { event: events.userDeleted("u", 5), last: 4, applies: true },
    { event: events.created("u", 1), last: 3, applies: false },
    { event: events.userSynced("u", 5), last: 5, applies: true },
    { event: events.userSynced("u", 5), last: 4, applies: true },
    { event: events.userSynced("u", 5), last: 6, applies: false },
    { event: events.groupUpdated("g", 3, "x"), last: 3, applies: false },
    { event: events.groupSynced("g", 3, []), last: 3, applies: true },
    { event: events.groupSynced("g", 3, []), last: 4, applies: false },
    // A tombstone's version is the last applied: an older event arriving later is dropped.
    { event: events.reactivated("u", 7), last: 8, applies: false },
  ];
  it.each(cases)("$event.type v$event.data.version over $last: $applies", ({ event, last, applies }) => {
    expect(shouldApply(event, last)).toBe(applies);
  });
});

describe("membershipChanges (rule 5)", () => {
  it.each([
    {
      event: events.groupCreated("g", 1, ["a", "b"]),
      pairs: [
        { userId: "a", member: true },
        { userId: "b", member: true },
      ],
    },
    { event: events.added("g", 2, ["c"]), pairs: [{ userId: "c", member: true }] },
    { event: events.removed("g", 3, ["a"]), pairs: [{ userId: "a", member: false }] },
    {
      event: events.groupDeleted("g", 4, ["b", "c"]),
      pairs: [
        { userId: "b", member: false },
        { userId: "c", member: false },
      ],
    },
    { event: events.groupUpdated("g", 5, "x"), pairs: [] },
    { event: events.groupSynced("g", 5, ["a"]), pairs: [] },
    { event: events.created("u", 1), pairs: [] },
  ])("$event.type", ({ event, pairs }) => {
    expect(membershipChanges(event)).toEqual(pairs);
  });
});

describe("pairs and tombstones (rules 5, 6)", () => {
  it.each([
    { version: 3, pair: undefined, event: true, synced: true },
    { version: 3, pair: 2, event: true, synced: true },
    { version: 3, pair: 3, event: false, synced: true },
    { version: 3, pair: 4, event: false, synced: false },
  ])("v$version over a pair at $pair: change $event, complete resync $synced", ({ version, pair, event, synced }) => {
    expect(shouldApplyToPair(version, pair)).toBe(event);
    expect(syncAppliesToPair(version, pair)).toBe(synced);
  });

  it.each([
    { tombstone: undefined, version: 3, behind: false },
    { tombstone: 5, version: 3, behind: true },
    { tombstone: 5, version: 5, behind: false },
  ])("an event v$version of a group deleted at $tombstone: behind $behind", ({ tombstone, version, behind }) => {
    expect(isBehindTombstone(events.added("g", version, ["a"]), tombstone)).toBe(behind);
  });

  it("syncedMembership: the union once every part of the version has come", () => {
    expect(syncedMembership(new Map([[1, ["a"]]]), 2)).toBeNull();
    expect(syncedMembership(new Map([[2, ["b"]]]), 2)).toBeNull();
    expect(
      syncedMembership(
        new Map([
          [2, ["b"]],
          [1, ["a", "c"]],
        ]),
        2,
      ),
    ).toEqual(new Set(["a", "b", "c"]));
    expect(syncedMembership(new Map([[1, []]]), 1)).toEqual(new Set());
  });

  it("synced and tombstone events are named", () => {
    expect([events.userSynced("u", 1), events.groupSynced("g", 1, [])].every(isSynced)).toBe(true);
    expect([events.updated("u", 2), events.userDeleted("u", 3)].some(isSynced)).toBe(false);
    expect([events.userDeleted("u", 3), events.groupDeleted("g", 3, [])].every(isTombstone)).toBe(true);
    expect(isTombstone(events.deactivated("u", 2))).toBe(false);
  });
});
