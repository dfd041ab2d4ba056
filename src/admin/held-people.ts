/**
 * The deprovisioning guard, by person (SPEC §9, docs/operations.md "The deprovisioning guard"):
 * held events grouped by the user they hold, why (the hour's count against the threshold, as the
 * guard saw it), what the directory says about that user now, and what each safe bulk action
 * would do, in numbers, before it is done. Pure: the reads are src/db/held.ts, the planner is
 * src/events/hold.ts (this only chooses which roots to hand it and counts what it answers).
 */
import type { HeldDetail, HeldUserNow } from "../db/held";
import { type HeldEvent, type HoldPlan, planHoldAction } from "../events/hold";
import type { HoldKind } from "../lifecycle/events";

/** People listed per answer at most; the counts always cover everyone. */
export const HELD_PEOPLE_LISTED = 200;

/** What the guard saw when it held a deactivation or deletion (events.guard_seen, src/events/outbox.ts). */
interface GuardSaw {
  /** Deactivations and deletions already in the hour when this one came. */
  countBefore: number;
  maxPerHour: number;
  /** Users active when the guard's hour began (its 10% is the other floor). */
  activeAtHourStart: number;
  /** What the hour lets through: the larger of maxPerHour and 10% of activeAtHourStart. */
  threshold: number;
}

type Why =
  | { kind: "guard"; saw: GuardSaw | null }
  /** Waits for the deletion of another user who had this userName (a held deletion freed it). */
  | { kind: "name"; waitsFor: { userId: string; userName: string | null } | null }
  /** Waits behind a held event of its own (a hold recorded before the reason was). */
  | { kind: "behind" };

type DirectoryNow = "active" | "inactive" | "deleted";

export interface HeldPerson {
  userId: string;
  userName: string | null;
  displayName: string | null;
  email: string | null;
  /** When the first of its held events was made. */
  since: string;
  /** Its guard-held deactivation or deletion, if the guard held one of its own. */
  rootId: string | null;
  why: Why;
  events: { id: string; type: string; version: number; hold: HoldKind; createdAt: string }[];
  /** group.members_removed events its held deletion caused, sharing its fate. */
  groupEvents: number;
  directory: DirectoryNow;
  /** Its held events change more than its status (a profile or role change would be lost by a discard). */
  changedSince: boolean;
  /** Active in the directory again and nothing but its status held: discarding loses nothing. */
  reactivated: boolean;
}

export type Scope =
  | { kind: "reactivated" }
  | { kind: "rest" }
  | { kind: "all" }
  | { kind: "users"; ids: readonly string[] }
  | { kind: "ids"; ids: readonly string[] };

/** What an action over a scope would do, in numbers and in words, with a token that names exactly this plan. */
export interface PlanSummary {
  action: "release" | "discard";
  /** People whose held changes it acts on (the roots' users). */
  people: number;
  /** Their names, the first HELD_PEOPLE_LISTED. */
  names: string[];
  /** Held deactivations and deletions it sends or drops, by type. */
  deactivations: number;
  deletions: number;
  /** Their other held changes (after the root, same user) it sends or drops. */
  followers: number;
  /** group.members_removed of held deletions it sends or drops. */
  groupChanges: number;
  /** Group changes that only waited, sent now. */
  unblocked: number;
  /** Changes of other users that waited for a freed userName, sent now (after the deletion). */
  nameWaiters: number;
  /** Changes it leaves held, waiting behind changes still held. */
  stillWaiting: number;
  /** Asked-for ids that are not held (or not a hold's root or follower). */
  skipped: string[];
  /** The event ids it moves: send, drop and toWait (what the token hashes). */
  plan: Pick<HoldPlan, "send" | "drop" | "toWait">;
  /** One sentence that says exactly what it will do. */
  summary: string;
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The guard's numbers from its stored JSON; null when it recorded none (a hold made by a dry run's redelivery, or older). */
function guardSawOf(json: string | null): GuardSaw | null {
  if (json === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const o = record(value);
  const countBefore = num(o?.countBefore);
  const maxPerHour = num(o?.maxPerHour);
  const activeAtHourStart = num(o?.activeAtHourStart);
  if (countBefore === null || maxPerHour === null || activeAtHourStart === null) return null;
  return { countBefore, maxPerHour, activeAtHourStart, threshold: Math.max(maxPerHour, Math.floor(activeAtHourStart / 10)) };
}

const STATUS_ONLY = new Set(["user.deactivated", "user.reactivated"]);
const holdOf = (e: HeldDetail): HoldKind => e.hold ?? "guard";

/** The planner's view of the held events (src/events/hold.ts); rows held before kinds were recorded are guard holds. */
const plannerView = (held: readonly HeldDetail[]): HeldEvent[] =>
  held.map((e) => ({
    id: e.id,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    resourceVersion: e.resourceVersion,
    hold: holdOf(e),
    heldBy: e.heldBy,
  }));

/** Held events grouped by the user they hold, oldest first, with what the directory says now. */
export function heldPeople(held: readonly HeldDetail[], now: readonly HeldUserNow[]): HeldPerson[] {
  const directory = new Map(now.map((u) => [u.id, u]));
  const byId = new Map(held.map((e) => [e.id, e]));
  const people = new Map<string, HeldPerson>();
  const cascades = new Map<string, number>();
  for (const e of held) {
    if (e.resourceType !== "User") {
      if (holdOf(e) === "cascade" && e.heldBy) cascades.set(e.heldBy, (cascades.get(e.heldBy) ?? 0) + 1);
      continue;
    }
    let p = people.get(e.resourceId);
    if (!p) {
      const row = directory.get(e.resourceId);
      p = {
        userId: e.resourceId,
        userName: e.userName,
        displayName: e.displayName,
        email: e.email,
        since: e.createdAt,
        rootId: null,
        why: { kind: "behind" },
        events: [],
        groupEvents: 0,
        directory: row === undefined ? "deleted" : row.active ? "active" : "inactive",
        changedSince: false,
        reactivated: false,
      };
      people.set(e.resourceId, p);
    }
    const hold = holdOf(e);
    p.events.push({ id: e.id, type: e.type, version: e.resourceVersion, hold, createdAt: e.createdAt });
    // The newest held event carries the names the site would be told.
    p.userName = e.userName ?? p.userName;
    p.displayName = e.displayName;
    p.email = e.email ?? p.email;
    if (hold === "guard" && p.rootId === null) {
      p.rootId = e.id;
      p.why = { kind: "guard", saw: guardSawOf(e.guardSeen) };
    } else if (hold === "name" && p.why.kind === "behind") {
      const root = e.heldBy ? byId.get(e.heldBy) : undefined;
      p.why = { kind: "name", waitsFor: root ? { userId: root.resourceId, userName: root.userName } : null };
    }
    if (e.type === "user.deleted") p.directory = "deleted";
  }
  for (const p of people.values()) {
    p.events.sort((a, b) => a.version - b.version);
    p.groupEvents = p.rootId ? (cascades.get(p.rootId) ?? 0) : 0;
    p.changedSince = p.events.some((e) => e.id !== p.rootId && !STATUS_ONLY.has(e.type));
    const root = p.events.find((e) => e.id === p.rootId);
    p.reactivated = p.directory === "active" && root?.type === "user.deactivated" && !p.changedSince && p.groupEvents === 0;
  }
  return [...people.values()].sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));
}

