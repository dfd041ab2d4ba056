// The main site's side of the webhook contract (docs/webhooks.md), as an in-memory replica of
// the directory: what a site keeps of users and groups from verified events. Used by the reference
// receiver (scripts/receiver.mjs) and by the tests' stand-in sites.
//
// Rules (docs/webhooks.md "Ordering"): de-duplicate on webhook-id; a user's or a group's state
// applies when its version is greater than the last applied to that resource (at least, for a
// synced event); a membership applies per (group, user) pair when the event's version is greater
// than the last version applied to that pair; a group.synced's parts, once all of one version have
// come, set every pair of that group not newer than it.

/** @typedef {{ type: string, data: { id: string, version: number, [k: string]: unknown } }} Event */
/** @typedef {{ version?: number, active?: boolean, role?: string }} View */
/** @typedef {"applied" | "stale" | "duplicate" | "partial" | "ignored"} Outcome */

const SYNCED = new Set(["user.synced", "group.synced"]);
const ADDS = new Set(["group.created", "group.members_added"]);
const REMOVES = new Set(["group.members_removed", "group.deleted"]);

export function createReplica() {
  /** @type {Map<string, { version: number, user: Record<string, unknown> | null }>} */
  const users = new Map();
  /** @type {Map<string, { version: number, group: Record<string, unknown> | null }>} */
  const groups = new Map();
  /** Per group, per user: the version of the last membership event applied to the pair, and its outcome. */
  /** @type {Map<string, Map<string, { version: number, member: boolean }>>} */
  const pairs = new Map();
  /** @type {Map<string, { version: number, parts: Map<number, string[]>, of: number }>} */
  const partial = new Map();
  /** @type {Set<string>} */
  const seen = new Set();

  const roleOf = (user) => (Array.isArray(user?.roles) && typeof user.roles[0]?.value === "string" ? user.roles[0].value : undefined);

  /** What the site would answer a synced delivery with: its own view of the resource now. */
  function view(type, id) {
    if (type.startsWith("user.")) {
      const u = users.get(id);
      if (!u) return {};
      return { version: u.version, ...(u.user ? { active: u.user.active === true, role: roleOf(u.user) } : {}) };
    }
    const g = groups.get(id);
    return g ? { version: g.version } : {};
  }

  function pairsOf(groupId) {
    let map = pairs.get(groupId);
    if (!map) {
      map = new Map();
      pairs.set(groupId, map);
    }
    return map;
  }

  /** The group's members: the pairs whose last applied event left the user a member. */
  function membersOf(groupId) {
    return new Set([...pairsOf(groupId)].filter(([, p]) => p.member).map(([userId]) => userId));
  }

  /** The group's attributes (and tombstone), applied when newer (at least as new, for synced). */
  function applyGroupState(data, deleted, synced) {
    const last = groups.get(data.id)?.version;
    if (last !== undefined && (synced ? data.version < last : data.version <= last)) return false;
    groups.set(data.id, { version: data.version, group: deleted ? null : (data.group ?? null) });
    return true;
  }

  function setPair(groupId, userId, version, member) {
    const map = pairsOf(groupId);
    const last = map.get(userId);
    if (last && version <= last.version) return false;
    map.set(userId, { version, member });
    return true;
  }

  function applyGroupSynced(data) {
    const part = Number(data.part ?? 1);
    const of = Number(data.parts ?? 1);
    let pending = partial.get(data.id);
    if (!pending || pending.version !== data.version) {
      pending = { version: data.version, parts: new Map(), of };
      partial.set(data.id, pending);
    }
    pending.parts.set(part, Array.isArray(data.members) ? data.members.map(String) : []);
    if (pending.parts.size < of) return "partial";
    partial.delete(data.id);
    const tomb = groups.get(data.id);
    if (tomb && tomb.group === null && tomb.version > data.version) return "stale";
    const listed = new Set([...pending.parts.values()].flat());
    const map = pairsOf(data.id);
    for (const [userId, p] of map) if (p.version <= data.version) map.set(userId, { version: data.version, member: listed.has(userId) });
    for (const userId of listed) if (!map.has(userId)) map.set(userId, { version: data.version, member: true });
    applyGroupState(data, false, true);
    return "applied";
  }

  function applyGroupChange(type, data) {
    const tomb = groups.get(data.id);
    // A deleted group's older membership events change nothing.
    if (tomb && tomb.group === null && tomb.version >= data.version) return "stale";
    const changed = Array.isArray(data.changes?.members) ? data.changes.members.map(String) : [];
    let any = false;
    for (const userId of changed) {
      if (ADDS.has(type)) any = setPair(data.id, userId, data.version, true) || any;
      if (REMOVES.has(type)) any = setPair(data.id, userId, data.version, false) || any;
    }
    const deleted = type === "group.deleted";
    if (deleted) for (const [userId, p] of pairsOf(data.id)) if (p.version < data.version) setPair(data.id, userId, data.version, false);
    const state = applyGroupState(data, deleted, false);
    return state || any ? "applied" : "stale";
  }

  function applyUser(type, data) {
    const synced = type === "user.synced";
    const last = users.get(data.id)?.version;
    if (last !== undefined && (synced ? data.version < last : data.version <= last)) return "stale";
    users.set(data.id, { version: data.version, user: type === "user.deleted" ? null : (data.user ?? null) });
    return "applied";
  }

  return {
    users,
    /** Each group's state and members, as the site holds them now. */
    get groups() {
      const out = new Map();
      for (const [id, g] of groups) out.set(id, { ...g, members: g.group === null ? new Set() : membersOf(id) });
      return out;
    },
    /**
     * Applies one verified event delivered under `webhookId`; says what it did, and (for synced
     * events) the view to answer with.
     * @param {string} webhookId
     * @param {Event} event
     * @returns {{ outcome: Outcome, view?: View }}
     */
    apply(webhookId, event) {
      if (seen.has(webhookId)) return { outcome: "duplicate" };
      seen.add(webhookId);
      const { type, data } = event;
      if (typeof type !== "string" || typeof data?.id !== "string" || !Number.isInteger(data.version)) return { outcome: "ignored" };
      const synced = SYNCED.has(type);
      let outcome;
      if (type.startsWith("user.")) outcome = applyUser(type, data);
      else if (type === "group.synced") outcome = applyGroupSynced(data);
      else outcome = applyGroupChange(type, data);
      if (outcome === "partial") return { outcome };
      return { outcome, ...(synced ? { view: view(type, data.id) } : {}) };
    },
  };
}
