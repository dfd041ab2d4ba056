/**
 * A replica of the directory kept from verified deliveries exactly as the ordering rules say
 * (./rules.ts): users, their roles, groups and memberships, in memory. The reference receiver and
 * the service's own tests use it; a real site keeps the same few numbers (last applied version
 * per user, per group, per membership pair, and recent webhook-ids) in its database.
 */
import { isGroupEvent, isUserEvent, type Role, type ScimEvent, type ScimGroup, type ScimUser } from "./events.js";
import {
  isBehindTombstone,
  isTombstone,
  membershipChanges,
  shouldApply,
  shouldApplyToPair,
  syncAppliesToPair,
  syncedMembership,
} from "./rules.js";
import type { Delivery } from "./verify.js";

/**
 * applied: the event changed what the site holds (in whole or in part: a group event may be stale
 * for the group's attributes and still set a membership pair) · stale: nothing of it applies, a
 * newer version is already there · duplicate: this webhook-id was applied before · partial: a part
 * of a group.synced, kept until all parts of its version have come · ignored: a type this SDK
 * does not know.
 */
export type Outcome = "applied" | "stale" | "duplicate" | "partial" | "ignored";

/** What the site may answer a synced delivery with: its own view of the resource after applying it. */
export interface SiteView {
  version?: number;
  active?: boolean;
  role?: Role;
}

export interface ApplyResult {
  outcome: Outcome;
  /** For user.synced and group.synced: the view to answer with (the service's resync compares it). */
  view?: SiteView;
}

/** The directory as the replica holds it: live users and groups, each group's member ids sorted. */
export interface DirectorySnapshot {
  users: Record<string, ScimUser>;
  groups: Record<string, { group: ScimGroup; members: string[] }>;
}

interface Kept<T> {
  version: number;
  /** null: a tombstone (deleted at `version`). */
  value: T | null;
}

interface Pair {
  version: number;
  member: boolean;
}

export interface Replica {
  /** Applies one verified delivery (verify()'s result, or any { id, event }). */
  apply(delivery: Pick<Delivery, "id" | "event">): ApplyResult;
  user(id: string): ScimUser | undefined;
  group(id: string): ScimGroup | undefined;
  /** A live group's member ids (users the site has not seen yet included: rule 8). */
  members(groupId: string): string[];
  /** The view of one resource the site would answer a synced delivery with. */
  view(kind: "user" | "group", id: string): SiteView;
  snapshot(): DirectorySnapshot;
}

export function createReplica(): Replica {
  const users = new Map<string, Kept<ScimUser>>();
  const groups = new Map<string, Kept<ScimGroup>>();
  const pairs = new Map<string, Map<string, Pair>>();
  /** group id → version → part number → ids: group.synced parts not yet complete. */
  const parts = new Map<string, Map<number, Map<number, string[]>>>();
  const seen = new Set<string>();

  const pairsOf = (groupId: string): Map<string, Pair> => {
    let map = pairs.get(groupId);
    if (!map) {
      map = new Map();
      pairs.set(groupId, map);
    }
    return map;
  };

  function view(kind: "user" | "group", id: string): SiteView {
    if (kind === "group") {
      const g = groups.get(id);
      return g ? { version: g.version } : {};
    }
    const u = users.get(id);
    if (!u) return {};
    return u.value ? { version: u.version, active: u.value.active, role: u.value.roles[0]?.value } : { version: u.version };
  }

  function members(groupId: string): string[] {
    if (!groups.get(groupId)?.value) return [];
    return [...(pairs.get(groupId) ?? [])]
      .filter(([, p]) => p.member)
      .map(([userId]) => userId)
      .sort();
  }

  /** Rule 6: records a part; once its version is complete, sets the group's pairs. False while incomplete. */
  function applySyncedPart(event: Extract<ScimEvent, { type: "group.synced" }>): boolean {
    const { id, version, part, parts: of, members: ids } = event.data;
    const byVersion = parts.get(id) ?? new Map<number, Map<number, string[]>>();
    parts.set(id, byVersion);
    const got = byVersion.get(version) ?? new Map<number, string[]>();
    byVersion.set(version, got);
    got.set(part, ids);
    const listed = syncedMembership(got, of);
    if (listed === null) return false;
    for (const v of [...byVersion.keys()]) if (v <= version) byVersion.delete(v);
    const groupPairs = pairsOf(id);
    for (const userId of new Set([...groupPairs.keys(), ...listed])) {
      if (syncAppliesToPair(version, groupPairs.get(userId)?.version)) groupPairs.set(userId, { version, member: listed.has(userId) });
    }
    return true;
  }

  function applyUser(event: Extract<ScimEvent, { data: { user: ScimUser } }>): Outcome {
    if (!shouldApply(event, users.get(event.data.id)?.version)) return "stale";
    users.set(event.data.id, { version: event.data.version, value: isTombstone(event) ? null : event.data.user });
    return "applied";
  }

  function applyGroup(event: Extract<ScimEvent, { data: { group: ScimGroup } }>): Outcome {
    const { id, version } = event.data;
    const kept = groups.get(id);
    let applied = false;
    if (shouldApply(event, kept?.version)) {
      groups.set(id, { version, value: isTombstone(event) ? null : event.data.group });
      applied = true;
    }
    if (isBehindTombstone(event, kept && kept.value === null ? kept.version : undefined)) return applied ? "applied" : "stale";
    if (event.type === "group.synced") return applySyncedPart(event) ? "applied" : "partial";
    const groupPairs = pairsOf(id);
    for (const change of membershipChanges(event)) {
      if (!shouldApplyToPair(version, groupPairs.get(change.userId)?.version)) continue;
      groupPairs.set(change.userId, { version, member: change.member });
      applied = true;
    }
    return applied ? "applied" : "stale";
  }

  return {
    apply({ id, event }) {
      if (seen.has(id)) return { outcome: "duplicate" };
      seen.add(id);
      if (event === null) return { outcome: "ignored" };
      let outcome: Outcome;
      if (isUserEvent(event)) outcome = applyUser(event);
      else if (isGroupEvent(event)) outcome = applyGroup(event);
      else return { outcome: "ignored" };
      if (event.type === "user.synced") return { outcome, view: view("user", event.data.id) };
      // A part before the last says nothing yet: the group's view is answered with the last part.
      if (event.type === "group.synced" && outcome !== "partial") return { outcome, view: view("group", event.data.id) };
      return { outcome };
    },
    user: (id) => users.get(id)?.value ?? undefined,
    group: (id) => groups.get(id)?.value ?? undefined,
    members,
    view,
    snapshot() {
      const out: DirectorySnapshot = { users: {}, groups: {} };
      for (const [id, u] of users) if (u.value) out.users[id] = u.value;
      for (const [id, g] of groups) if (g.value) out.groups[id] = { group: g.value, members: members(id) };
      return out;
    },
  };
}
