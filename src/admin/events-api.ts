import { and, asc, desc, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type Db, getDb, isoNow } from "../db/client";
import { logStatement } from "../db/log";
import { events } from "../db/schema";
import { idsIn } from "../db/sql";
import type { AppEnv } from "../env";
import { type HoldKind, planHoldAction } from "../events/hold";
import { enqueueEvents } from "../events/outbox";
import { SWEEP_MAX_PER_RUN } from "../events/sweeper";
import { EVENT_TYPES, type EventState } from "../events/types";
import { Audit } from "../http/audit";

/** /admin/api/events (SPEC §10): list, redeliver, release or discard held events. */
export const eventsAdminRoutes = new Hono<AppEnv>();

type EventRow = typeof events.$inferSelect;

// A record, so adding a state to EventState without listing it here fails to compile.
const STATE_NAMES: Record<EventState, true> = {
  pending: true,
  queued: true,
  retrying: true,
  delivered: true,
  rejected: true,
  dead: true,
  held: true,
  undeliverable: true,
  dry_run: true,
  discarded: true,
};
const EVENT_STATES = Object.keys(STATE_NAMES) as [EventState, ...EventState[]];

/**
 * An admin may resend these. Not held (that is release-held, a deliberate guard decision), not
 * dry_run (recorded only, by setting), not pending (the sweeper sends it), not discarded.
 * queued and retrying are allowed for a message lost or parked in the queue: a second copy is
 * harmless, the consumer is idempotent and the site sees one webhook-id.
 */
const REDELIVERABLE: EventState[] = ["undeliverable", "rejected", "dead", "retrying", "queued", "delivered"];
/** Bulk redelivery by state: not delivered, so resending the whole delivered history takes ids. */
const BULK_REDELIVERABLE = ["undeliverable", "rejected", "dead", "retrying", "queued"] as const satisfies readonly EventState[];

const MAX_IDS = 500;
/** D1 allows 100 bound parameters per statement. */
const ID_CHUNK = 50;

// ---------------------------------------------------------------- queries

interface ListFilter {
  states: EventState[] | undefined;
  resourceId: string | undefined;
  type: string | undefined;
  cursor: number | undefined;
  limit: number;
}

/** Newest first by seq; `cursor` is the last seq of the previous page (exclusive). */
async function listEvents(db: Db, f: ListFilter): Promise<{ rows: EventRow[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (f.states) where.push(inArray(events.state, f.states));
  if (f.resourceId) where.push(eq(events.resourceId, f.resourceId));
  if (f.type) where.push(eq(events.type, f.type));
  if (f.cursor !== undefined) where.push(lt(events.seq, f.cursor));
  const rows = await db
    .select()
    .from(events)
    .where(and(...where))
    .orderBy(desc(events.seq))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > f.limit && last ? String(last.seq) : null };
}

/** Per-state counts over all events (every state present, zero included), for the admin page. */
async function countByState(db: Db): Promise<Record<EventState, number>> {
  const counts = Object.fromEntries(EVENT_STATES.map((s) => [s, 0])) as Record<EventState, number>;
  const rows = await db.select({ state: events.state, n: sql<number>`count(*)` }).from(events).groupBy(events.state);
  for (const r of rows) if (r.state in STATE_NAMES) counts[r.state as EventState] = Number(r.n);
  return counts;
}

const selectEvent = (db: Db, id: string) => db.select().from(events).where(eq(events.id, id)).get();

/**
 * Moves events in one of `from` to `to`: the given ids (chunked), or every such event. Returns
 * the ids to send now when `to` is pending: all given ids that moved, or, for "every", the oldest
 * SWEEP_MAX_PER_RUN of them (the sweeper sends the rest after its grace).
 */
async function bulkTransition(
  db: Db,
  from: EventState[],
  to: "pending" | "discarded",
  ids: string[] | undefined,
): Promise<{ count: number; moved: string[] }> {
  const at = isoNow();
  if (ids) {
    const moved: string[] = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await db
        .update(events)
        .set({ state: to, updatedAt: at })
        .where(and(inArray(events.id, ids.slice(i, i + ID_CHUNK)), inArray(events.state, from)))
        .returning({ id: events.id });
      moved.push(...rows.map((r) => r.id));
    }
    return { count: moved.length, moved };
  }
  const res = await db.update(events).set({ state: to, updatedAt: at }).where(inArray(events.state, from));
  if (to !== "pending") return { count: res.meta.changes, moved: [] };
  const first = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.state, "pending"), eq(events.updatedAt, at)))
    .orderBy(asc(events.createdAt), asc(events.seq))
    .limit(SWEEP_MAX_PER_RUN);
  return { count: res.meta.changes, moved: first.map((r) => r.id) };
}

