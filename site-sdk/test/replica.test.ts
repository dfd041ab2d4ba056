import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createReplica, type ScimEvent } from "../src/index.js";
import { events } from "./fixtures.js";

/** Applies events under their own ids (evt_0, evt_1, ...) in the given order; returns the replica. */
function replay(history: readonly ScimEvent[], order: readonly number[] = history.map((_, i) => i)) {
  const replica = createReplica();
  for (const i of order) {
    const event = history[i];
    if (event) replica.apply({ id: `evt_${i}`, event });
  }
  return replica;
}

describe("the replica applies events as the rules say", () => {
  it("a user's last state wins whatever the order; a deletion is a tombstone an older event cannot undo", () => {
    const history = [
      events.created("u", 1),
      events.updated("u", 2, { title: "x" }),
      events.deactivated("u", 3),
      events.userDeleted("u", 4),
    ];
    for (const order of [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [2, 3, 0, 1],
    ]) {
      expect(replay(history, order).snapshot().users).toEqual({});
    }
    const live = replay(history.slice(0, 3), [2, 0, 1]);
    expect(live.user("u")).toMatchObject({ active: false, meta: { version: 'W/"3"' } });
  });

  it("de-duplicates on webhook-id, and ignores types it does not know", () => {
    const r = createReplica();
    expect(r.apply({ id: "evt_a", event: events.created("u", 1) }).outcome).toBe("applied");
    expect(r.apply({ id: "evt_a", event: events.created("u", 1) }).outcome).toBe("duplicate");
    expect(r.apply({ id: "evt_b", event: null }).outcome).toBe("ignored");
    expect(r.apply({ id: "evt_c", event: events.created("u", 1) }).outcome).toBe("stale");
  });

  it("user.synced applies at an equal version, answers its view, and is stale below", () => {
    const r = createReplica();
    r.apply({ id: "e1", event: events.roleChanged("u", 4, "registered", "moderator") });
    expect(r.apply({ id: "e2", event: events.userSynced("u", 4, { role: "moderator" }) })).toEqual({
      outcome: "applied",
      view: { version: 4, active: true, role: "moderator" },
    });
    expect(r.apply({ id: "e3", event: events.userSynced("u", 3) })).toEqual({
      outcome: "stale",
      view: { version: 4, active: true, role: "moderator" },
    });
  });

  it("membership is per pair: a late add older than the pair's removal is dropped; attributes move on their own", () => {
    const r = createReplica();
    r.apply({ id: "e1", event: events.groupCreated("g", 1, ["a"]) });
    r.apply({ id: "e3", event: events.removed("g", 3, ["a"]) });
    r.apply({ id: "e4", event: events.groupUpdated("g", 4, "Renamed") });
    // v2 added b and a... but a was removed at v3: only b's pair moves.
    expect(r.apply({ id: "e2", event: events.added("g", 2, ["a", "b"], "Old name") }).outcome).toBe("applied");
    expect(r.members("g")).toEqual(["b"]);
    expect(r.group("g")?.displayName).toBe("Renamed");
    expect(r.apply({ id: "e2b", event: events.removed("g", 2, ["b"]) }).outcome).toBe("stale");
  });

  it("a group's tombstone drops its older membership events; pairs of users not seen yet are kept", () => {
    const r = createReplica();
    r.apply({ id: "e1", event: events.groupCreated("g", 1, ["ghost"]) });
    expect(r.members("g")).toEqual(["ghost"]);
    r.apply({ id: "e3", event: events.groupDeleted("g", 3, ["ghost"]) });
    expect(r.apply({ id: "e2", event: events.added("g", 2, ["late"]) }).outcome).toBe("stale");
    expect(r.snapshot().groups).toEqual({});
  });

  it("group.synced in parts: nothing until the last part, then every pair at most its version follows the union", () => {
    const r = createReplica();
    r.apply({ id: "e1", event: events.groupCreated("g", 1, ["a", "b"]) });
    r.apply({ id: "e6", event: events.added("g", 6, ["c"]) });
    r.apply({ id: "e7", event: events.removed("g", 7, ["d"]) });
    expect(r.apply({ id: "s2", event: events.groupSynced("g", 5, ["d"], 2, 2) })).toEqual({ outcome: "partial" });
    expect(r.members("g")).toEqual(["a", "b", "c"]);
    // Part 1 completes v5: a stays (listed), b goes (not listed), d is newer (v7) and stays out, c newer (v6) stays in.
    expect(r.apply({ id: "s1", event: events.groupSynced("g", 5, ["a"], 1, 2) }).outcome).toBe("applied");
    expect(r.members("g")).toEqual(["a", "c"]);
  });

  it("group.synced of a version already applied still sets the pairs a site lost", () => {
    const r = createReplica();
    r.apply({ id: "e1", event: events.groupUpdated("g", 4, "Name") });
    expect(r.apply({ id: "s1", event: events.groupSynced("g", 4, ["a", "b"], 1, 1, "Name") })).toEqual({
      outcome: "applied",
      view: { version: 4 },
    });
    expect(r.members("g")).toEqual(["a", "b"]);
  });
});

describe("any order, any duplicates: the same directory", () => {
  // Users and groups with every kind of change; the directory at the end is known.
  const history: ScimEvent[] = [
    events.created("ann", 1),
    events.updated("ann", 2, { title: "Engineer" }),
    events.roleChanged("ann", 3, "registered", "moderator"),
    events.created("bob", 1),
    events.deactivated("bob", 2),
    events.reactivated("bob", 3),
    events.created("cy", 1),
    events.userDeleted("cy", 2),
    events.groupCreated("eng", 1, ["ann", "bob", "cy"]),
    events.removed("eng", 2, ["cy"]),
    events.groupUpdated("eng", 3, "Engineering"),
    events.added("eng", 4, ["dee"], "Engineering"),
    events.removed("eng", 5, ["bob"], "Engineering"),
    events.groupCreated("old", 1, ["ann"]),
    events.groupDeleted("old", 2, ["ann"]),
    events.userSynced("ann", 3, { role: "moderator", title: "Engineer" }),
    events.groupSynced("eng", 5, ["ann"], 1, 2, "Engineering"),
    events.groupSynced("eng", 5, ["dee"], 2, 2, "Engineering"),
  ];
  const expected = replay(history).snapshot();

  it("in order, the directory is what the history says", () => {
    expect(Object.keys(expected.users).sort()).toEqual(["ann", "bob"]);
    expect(expected.users.ann).toMatchObject({ title: "Engineer", roles: [{ value: "moderator", primary: true }] });
    expect(expected.users.bob?.active).toBe(true);
    expect(expected.groups).toEqual({ eng: { group: expect.objectContaining({ displayName: "Engineering" }), members: ["ann", "dee"] } });
  });

  it("shuffled and duplicated (deliveries retried and redelivered), it ends the same", () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(
          history.map((_, i) => i),
          { minLength: history.length, maxLength: history.length },
        ),
        fc.array(fc.nat(history.length - 1), { maxLength: 10 }),
        (order, repeats) => {
          const replica = createReplica();
          const sequence = [...order];
          for (const r of repeats) sequence.splice(r % (sequence.length + 1), 0, r);
          for (const i of sequence) {
            const event = history[i];
            if (event) replica.apply({ id: `evt_${i}`, event });
          }
          expect(replica.snapshot()).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