/** The root ids a scope stands for (an id of ids is passed as asked: the planner reads it as its root). */
function askedOf(scope: Scope, people: readonly HeldPerson[]): readonly string[] | "all" {
  const roots = (ps: readonly HeldPerson[]) => ps.flatMap((p) => (p.rootId ? [p.rootId] : []));
  switch (scope.kind) {
    case "all":
      return "all";
    case "reactivated":
      return roots(people.filter((p) => p.reactivated));
    case "rest":
      return roots(people.filter((p) => !p.reactivated));
    case "users": {
      const wanted = new Set(scope.ids);
      return roots(people.filter((p) => wanted.has(p.userId)));
    }
    case "ids":
      return scope.ids;
  }
}

const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** What acting on `scope` would do, counted from the planner's own answer. */
export function planFor(
  action: "release" | "discard",
  scope: Scope,
  held: readonly HeldDetail[],
  people: readonly HeldPerson[],
): PlanSummary {
  const asked = askedOf(scope, people);
  const plan = planHoldAction(plannerView(held), asked, action);
  const byId = new Map(held.map((e) => [e.id, e]));
  const roots = new Set(plan.roots);
  const moved = [...plan.send, ...plan.drop].flatMap((id) => {
    const e = byId.get(id);
    return e ? [e] : [];
  });
  const sharesRoot = (e: HeldDetail) => {
    const hold = holdOf(e);
    return hold === "guard" || hold === "user" || hold === "cascade";
  };
  const rootEvents = moved.filter((e) => roots.has(e.id));
  const actedPeople = people.filter((p) => p.rootId !== null && roots.has(p.rootId));
  const summary: Omit<PlanSummary, "summary"> = {
    action,
    people: actedPeople.length,
    names: actedPeople.slice(0, HELD_PEOPLE_LISTED).map((p) => p.userName ?? p.userId),
    deactivations: rootEvents.filter((e) => e.type === "user.deactivated").length,
    deletions: rootEvents.filter((e) => e.type === "user.deleted").length,
    followers: moved.filter((e) => !roots.has(e.id) && sharesRoot(e) && e.resourceType === "User").length,
    groupChanges: moved.filter((e) => holdOf(e) === "cascade").length,
    unblocked: moved.filter((e) => holdOf(e) === "wait").length,
    nameWaiters: moved.filter((e) => holdOf(e) === "name").length,
    stillWaiting: plan.toWait.length,
    skipped: plan.skipped,
    plan: { send: plan.send, drop: plan.drop, toWait: plan.toWait },
  };
  return { ...summary, summary: sentence(summary) };
}

/** The plan in one sentence, numbers first: what the admin reads before confirming. */
function sentence(s: Omit<PlanSummary, "summary">): string {
  if (s.people === 0) return "Nothing to do: no held change matches.";
  const roots = [
    s.deactivations ? n(s.deactivations, "deactivation", "deactivations") : "",
    s.deletions ? n(s.deletions, "deletion", "deletions") : "",
  ]
    .filter(Boolean)
    .join(" and ");
  const own = s.followers ? `, and ${n(s.followers, "later change", "later changes")} of the same people` : "";
  const groups = s.groupChanges ? `, with ${n(s.groupChanges, "group change", "group changes")} the deletions caused` : "";
  const who = n(s.people, "person", "people");
  const after = [
    s.unblocked ? `${n(s.unblocked, "group change", "group changes")} that only waited behind them go out` : "",
    s.nameWaiters ? `${n(s.nameWaiters, "change", "changes")} of users re-created with a freed userName go out` : "",
    s.stillWaiting ? `${n(s.stillWaiting, "change stays", "changes stay")} held behind changes still held` : "",
  ].filter(Boolean);
  const tail = after.length ? ` Then ${after.join("; ")}.` : "";
  if (s.action === "discard") {
    return `Discard the held changes of ${who}: ${roots}${own}${groups}, never delivered. The site keeps ${s.people === 1 ? "this person" : "them"} as it knew ${s.people === 1 ? "them" : "them"} before.${tail}`;
  }
  return `Release the held changes of ${who}: the site receives ${roots}${own}${groups}, in order.${tail}`;
}