// ---------------------------------------------------------------- presentation and input

/** An event's delivery state, as the events list and the user timeline show it. */
export function eventSummary(row: EventRow) {
  return {
    id: row.id,
    type: row.type,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    resourceVersion: row.resourceVersion,
    state: row.state,
    hold: row.hold,
    heldBy: row.heldBy,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    createdAt: row.createdAt,
    queuedAt: row.queuedAt,
    deliveredAt: row.deliveredAt,
    updatedAt: row.updatedAt,
  };
}

/** The summary plus the webhook body, for the events API. */
function present(row: EventRow) {
  let payload: unknown = row.payload;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    // Shown as stored: the body is delivered verbatim either way.
  }
  return { seq: row.seq, ...eventSummary(row), payload };
}

const listQuerySchema = z.object({
  state: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(EVENT_STATES)).min(1))
    .optional(),
  resourceId: z.string().min(1).max(200).optional(),
  // The admin page says "user"; the column is resource_id (users and groups alike).
  userId: z.string().min(1).max(200).optional(),
  type: z.enum(EVENT_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d+$/, "cursor is the nextCursor of the previous page").transform(Number).optional(),
});

const idsSchema = z.array(z.string().min(1).max(200)).min(1).max(MAX_IDS);
const heldBodySchema = z.object({ ids: idsSchema.optional() }).strict();
const bulkRedeliverSchema = z
  .object({ ids: idsSchema.optional(), state: z.enum(BULK_REDELIVERABLE).optional() })
  .strict()
  .refine((b) => (b.ids === undefined) !== (b.state === undefined), "give either ids or state, not both and not neither");

function badRequest(c: Context<AppEnv>, error: string, issues: z.core.$ZodIssue[] | string) {
  const detail = typeof issues === "string" ? issues : issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  return c.json({ error, detail }, 400);
}

/** An empty body means `{}`; anything else must be a JSON object. */
async function readBody(c: Context<AppEnv>): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const text = await c.req.text();
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Admin decisions on events go to the provisioning log, like settings changes (SPEC §10). */
async function logAdminAction(c: Context<AppEnv>, db: Db, decision: string, resource?: { type: string; id: string }) {
  const audit = new Audit();
  if (resource && (resource.type === "User" || resource.type === "Group")) audit.touch(resource.type, resource.id);
  audit.decide(decision);
  await logStatement(db, { at: isoNow(), requestId: c.get("requestId"), method: c.req.method, path: c.req.path, status: 200, audit });
}

// ---------------------------------------------------------------- routes

eventsAdminRoutes.get("/", async (c) => {
  const parsed = listQuerySchema.safeParse(c.req.query());
  if (!parsed.success) return badRequest(c, "invalid_query", parsed.error.issues);
  const q = parsed.data;
  if (q.resourceId && q.userId && q.resourceId !== q.userId) {
    return badRequest(c, "invalid_query", "resourceId and userId are the same filter; give one.");
  }
  const db = getDb(c.env.DB);
  const [page, counts] = await Promise.all([
    listEvents(db, { states: q.state, resourceId: q.resourceId ?? q.userId, type: q.type, cursor: q.cursor, limit: q.limit }),
    countByState(db),
  ]);
  return c.json({ events: page.rows.map(present), nextCursor: page.nextCursor, counts });
});

/**
 * Release or discard held events (src/events/hold.ts). An id stands for its whole hold: the
 * held deactivation or deletion and everything waiting behind it for that user. Released events
 * go out in version order; group events that only waited go out once nothing before them is held.
 */
async function actOnHeld(c: Context<AppEnv>, action: "release" | "discard", asked: string[] | undefined) {
  const db = getDb(c.env.DB);
  const held = await db
    .select({
      id: events.id,
      resourceType: events.resourceType,
      resourceId: events.resourceId,
      resourceVersion: events.resourceVersion,
      hold: events.hold,
      heldBy: events.heldBy,
    })
    .from(events)
    .where(eq(events.state, "held"));
  // Rows held before hold kinds were recorded are guard holds.
  const plan = planHoldAction(
    held.map((e) => ({ ...e, hold: isHoldKind(e.hold) ? e.hold : "guard" })),
    asked ?? "all",
    action,
  );
  const at = isoNow();
  const stillHeld = (ids: string[]) => and(sql`${events.id} IN ${idsIn(ids)}`, eq(events.state, "held"));
  await db.batch([
    db.update(events).set({ state: "pending", queuedAt: null, updatedAt: at }).where(stillHeld(plan.send)),
    db.update(events).set({ state: "discarded", updatedAt: at }).where(stillHeld(plan.drop)),
    db.update(events).set({ hold: "wait", heldBy: null, updatedAt: at }).where(stillHeld(plan.toWait)),
  ]);
  // The oldest go out now, in each resource's version order; the sweeper sends the rest.
  const now = plan.send.slice(0, SWEEP_MAX_PER_RUN);
  await enqueueEvents(db, c.env.EVENTS, now);
  return { plan, sentNow: now.length };
}

