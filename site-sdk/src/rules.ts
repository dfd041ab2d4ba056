/**
 * The site's ordering rules (docs/webhooks.md "Order"), as pure functions a receiver calls with
 * what it keeps. Deliveries are at least once and in any order; a site that follows these ends
 * equal to the directory (users, roles, groups, memberships) whatever the order:
 *
 * 1. Verify, de-duplicate on webhook-id (verify(), then the receiver's own store).
 * 2. data.version is an integer that only grows per resource (per user id, per group id).
 * 3. Users: a change applies when its version is greater than the last applied, user.synced when
 *    it is at least that; apply data.user whole. user.deleted leaves a tombstone with its version.
 * 4. Group attributes (data.group): the same rule, per group; group.deleted leaves a tombstone.
 * 5. Memberships: per (group, user) pair, the version of the last membership event applied to it;
 *    an event sets a pair only when its version is greater. Nothing of a group whose tombstone is
 *    newer than the event applies.
 * 6. group.synced of version v, once all its parts have come: every pair of the group at most v
 *    becomes "member exactly when listed", at version v; newer pairs stay.
 * 7. A deleted user leaves each of its groups by a group.members_removed event.
 * 8. A pair may name a user the site has not seen yet: keep it.
 */
import type { GroupSynced, ScimEvent } from "./events.js";

/** Resync events: state, not change (rules 3, 4, 6). */
export function isSynced(event: ScimEvent): boolean {
  return event.type === "user.synced" || event.type === "group.synced";
}

/** Events that leave a tombstone with their version (rules 3, 4). */
export function isTombstone(event: ScimEvent): boolean {
  return event.type === "user.deleted" || event.type === "group.deleted";
}

/**
 * Rules 3 and 4: whether the event's resource state (data.user, or data.group's attributes)
 * applies, given the version last applied to that resource (a tombstone's included), or
 * undefined when the site has applied none.
 */
export function shouldApply(event: ScimEvent, lastApplied: number | undefined): boolean {
  if (lastApplied === undefined) return true;
  return isSynced(event) ? event.data.version >= lastApplied : event.data.version > lastApplied;
}

/** One (group, user) pair as an event would set it. */
export interface PairChange {
  userId: string;
  member: boolean;
}

/**
 * Rule 5: the pairs a membership event sets: group.created and group.members_added add each id in
 * data.changes.members, group.members_removed and group.deleted remove each. Other events set none
 * (group.synced sets pairs through syncedMembership, once complete).
 */
export function membershipChanges(event: ScimEvent): PairChange[] {
  switch (event.type) {
    case "group.created":
    case "group.members_added":
      return event.data.changes.members.map((userId) => ({ userId, member: true }));
    case "group.members_removed":
    case "group.deleted":
      return event.data.changes.members.map((userId) => ({ userId, member: false }));
    default:
      return [];
  }
}

/** Rule 5: nothing of a group applies when its tombstone is newer than the event. */
export function isBehindTombstone(event: ScimEvent, tombstoneVersion: number | undefined): boolean {
  return tombstoneVersion !== undefined && tombstoneVersion > event.data.version;
}

/** Rule 5: a membership event of version `version` sets a pair last set at `pairVersion` (undefined: never). */
export function shouldApplyToPair(version: number, pairVersion: number | undefined): boolean {
  return pairVersion === undefined || version > pairVersion;
}

/** Rule 6: a complete group.synced of version `version` sets a pair last set at `pairVersion`. */
export function syncAppliesToPair(version: number, pairVersion: number | undefined): boolean {
  return pairVersion === undefined || pairVersion <= version;
}

/** The parts of one group.synced version that have come so far, by part number. */
export type SyncedParts = ReadonlyMap<number, readonly string[]>;

/**
 * Rule 6: the group's members at the parts' version once parts 1 to `parts` have all come (their
 * union), or null while one is missing.
 */
export function syncedMembership(parts: SyncedParts, of: GroupSynced["data"]["parts"]): Set<string> | null {
  for (let part = 1; part <= of; part++) if (!parts.has(part)) return null;
  const members = new Set<string>();
  for (const [part, ids] of parts) if (part >= 1 && part <= of) for (const id of ids) members.add(id);
  return members;
}
