/**
 * The mass-deprovisioning guard holds a *user*, not one event (SPEC §9, docs/operations.md "The
 * deprovisioning guard"). While a user's deactivation or deletion is held, nothing reaches the
 * site that says or implies the user is inactive or deleted, and nothing is lost:
 *
 * - guard: a user.deactivated / user.deleted past the hourly threshold is held (the root).
 * - user: every later event of a user with a held event waits behind it and shares its fate.
 * - cascade: the group.members_removed events a held deletion emits share its fate too.
 * - wait: a later event of a group with a held event waits behind it, only to keep the group's
 *   events in version order; it goes out as soon as nothing before it is held.
 * - name: every event of a new user whose userName a held deletion freed (and its later events)
 *   waits for that deletion: the site, which knows people by userName, never holds two active
 *   accounts with one name. It goes out once the deletion is released (after it) or discarded.
 *
 * Release sends a root with everything that shares its fate, in version order, then what waited
 * for it by name; Discard drops them (never delivered) and lets what only waited go out.
 */
import type { HoldKind } from "../lifecycle/events";

export interface HeldEvent {
  id: string;
  resourceType: string;
  resourceId: string;
  resourceVersion: number;
  hold: HoldKind;
  /** The root (guard-held event) a user or cascade hold shares fate with, or a name hold waits for. */
  heldBy: string | null;
}

export interface HoldPlan {
  /** Events that go out now (to pending), in resource and version order. */
  send: string[];
  /** Events dropped for good (discarded). */
  drop: string[];
  /** Events that stay held but now only wait for an earlier held event of their resource. */
  toWait: string[];
  /** Roots acted on. */
  roots: string[];
  /** Asked-for ids that are not held roots or their followers (unknown, or no longer held). */
  skipped: string[];
}

/** The root a held event shares its fate with; name and wait holds share none (they only wait). */
const sharesFate = (e: HeldEvent): boolean => e.hold === "guard" || e.hold === "user" || e.hold === "cascade";
const rootOf = (e: HeldEvent): string => (e.hold === "user" || e.hold === "cascade" ? (e.heldBy ?? e.id) : e.id);
const resourceKey = (e: HeldEvent): string => `${e.resourceType}:${e.resourceId}`;

/**
 * Pure: what releasing or discarding `asked` (event ids, or "all") does to the held events.
 * An asked id may be a root or any event sharing its fate; it stands for the whole root.
 * A released event never overtakes a still-held earlier event of its own resource: it then
 * waits behind that one instead (becomes a wait hold). Events that waited by name for an acted-on
 * root go out after everything else the action sends.
 */
export function planHoldAction(held: readonly HeldEvent[], asked: readonly string[] | "all", action: "release" | "discard"): HoldPlan {
  const byId = new Map(held.map((e) => [e.id, e]));
  const roots = new Set<string>();
  const skipped: string[] = [];
  if (asked === "all") {
    for (const e of held) if (sharesFate(e)) roots.add(rootOf(e));
  } else {
    for (const id of asked) {
      const e = byId.get(id);
      if (!e || !sharesFate(e)) skipped.push(id);
      else roots.add(rootOf(e));
    }
  }
  const shares = (e: HeldEvent) => sharesFate(e) && roots.has(rootOf(e));
  // A wait hold waits for its resource's earlier events; a name hold for its root: acted on here, or
  // no longer held at all (released or discarded by an action that read before this event was held).
  const rootGone = (e: HeldEvent) => e.heldBy === null || roots.has(e.heldBy) || !byId.has(e.heldBy);
  const onlyWaits = (e: HeldEvent) => e.hold === "wait" || (e.hold === "name" && rootGone(e));

  const perResource = new Map<string, HeldEvent[]>();
  for (const e of held) {
    const list = perResource.get(resourceKey(e)) ?? [];
    list.push(e);
    perResource.set(resourceKey(e), list);
  }
  const send: string[] = [];
  const sendAfter: string[] = [];
  const drop: string[] = [];
  const toWait: string[] = [];
  for (const list of perResource.values()) {
    list.sort((a, b) => a.resourceVersion - b.resourceVersion);
    // Walk the resource's held events in version order: everything before the first event that
    // stays held may go; after it, released ones wait behind it and discarded ones still drop.
    let blocked = false;
    for (const e of list) {
      if (shares(e) && action === "discard") {
        drop.push(e.id);
      } else if (shares(e) || (onlyWaits(e) && !blocked)) {
        if (blocked) toWait.push(e.id);
        else (e.hold === "name" ? sendAfter : send).push(e.id);
      } else {
        blocked = true;
      }
    }
  }
  return { send: [...send, ...sendAfter], drop, toWait, roots: [...roots], skipped };
}
