import { Hono } from "hono";
import * as z from "zod/mini";
import { getDb } from "../db/client";
import { LOG_OUTCOMES, type LogRow, listLog, logOfResource, type NamedLogRow } from "../db/log";
import { deletedUserByEmail, deletedUserByName, groupsOfUser, relatedLogOf, selectTimelineUser, TIMELINE_GROUPS } from "../db/timeline";
import type { AppEnv } from "../env";
import { type EventRow, eventsOfResource } from "../events/store";
import { query, queryObject, validate } from "../http/validate";
import { foldCase } from "../scim/text";
import { eventSummary } from "./events";
import { eventReason, eventWords } from "./words";

const MAX_LIMIT = 200;
const MAX_TEXT = 200;

const logQuery = queryObject({
  limit: query.int(1, MAX_LIMIT, 50),
  cursor: query.cursor(),
  resourceId: query.optional(query.text(MAX_TEXT)),
  q: query.optional(query.text(MAX_TEXT)),
  outcome: query.optional(z.enum(LOG_OUTCOMES)),
});
const timelineQuery = queryObject({ limit: query.int(1, MAX_LIMIT, 100) });
const idParam = z.object({ id: z.string().check(z.minLength(1), z.maxLength(MAX_TEXT)) });

/** Stored as a JSON array of strings (or null when empty); anything else reads as empty. */
function stringList(json: string | null): string[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/**
 * One log row as the admin API shows it. Its names are those it kept when it was written (a
 * deleted user's too); a row from listLog that kept none has today's.
 */
export function presentLog(row: LogRow | NamedLogRow) {
  const named = "resourceName" in row;
  return {
    seq: row.seq,
    at: row.at,
    requestId: row.requestId,
    method: row.method,
    path: row.path,
    status: row.status,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    resourceName: named ? row.resourceName : row.subjectName,
    resourceDisplayName: named ? row.resourceDisplayName : row.subjectDisplayName,
    resourceEmail: named ? row.resourceEmail : row.subjectEmail,
    /** What the request did, in words ("deactivated", "title: Eng → Staff"), as the write path said it. */
    did: stringList(row.did),
    quirks: stringList(row.quirks),
    decisions: stringList(row.decisions),
    detail: row.detail,
    actor: row.actor,
    /** The credential that let a SCIM request (or a token issuance) in; null for admin actions and refusals. */
    credential: row.credential,
  };
}

/** How the typed key found the user: its id, its userName or its primary email. */
function matchedBy(key: string, user: { id: string; userName: string }): "id" | "userName" | "email" {
  if (user.id === key) return "id";
  return foldCase(user.userName) === foldCase(key) ? "userName" : "email";
}

/**
 * /admin/api/log and /admin/api/users/{id}/timeline (SPEC §10): the provisioning log, searchable
 * by user and filterable by outcome, and one user's requests, decisions and deliveries together.
 */
export const logAdminRoutes = new Hono<AppEnv>()
  /** Newest first by seq; `cursor` is the last seq of the previous page (exclusive). */
  .get("/log", validate("query", logQuery), async (c) => {
    const page = await listLog(getDb(c.env.DB), c.req.valid("query"));
    return c.json({ entries: page.rows.map(presentLog), nextCursor: page.nextCursor });
  })
  /**
   * The user's log rows (its own, and other resources' that touched it: a group's members added or
   * removed), its outbox events, and a header (names, status, userType, the IdP's roles, groups, the
   * effective role), newest first, in one D1 round trip when `{id}` is the id. `{id}` may also be
   * the userName or the primary email (what an admin has at hand): of a user now, else of one that
   * was deleted, as its events and log rows kept them; that takes a second round trip once it is
   * resolved to the id. A deleted user has no users row: `found` is false, `deleted` true, and the
   * header is its state as its newest event carried it.
   */
  .get("/users/:id/timeline", validate("param", idParam), validate("query", timelineQuery), async (c) => {
    const { id: key } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const db = getDb(c.env.DB);
    const history = (id: string) =>
      [
        logOfResource(db, id, limit + 1),
        eventsOfResource(db, id, limit + 1),
        relatedLogOf(db, id, limit + 1),
        groupsOfUser(db, id),
      ] as const;
    const [userRows, byName, byEmail, ...first] = await db.batch([
      selectTimelineUser(db, key),
      deletedUserByName(db, key),
      deletedUserByEmail(db, key),
      ...history(key),
    ]);
    let [logRows, eventRows, relatedRows, groupRows] = first;
    const user = userRows[0];
    const own = logRows.length > 0 || eventRows.length > 0 || relatedRows.length > 0;
    // A user now, else the key's own history (the id of a deleted user), else a deleted user by name or email.
    const resolved = user?.id ?? (own ? key : (byName[0]?.id ?? byEmail[0]?.id ?? key));
    if (resolved !== key) [logRows, eventRows, relatedRows, groupRows] = await db.batch([...history(resolved)]);
    const requests = logRows.slice(0, limit).map((r) => ({ kind: "request" as const, via: null, ...presentLog(r) }));
    const related = relatedRows.slice(0, limit).map((r) => ({
      kind: "request" as const,
      via: { type: r.log.resourceType, id: r.log.resourceId, name: r.log.subjectName },
      ...presentLog(r.log),
      did: r.didToUser ? [r.didToUser] : [],
    }));
    const deliveries = eventRows.slice(0, limit).map((r) => {
      const payload = parsed(r.payload);
      return {
        kind: "event" as const,
        at: r.createdAt,
        ...eventSummary(r),
        words: eventWords(r.type, payload),
        reason: eventReason(payload),
      };
    });
    // ISO-8601 UTC strings sort as text. On a tie the event goes first (newest first): the
    // request that wrote it was logged in the same batch, so it happened "before" its event.
    const items = [...requests, ...related, ...deliveries].sort((a, b) => {
      if (a.at !== b.at) return a.at < b.at ? 1 : -1;
      return a.kind === b.kind ? 0 : a.kind === "event" ? -1 : 1;
    });
    const found = user !== undefined;
    const known = found || own || resolved !== key;
    return c.json({
      userId: resolved,
      found,
      /** Not in the directory now, but recorded: deleted (or, rarely, its id typed before it existed). */
      deleted: !found && known,
      matchedBy: found
        ? matchedBy(key, user)
        : resolved !== key
          ? byName[0]?.id === resolved
            ? "userName"
            : "email"
          : known
            ? "id"
            : null,
      user: found ? userHeader(user, groupRows) : known ? lastKnown(eventRows) : null,
      items: items.slice(0, limit * 2),
      truncated: { requests: logRows.length > limit || relatedRows.length > limit, events: eventRows.length > limit },
    });
  });

/** A stored payload (JSON text), or null when it is not readable. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const textOf = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The IdP's `roles` (Entra app roles, Okta entitlements) as their values (else displays). */
function rolesOf(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((r) => {
    const entry = record(r);
    const name = textOf(entry?.value) ?? textOf(entry?.display);
    return name ? [name] : [];
  });
}

function rolesJsonOf(json: string | null): string[] {
  if (json === null) return [];
  return rolesOf(parsed(json));
}

/** The header of a user in the directory now. */
function userHeader(
  u: {
    id: string;
    userName: string;
    displayName: string | null;
    email: string | null;
    active: boolean;
    role: string;
    userType: string | null;
    rolesJson: string | null;
    updatedAt: string;
  },
  groupRows: { id: string; name: string }[],
) {
  return {
    id: u.id,
    userName: u.userName,
    displayName: u.displayName,
    email: u.email,
    active: u.active,
    /** The effective site role (what the site is told). */
    role: u.role,
    userType: u.userType,
    roles: rolesJsonOf(u.rolesJson),
    groups: groupRows.slice(0, TIMELINE_GROUPS),
    moreGroups: groupRows.length > TIMELINE_GROUPS,
    updatedAt: u.updatedAt,
    asOf: "now" as "now" | "last event",
  };
}

/**
 * The header of a user no longer in the directory: its state as its newest event carried it
 * (every event carries the user's full state; a deletion carries the state it was deleted in).
 */
function lastKnown(eventRows: EventRow[]) {
  const newest = eventRows.find((e) => e.resourceType === "User");
  if (!newest) return null;
  const user = record(record(record(parsed(newest.payload))?.data)?.user);
  if (!user) return null;
  const emails = Array.isArray(user.emails) ? user.emails.map(record) : [];
  const email = emails.find((e) => e?.primary === true) ?? emails[0];
  // The payload's `roles` is the effective role as the site was told (SPEC §9).
  const effective = rolesOf(user.roles)[0] ?? "registered";
  return {
    id: newest.resourceId,
    userName: textOf(user.userName) ?? newest.resourceId,
    displayName: textOf(user.displayName),
    email: textOf(email?.value),
    active: user.active === true,
    role: effective,
    userType: textOf(user.userType),
    roles: [] as string[],
    groups: [] as { id: string; name: string }[],
    moreGroups: false,
    updatedAt: newest.createdAt,
    asOf: "last event" as "now" | "last event",
  };
}
