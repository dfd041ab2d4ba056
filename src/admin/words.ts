import { roleWords } from "../resources/describe";

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const count = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;

/**
 * What an event told (or will tell) the site, in words, from its own payload's `changes` (SPEC §9:
 * every event carries them): "deactivated", "role registered → moderator", "changed: title". The
 * request that made the event says the values (its log row's words); the event says what was sent.
 */
export function eventWords(type: string, payload: unknown): string[] {
  const data = record(record(payload)?.data);
  const changes = record(data?.changes);
  switch (type) {
    case "user.created":
      return ["created"];
    case "user.deactivated":
      return ["deactivated"];
    case "user.reactivated":
      return ["reactivated"];
    case "user.deleted":
      return ["deleted"];
    case "user.updated": {
      const attributes = strings(changes?.attributes);
      return [attributes.length ? `changed: ${attributes.join(", ")}` : "changed"];
    }
    case "user.role_changed": {
      const role = record(changes?.role);
      const from = typeof role?.from === "string" ? role.from : "?";
      const to = typeof role?.to === "string" ? role.to : "?";
      return [roleWords(from, to)];
    }
    case "user.synced":
    case "group.synced":
      return ["its whole current state (resync)"];
    case "group.created":
      return [`created with ${count(strings(changes?.members).length, "member")}`];
    case "group.updated": {
      const attributes = strings(changes?.attributes);
      return [attributes.length ? `changed: ${attributes.join(", ")}` : "changed"];
    }
    case "group.deleted":
      return ["deleted"];
    case "group.members_added":
      return [`${count(strings(changes?.members).length, "member")} added`];
    case "group.members_removed":
      return [`${count(strings(changes?.members).length, "member")} removed`];
    default:
      return [];
  }
}

/** The reason a role_changed event carries ("role changed: registered → moderator (userType)"), if any. */
export function eventReason(payload: unknown): string | null {
  const reason = record(record(record(payload)?.data)?.changes)?.reason;
  return typeof reason === "string" && reason !== "" ? reason : null;
}
