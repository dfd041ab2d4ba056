import { and, desc, eq, gte, isNotNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { getDb } from "../db/client";
import { events, provisioningLog, users } from "../db/schema";
import type { AppEnv } from "../env";
import { eventSummary } from "./events-api";

/**
 * /admin/api/log and /admin/api/users/{id}/timeline (SPEC §10): the provisioning log, searchable
 * by user and filterable by outcome, and one user's requests, decisions and deliveries together.
 * Mounted on adminApi, so adminAuth already guards every route here.
 */
export const logAdminRoutes = new Hono<AppEnv>();

type LogRow = typeof provisioningLog.$inferSelect;

const MAX_LIMIT = 200;
const MAX_TEXT = 200;

const OUTCOMES = ["success", "error", "decision", "quirk"] as const;

const cursorSchema = z
  .string()
  .regex(/^\d{1,15}$/, "cursor is the nextCursor of the previous page")
  .transform(Number)
  .optional();

const logQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
    cursor: cursorSchema,
    resourceId: z.string().trim().min(1).max(MAX_TEXT).optional(),
    q: z.string().trim().min(1).max(MAX_TEXT).optional(),
    outcome: z.enum(OUTCOMES).optional(),
  })
  .strict();

const timelineQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
  })
  .strict();

const idSchema = z.string().min(1).max(MAX_TEXT);

function badRequest(c: Context<AppEnv>, error: string, issues: z.core.$ZodIssue[]) {
  const detail = issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; ");
  return c.json({ error, detail }, 400);
}

/** An empty query value (`?q=`) means "no filter": the page sends every field of its form. */
function nonEmptyQuery(c: Context<AppEnv>): Record<string, string> {
  return Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v.trim() !== ""));
}

/** LIKE matches the search text literally: `%`, `_` and the escape character are escaped. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

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

// Both written as NULL when empty (db/log.ts); '[]' is tolerated in case a writer stores it.
const hasEntries = (col: typeof provisioningLog.decisions | typeof provisioningLog.quirks): SQL =>
  and(isNotNull(col), ne(col, "[]")) ?? sql`0`;

function outcomeCondition(outcome: (typeof OUTCOMES)[number]): SQL {
  switch (outcome) {
    case "success":
      return lt(provisioningLog.status, 400);
    case "error":
      return gte(provisioningLog.status, 400);
    case "decision":
      return hasEntries(provisioningLog.decisions);
    case "quirk":
      return hasEntries(provisioningLog.quirks);
  }
}

function searchCondition(q: string): SQL {
  const pattern = likePattern(q);
  const like = (col: SQL | typeof provisioningLog.path) => sql`${col} LIKE ${pattern} ESCAPE '\\'`;
  return (
    or(
      like(provisioningLog.path),
      like(sql`coalesce(${provisioningLog.resourceId}, '')`),
      like(sql`coalesce(${provisioningLog.decisions}, '')`),
      like(sql`coalesce(${provisioningLog.quirks}, '')`),
    ) ?? sql`0`
  );
}

function presentLog(row: LogRow) {
  return {
    seq: row.seq,
    at: row.at,
    requestId: row.requestId,
    method: row.method,
    path: row.path,
    status: row.status,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    quirks: stringList(row.quirks),
    decisions: stringList(row.decisions),
    detail: row.detail,
  };
}

/** Newest first by seq; `cursor` is the last seq of the previous page (exclusive). */
logAdminRoutes.get("/log", async (c) => {
  const parsed = logQuerySchema.safeParse(nonEmptyQuery(c));
  if (!parsed.success) return badRequest(c, "invalid_query", parsed.error.issues);
  const q = parsed.data;
  const where: SQL[] = [];
  if (q.cursor !== undefined) where.push(lt(provisioningLog.seq, q.cursor));
  if (q.resourceId !== undefined) where.push(eq(provisioningLog.resourceId, q.resourceId));
  if (q.outcome !== undefined) where.push(outcomeCondition(q.outcome));
  if (q.q !== undefined) where.push(searchCondition(q.q));
  // One row more than the page tells whether an older page exists, without a count(*).
  const rows = await getDb(c.env.DB)
    .select()
    .from(provisioningLog)
    .where(and(...where))
    .orderBy(desc(provisioningLog.seq))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return c.json({
    entries: page.map(presentLog),
    nextCursor: rows.length > q.limit && last ? String(last.seq) : null,
  });
});

/**
 * The user's log rows and outbox events, newest first. Both are read over their
 * (resource_id, seq) indexes in one D1 round trip. A deleted (or never created) user has no
 * users row, so `found` is false, but whatever history was recorded for the id is still shown.
 */
logAdminRoutes.get("/users/:id/timeline", async (c) => {
  const id = idSchema.safeParse(c.req.param("id"));
  if (!id.success) return badRequest(c, "invalid_id", id.error.issues);
  const parsed = timelineQuerySchema.safeParse(nonEmptyQuery(c));
  if (!parsed.success) return badRequest(c, "invalid_query", parsed.error.issues);
  const { limit } = parsed.data;
  const userId = id.data;
  const db = getDb(c.env.DB);
  const [userRows, logRows, eventRows] = await db.batch([
    db
      .select({ id: users.id, userName: users.userName, active: users.active, role: users.role, version: users.version })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1),
    db
      .select()
      .from(provisioningLog)
      .where(eq(provisioningLog.resourceId, userId))
      .orderBy(desc(provisioningLog.seq))
      .limit(limit + 1),
    db
      .select()
      .from(events)
      .where(eq(events.resourceId, userId))
      .orderBy(desc(events.seq))
      .limit(limit + 1),
  ]);
  const requests = logRows.slice(0, limit).map((r) => ({ kind: "request" as const, ...presentLog(r) }));
  const deliveries = eventRows.slice(0, limit).map((r) => ({ kind: "event" as const, at: r.createdAt, ...eventSummary(r) }));
  // ISO-8601 UTC strings sort as text. On a tie the event goes first (newest first): the
  // request that wrote it was logged in the same batch, so it happened "before" its event.
  const items = [...requests, ...deliveries].sort((a, b) => {
    if (a.at !== b.at) return a.at < b.at ? 1 : -1;
    return a.kind === b.kind ? 0 : a.kind === "event" ? -1 : 1;
  });
  const user = userRows[0];
  return c.json({
    userId,
    found: user !== undefined,
    user: user ?? null,
    items,
    truncated: { requests: logRows.length > limit, events: eventRows.length > limit },
  });
});
