/**
 * What a write did, in words, for the provisioning log and the user's timeline ("deactivated",
 * "title: Eng → Staff", "added to Site Moderators", "role moderator → admin (userType)"). Pure:
 * the write path passes the states it read and wrote (src/users/service.ts, src/groups/service.ts)
 * and puts the lines on its log entry, so the record says what the write decided, never what a
 * reader re-derives later from text.
 */
import type { GroupState } from "./group";
import type { UserState } from "./user";

/** Changed attributes listed at most per write; the rest are counted. */
export const MAX_CHANGE_LINES = 20;
/** A value longer than this is cut, with "…". */
const MAX_VALUE_CHARS = 60;

const shorten = (s: string) => (s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s);

/** An extension schema's key ("urn:…:extension:enterprise:2.0:User") read as its short name ("enterprise"). */
function keyName(key: string): string {
  if (!key.startsWith("urn:")) return key;
  const m = /:extension:([^:]+)/.exec(key);
  return m?.[1] ?? key.slice(key.lastIndexOf(":") + 1);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** One value as a person reads it: a multi-valued attribute as its values, a reference as its value. */
function shown(v: unknown): string {
  if (v === undefined || v === null) return "(none)";
  if (typeof v === "string") return v === "" ? '""' : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "(none)";
    return v
      .map((item) =>
        isObject(item) && item.value !== undefined ? `${shown(item.value)}${item.primary === true ? " (primary)" : ""}` : shown(item),
      )
      .join(", ");
  }
  if (isObject(v) && v.value !== undefined) return shown(v.value);
  return JSON.stringify(v);
}

/**
 * The leaves of a SCIM document by dotted path: sub-attributes of a complex attribute (name,
 * an extension) are their own leaves; a multi-valued attribute (emails) and a reference (manager)
 * are one leaf each. `$ref` is derived from the value and left out.
 */
function leaves(doc: Record<string, unknown>, prefix = "", out = new Map<string, unknown>(), depth = 0): Map<string, unknown> {
  for (const [key, value] of Object.entries(doc)) {
    if (key === "$ref") continue;
    const path = `${prefix}${keyName(key)}`;
    if (isObject(value) && value.value === undefined && depth < 3) leaves(value, `${path}.`, out, depth + 1);
    else out.set(path, value);
  }
  return out;
}

/** "title: Eng → Staff" for each attribute that differs, in path order; `skip` names top-level keys left out. */
export function describeAttributes(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  skip: readonly string[] = [],
): string[] {
  const strip = (d: Record<string, unknown>) => Object.fromEntries(Object.entries(d).filter(([k]) => !skip.includes(k)));
  const a = leaves(strip(before));
  const b = leaves(strip(after));
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const lines: string[] = [];
  for (const path of paths) {
    const from = shown(a.get(path));
    const to = shown(b.get(path));
    if (from !== to) lines.push(`${path}: ${shorten(from)} → ${shorten(to)}`);
  }
  if (lines.length <= MAX_CHANGE_LINES) return lines;
  return [...lines.slice(0, MAX_CHANGE_LINES), `and ${lines.length - MAX_CHANGE_LINES} more attributes changed`];
}

/** A role change in words, with the source that asked for it when the decision named one. */
export const roleWords = (from: string, to: string, via?: string): string => `role ${from} → ${to}${via ? ` (${via})` : ""}`;

/**
 * A user write: created, deleted, deactivated or reactivated, each attribute that changed (from
 * → to), and the role. `via` is where the new role came from (the role decision's source).
 */
export function describeUserChange(before: UserState | null, after: UserState | null, via?: string): string[] {
  if (after === null) return before === null ? [] : ["deleted"];
  const lines: string[] = [];
  if (before === null) {
    lines.push(after.active ? "created" : "created (deactivated)");
    if (after.role !== "registered") lines.push(roleWords("registered", after.role, via));
    return lines;
  }
  if (before.active !== after.active) lines.push(after.active ? "reactivated" : "deactivated");
  lines.push(...describeAttributes(before.data, after.data, ["active", "password"]));
  if (before.role !== after.role) lines.push(roleWords(before.role, after.role, via));
  return lines;
}

const groupNameOf = (g: Pick<GroupState, "data" | "id">) => (typeof g.data.displayName === "string" ? g.data.displayName : g.id);

/**
 * A group write, in words for the group's own row, and what it did to each member it added or
 * removed (for those users' timelines): "added to Site Moderators", "removed from Site Moderators".
 */
export function describeGroupChange(
  before: GroupState | null,
  after: GroupState | null,
  members: { added: readonly string[]; removed: readonly string[] },
): { lines: string[]; related: { id: string; did: string }[] } {
  const count = (n: number) => `${n} ${n === 1 ? "member" : "members"}`;
  if (after === null) {
    const name = before ? groupNameOf(before) : "";
    return {
      lines: [members.removed.length ? `deleted (it had ${count(members.removed.length)})` : "deleted"],
      related: members.removed.map((id) => ({ id, did: `removed from ${name} (group deleted)` })),
    };
  }
  const name = groupNameOf(after);
  const lines: string[] = [];
  if (before === null) lines.push(members.added.length ? `created with ${count(members.added.length)}` : "created");
  else lines.push(...describeAttributes(before.data, after.data, ["members"]));
  if (before !== null && members.added.length) lines.push(`added ${count(members.added.length)}`);
  if (members.removed.length) lines.push(`removed ${count(members.removed.length)}`);
  return {
    lines,
    related: [
      ...members.added.map((id) => ({ id, did: `added to ${name}` })),
      ...members.removed.map((id) => ({ id, did: `removed from ${name}` })),
    ],
  };
}