const isHoldKind = (value: string | null): value is HoldKind =>
  value === "guard" || value === "user" || value === "cascade" || value === "wait";

eventsAdminRoutes.post("/release-held", async (c) => {
  const body = await readBody(c);
  if (!body.ok) return badRequest(c, "invalid_json", 'The body must be empty or a JSON object like {"ids":[...]}.');
  const parsed = heldBodySchema.safeParse(body.value);
  if (!parsed.success) return badRequest(c, "invalid_body", parsed.error.issues);
  const { plan, sentNow } = await actOnHeld(c, "release", parsed.data.ids);
  const waiting = plan.toWait.length ? `; ${plan.toWait.length} wait behind events still held` : "";
  await logAdminAction(c, getDb(c.env.DB), `held events released: ${plan.send.length}${waiting}`);
  return c.json({ released: plan.send.length, sentNow, waiting: plan.toWait.length, skipped: parsed.data.ids ? plan.skipped : undefined });
});

eventsAdminRoutes.post("/discard-held", async (c) => {
  const body = await readBody(c);
  if (!body.ok) return badRequest(c, "invalid_json", 'The body must be empty or a JSON object like {"ids":[...]}.');
  const parsed = heldBodySchema.safeParse(body.value);
  if (!parsed.success) return badRequest(c, "invalid_body", parsed.error.issues);
  const { plan } = await actOnHeld(c, "discard", parsed.data.ids);
  const unblocked = plan.send.length ? `; ${plan.send.length} group events that waited behind them sent` : "";
  await logAdminAction(c, getDb(c.env.DB), `held events discarded (never delivered): ${plan.drop.length}${unblocked}`);
  return c.json({ discarded: plan.drop.length, unblocked: plan.send.length, skipped: parsed.data.ids ? plan.skipped : undefined });
});

/** Bulk redelivery, e.g. every dead event after the site was down for a day: {"state":"dead"}. */
eventsAdminRoutes.post("/redeliver", async (c) => {
  const body = await readBody(c);
  if (!body.ok) return badRequest(c, "invalid_json", 'The body must be a JSON object like {"state":"dead"} or {"ids":[...]}.');
  const parsed = bulkRedeliverSchema.safeParse(body.value);
  if (!parsed.success) return badRequest(c, "invalid_body", parsed.error.issues);
  const { ids, state } = parsed.data;
  const db = getDb(c.env.DB);
  const { count, moved } = await bulkTransition(db, state ? [state] : REDELIVERABLE, "pending", ids);
  await enqueueEvents(db, c.env.EVENTS, moved);
  await logAdminAction(c, db, `events redelivered${state ? ` (state ${state})` : ""}: ${count}`);
  return c.json({ redelivered: count, sentNow: moved.length, skipped: skippedIds(ids, moved) }, 202);
});

eventsAdminRoutes.get("/:id", async (c) => {
  const row = await selectEvent(getDb(c.env.DB), c.req.param("id"));
  if (!row) return c.json({ error: "not_found", detail: `There is no event ${c.req.param("id")}.` }, 404);
  return c.json(present(row));
});

eventsAdminRoutes.post("/:id/redeliver", async (c) => {
  const id = c.req.param("id");
  const db = getDb(c.env.DB);
  const before = await selectEvent(db, id);
  if (!before) return c.json({ error: "not_found", detail: `There is no event ${id}.` }, 404);
  const { moved } = await bulkTransition(db, REDELIVERABLE, "pending", [id]);
  if (moved.length === 0) {
    const current = (await selectEvent(db, id))?.state ?? before.state;
    const hint =
      current === "held"
        ? " Held events are sent with release-held."
        : current === "dry_run"
          ? " Dry-run events are recorded only."
          : current === "pending"
            ? " It is already on its way."
            : "";
    return c.json(
      { error: "invalid_state", detail: `Event ${id} is ${current}; only ${REDELIVERABLE.join(", ")} events can be redelivered.${hint}` },
      409,
    );
  }
  await enqueueEvents(db, c.env.EVENTS, moved);
  await logAdminAction(c, db, `event ${id} (${before.type}) redelivered, was ${before.state}`, {
    type: before.resourceType,
    id: before.resourceId,
  });
  const after = await selectEvent(db, id);
  return c.json(present(after ?? before), 202);
});

function skippedIds(asked: string[] | undefined, moved: string[]): string[] | undefined {
  if (!asked) return undefined;
  const done = new Set(moved);
  return asked.filter((id) => !done.has(id));
}
