import { Hono } from "hono";
import * as z from "zod/mini";
import { selectUserByKey } from "../db/admin-queries";
import { getDb } from "../db/client";
import { LOG_OUTCOMES, type LogRow, listLog, logOfResource, type NamedLogRow } from "../db/log";
import type { AppEnv } from "../env";
import { eventsOfResource } from "../events/store";
import { query, queryObject, validate } from "../http/validate";
import { foldCase } from "../scim/text";
import { eventSummary } from "./events";

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

/** One log row as the admin API shows it; the names are there when the row is from listLog. */
export function presentLog(row: LogRow | NamedLogRow) {
  return {
    seq: row.seq,
    at: row.at,
    requestId: row.requestId,
    method: row.method,
    path: row.path,
    status: row.status,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    resourceName: "resourceName" in row ? row.resourceName : null,
    resourceDisplayName: "resourceDisplayName" in row ? row.resourceDisplayName : null,
    resourceEmail: "resourceEmail" in row ? row.resourceEmail : null,
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
   * The user's log rows and outbox events, newest first, read over their (resource_id, seq)
   * indexes in one D1 round trip. `{id}` may also be the userName or the primary email (what an
   * admin has at hand); that takes a second round trip once it is resolved to the id. A deleted
   * (or never created) user has no users row, so `found` is false, but whatever history was
   * recorded for the id is still shown.
   */
  .get("/users/:id/timeline", validate("param", idParam), validate("query", timelineQuery), async (c) => {
    const { id: key } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const db = getDb(c.env.DB);
    const history = (id: string) => [logOfResource(db, id, limit + 1), eventsOfResource(db, id, limit + 1)] as const;
    let [userRows, logRows, eventRows] = await db.batch([selectUserByKey(db, key), ...history(key)]);
    const user = userRows[0];
    if (user && user.id !== key) [logRows, eventRows] = await db.batch([...history(user.id)]);
    const requests = logRows.slice(0, limit).map((r) => ({ kind: "request" as const, ...presentLog(r) }));
    const deliveries = eventRows.slice(0, limit).map((r) => ({ kind: "event" as const, at: r.createdAt, ...eventSummary(r) }));
    // ISO-8601 UTC strings sort as text. On a tie the event goes first (newest first): the
    // request that wrote it was logged in the same batch, so it happened "before" its event.
    const items = [...requests, ...deliveries].sort((a, b) => {
      if (a.at !== b.at) return a.at < b.at ? 1 : -1;
      return a.kind === b.kind ? 0 : a.kind === "event" ? -1 : 1;
    });
    return c.json({
      userId: user?.id ?? key,
      found: user !== undefined,
      matchedBy: user ? matchedBy(key, user) : null,
      user: user ?? null,
      items,
      truncated: { requests: logRows.length > limit, events: eventRows.length > limit },
    });
  });
