import { describe, expect, it } from "vitest";
import { type HeldEvent, type HoldPlan, planHoldAction } from "../../src/events/hold";

const user = (id: string, resourceId: string, version: number, hold: HeldEvent["hold"], heldBy: string | null = null): HeldEvent => ({
  id,
  resourceType: "User",
  resourceId,
  resourceVersion: version,
  hold,
  heldBy,
});
const group = (id: string, resourceId: string, version: number, hold: HeldEvent["hold"], heldBy: string | null = null): HeldEvent => ({
  ...user(id, resourceId, version, hold, heldBy),
  resourceType: "Group",
});

// Alice: deactivation held (a1), then a title change (a2) and a deletion (a3) behind it; the
// deletion's removal from group G (g5) shares its fate, and G's next change (g6) only waits.
// Bob: deletion held (b1); its removal from G (g7) comes after g6.
const held: HeldEvent[] = [
  user("a1", "alice", 4, "guard"),
  user("a2", "alice", 5, "user", "a1"),
  user("a3", "alice", 6, "user", "a1"),
  group("g5", "G", 5, "cascade", "a1"),
  group("g6", "G", 6, "wait"),
  user("b1", "bob", 2, "guard"),
  group("g7", "G", 7, "cascade", "b1"),
  group("g8", "G", 8, "wait"),
];

describe("planHoldAction: release and discard keep each resource in version order", () => {
  const rows: { name: string; asked: string[] | "all"; action: "release" | "discard"; want: Partial<HoldPlan> }[] = [
    {
      name: "release all: everything goes, in version order per resource",
      asked: "all",
      action: "release",
      want: { send: ["a1", "a2", "a3", "g5", "g6", "g7", "g8", "b1"], drop: [], toWait: [] },
    },
    {
      name: "release Alice: her chain and the group events up to Bob's held removal",
      asked: ["a1"],
      action: "release",
      want: { send: ["a1", "a2", "a3", "g5", "g6"], drop: [], toWait: [] },
    },
    {
      name: "asking for a follower stands for its whole hold",
      asked: ["a3"],
      action: "release",
      want: { send: ["a1", "a2", "a3", "g5", "g6"], roots: ["a1"] },
    },
    {
      name: "release Bob first: his removal from G would overtake Alice's, so it waits behind it",
      asked: ["b1"],
      action: "release",
      want: { send: ["b1"], toWait: ["g7"], drop: [] },
    },
    {
      name: "discard Alice: her chain is dropped, G's waiting change goes out, Bob's removal still holds G",
      asked: ["a1"],
      action: "discard",
      want: { drop: ["a1", "a2", "a3", "g5"], send: ["g6"], toWait: [] },
    },
    {
      name: "discard all: every hold dropped, the waits go out",
      asked: "all",
      action: "discard",
      want: { drop: ["a1", "a2", "a3", "g5", "g7", "b1"], send: ["g6", "g8"] },
    },
    {
      name: "unknown ids and pure waits are skipped, nothing moves",
      asked: ["evt_unknown", "g6"],
      action: "release",
      want: { send: [], drop: [], toWait: [], skipped: ["evt_unknown", "g6"] },
    },
  ];
  it.each(rows)("$name", ({ asked, action, want }) => {
    const plan = planHoldAction(held, asked, action);
    expect(plan).toMatchObject(want);
  });

  it("whatever is released or discarded, no resource ever sends an event before an earlier one that stays held", () => {
    const choices: (string[] | "all")[] = ["all", ["a1"], ["b1"], ["a2"], ["a1", "b1"], []];
    for (const asked of choices) {
      for (const action of ["release", "discard"] as const) {
        const plan = planHoldAction(held, asked, action);
        const gone = new Set([...plan.send, ...plan.drop]);
        for (const sent of plan.send) {
          const e = held.find((h) => h.id === sent);
          const earlierStillHeld = held.filter(
            (h) => h.resourceId === e?.resourceId && h.resourceVersion < (e?.resourceVersion ?? 0) && !gone.has(h.id),
          );
          expect(earlierStillHeld, `${String(asked)} ${action}: ${sent}`).toEqual([]);
        }
      }
    }
  });

  // Carol's deletion (c1) is held; Dave, created with her userName, waits for it by name (d1, d2).
  const byName: HeldEvent[] = [user("c1", "carol", 3, "guard"), user("d1", "dave", 1, "name", "c1"), user("d2", "dave", 2, "name", "c1")];
  const nameRows: { name: string; held: HeldEvent[]; asked: string[] | "all"; action: "release" | "discard"; want: Partial<HoldPlan> }[] = [
    {
      name: "release the deletion: it goes first, then what waited for it by name",
      held: byName,
      asked: ["c1"],
      action: "release",
      want: { send: ["c1", "d1", "d2"], drop: [] },
    },
    {
      name: "discard the deletion: what waited for it by name goes out on its own",
      held: byName,
      asked: ["c1"],
      action: "discard",
      want: { send: ["d1", "d2"], drop: ["c1"] },
    },
    {
      name: "a name hold stands for no root: asking for it alone moves nothing",
      held: byName,
      asked: ["d1"],
      action: "release",
      want: { send: [], skipped: ["d1"] },
    },
    {
      // Held after an action read the held events, behind a root that action then released: any later action frees it.
      name: "a name hold whose root is no longer held is only waiting: the next action, whatever it asks, sends it",
      held: [user("d1", "dave", 1, "name", "c1"), user("x1", "xavier", 2, "guard")],
      asked: ["x1"],
      action: "discard",
      want: { send: ["d1"], drop: ["x1"] },
    },
  ];
  it.each(nameRows)("$name", ({ held: rows, asked, action, want }) => {
    expect(planHoldAction(rows, asked, action)).toMatchObject(want);
  });
});
