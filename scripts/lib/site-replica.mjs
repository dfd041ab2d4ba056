// The main site's side of the webhook contract (docs/webhooks.md), as an in-memory replica of
// the directory: what a site keeps of users and groups from verified events. Used by the reference
// receiver (scripts/receiver.mjs) and by the resync tests' stand-in site.
//
// Rules: de-duplicate on webhook-id; a change event applies when its version is greater than the
// last one applied to that resource; a synced event (user.synced, group.synced: a resync's full
// state) applies when its version is at least the last one applied. A group.synced comes in
// `parts`; the group's members become the union of the parts of one version once all have come.

/** @typedef {{ type: string, data: { id: string, version: number, [k: string]: unknown } }} Event */
/** @typedef {{ version?: number, active?: boolean, role?: string }} View */
/** @typedef {"applied" | "stale" | "duplicate" | "partial" | "ignored"} Outcome */

const SYNCED = new Set(["user.synced", "group.synced"]);

export function createReplica() {
  /** @type {Map<string, { version: number, user: Record<string, unknown> | null }>} */
  const users = new Map();
  /** @type {Map<string, { version: number, group: Record<string, unknown> | null, members: Set<string> }>} */
  const groups = new Map();
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
    groups.set(data.id, { version: data.version, group: data.group ?? null, members: new Set([...pending.parts.values()].flat()) });
    return "applied";
  }

  function applyChange(type, data) {
    if (type.startsWith("user.")) {
      users.set(data.id, { version: data.version, user: type === "user.deleted" ? null : (data.user ?? null) });
      return;
    }
    const before = groups.get(data.id);
    const members = new Set(before?.members ?? []);
    const changed = Array.isArray(data.changes?.members) ? data.changes.members.map(String) : [];
    if (type === "group.created") for (const m of changed) members.add(m);
    if (type === "group.members_added") for (const m of changed) members.add(m);
    if (type === "group.members_removed") for (const m of changed) members.delete(m);
    groups.set(data.id, { version: data.version, group: type === "group.deleted" ? null : (data.group ?? null), members });
  }

  return {
    users,
    groups,
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
      if (typeof type !== "string" || typeof data?.id !== "string" || typeof data.version !== "number") return { outcome: "ignored" };
      const synced = SYNCED.has(type);
      const last = (type.startsWith("user.") ? users : groups).get(data.id)?.version;
      const fresh = last === undefined || (synced ? data.version >= last : data.version > last);
      if (!fresh) return { outcome: "stale", ...(synced ? { view: view(type, data.id) } : {}) };
      if (type === "group.synced") {
        // A part before the last says nothing yet: the group's members change with the last part.
        const outcome = applyGroupSynced(data);
        return outcome === "partial" ? { outcome } : { outcome, view: view(type, data.id) };
      }
      if (type === "user.synced") users.set(data.id, { version: data.version, user: data.user ?? null });
      else applyChange(type, data);
      return { outcome: "applied", ...(synced ? { view: view(type, data.id) } : {}) };
    },
  };
}
