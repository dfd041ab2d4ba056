import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { getDb, isoNow } from "../db/client";
import type { AppEnv } from "../env";
import { planHoldAction } from "../events/hold";
import { enqueueEvents } from "../events/outbox";
import {
  applyHoldPlan,
  countByState,
  type EventRow,
  heldEvents,
  holdDryRunStatements,
  listEvents,
  moveAllToPending,
  moveEvents,
  selectEvent,
} from "../events/store";
import { SWEEP_MAX_PER_RUN } from "../events/sweeper";
import { EVENT_TYPES } from "../events/types";
import { AdminError } from "../http/errors";
import { query, queryObject, validate } from "../http/validate";
import { BULK_REDELIVERABLE, EVENT_STATES, type EventState, REDELIVERABLE } from "../lifecycle/events";
import { invalidateSettingsCache, loadSettings } from "../settings/store";
import { recordAction } from "./actions";

const MAX_IDS = 500;

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
    /** Its place in the pull feed (null while held, in dry run, or discarded), and when it got it. */
    feedPosition: row.feedPosition,
    publishedAt: row.publishedAt,
  };
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/**
 * Who the event is about, by name: each event carries its resource's full state (SPEC §9), so the
 * name costs no query and a deleted user's events still say who it was. It is the name as of the
 * event, which is what the site was told.
 */
function subjectOf(payload: unknown) {
  const data = record(record(payload)?.data);
  const user = record(data?.user);
  if (user) {
    const emails = Array.isArray(user.emails) ? user.emails.map(record) : [];
    const email = emails.find((e) => e?.primary === true) ?? emails[0];
    return { resourceName: text(user.userName), resourceDisplayName: text(user.displayName), resourceEmail: text(email?.value) };
  }
  return { resourceName: text(record(data?.group)?.displayName), resourceDisplayName: null, resourceEmail: null };
}

/** The summary, the name of what it is about, and the webhook body, for the events API. */
function present(row: EventRow) {
  let payload: unknown = row.payload;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    // Shown as stored: the body is delivered verbatim either way.
  }
  return { seq: row.seq, ...eventSummary(row), ...subjectOf(payload), payload };
}

const idText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

const listQuery = queryObject({
  state: query.list(EVENT_STATES),
  resourceId: query.optional(query.text(200)),
  // The admin page says "user"; the column is resource_id (users and groups alike).
  userId: query.optional(query.text(200)),
  type: query.optional(z.enum(EVENT_TYPES)),
  limit: query.int(1, 200, 50),
  cursor: query.cursor(),
});

const ids = z.array(idText(200)).check(z.minLength(1), z.maxLength(MAX_IDS));
const heldBody = z.strictObject({ ids: z.optional(ids) });
const redeliverBody = z
  .strictObject({ ids: z.optional(ids), state: z.optional(z.enum(BULK_REDELIVERABLE)), jobId: z.optional(idText(200)) })
  .check(
    z.refine((b) => (b.ids === undefined) !== (b.state === undefined), "give either ids or state, not both and not neither"),
    z.refine((b) => b.jobId === undefined || b.state !== undefined, "jobId narrows a redelivery by state; give a state with it"),
  );

/**
 * The states a redelivery may move, with the settings as stored now. While dryRun is on, dry_run
 * events stay recorded: asking for them by state is refused (409), and other requests skip them.
 */
async function redeliverable(c: Context<AppEnv>, state?: EventState): Promise<readonly EventState[]> {
  invalidateSettingsCache();
  const dryRunOn = (await loadSettings(getDb(c.env.DB))).dryRun;
  if (dryRunOn && state === "dry_run") {
    throw new AdminError(
      409,
      "dry_run_on",
      "dryRun is on, so dry_run events cannot be sent; turn dryRun off in the settings first, then redeliver them.",
    );
  }
  const from: readonly EventState[] = state ? [state] : REDELIVERABLE;
  return dryRunOn ? from.filter((s) => s !== "dry_run") : from;
}

/** dry_run events about to be redelivered get the holds the dry run did not decide (events/store.ts). */
async function holdDryRun(
  c: Context<AppEnv>,
  from: readonly EventState[],
  scope: { ids?: string[]; jobId?: string | undefined },
  at: string,
) {
  if (!from.includes("dry_run")) return 0;
  const db = getDb(c.env.DB);
  const results = await db.batch([...holdDryRunStatements(db, scope, at)]);
  return results.reduce((n, r) => n + r.meta.changes, 0);
}

/**
 * Release or discard held events (src/events/hold.ts). An id stands for its whole hold: the
 * held deactivation or deletion and everything waiting behind it for that user. Released events
 * go out in version order; group events that only waited go out once nothing before them is held.
 */
async function actOnHeld(c: Context<AppEnv>, action: "release" | "discard", asked: string[] | undefined) {
  const db = getDb(c.env.DB);
  // Rows held before hold kinds were recorded are guard holds.
  const held = (await heldEvents(db)).map((e) => ({ ...e, hold: e.hold ?? ("guard" as const) }));
  const plan = planHoldAction(held, asked ?? "all", action);
  await db.batch([...applyHoldPlan(db, plan, isoNow())]);
  // The oldest go out now, in each resource's version order; the sweeper sends the rest.
  const now = plan.send.slice(0, SWEEP_MAX_PER_RUN);
  await enqueueEvents(db, c.env.EVENTS, now);
  return { plan, sentNow: now.length };
}

/** /admin/api/events (SPEC §10): list, redeliver, release or discard held events. */
export const eventsAdminRoutes = new Hono<AppEnv>()
  .get("/", validate("query", listQuery), async (c) => {
    const q = c.req.valid("query");
    if (q.resourceId && q.userId && q.resourceId !== q.userId) {
      throw new AdminError(400, "invalid_query", "resourceId and userId are the same filter; give one.");
    }
    const db = getDb(c.env.DB);
    const [page, counts] = await Promise.all([
      listEvents(db, { states: q.state, resourceId: q.resourceId ?? q.userId, type: q.type, cursor: q.cursor, limit: q.limit }),
      countByState(db),
    ]);
    return c.json({ events: page.rows.map(present), nextCursor: page.nextCursor, counts });
  })
  .post("/release-held", validate("json", heldBody), async (c) => {
    const asked = c.req.valid("json").ids;
    const { plan, sentNow } = await actOnHeld(c, "release", asked);
    const waiting = plan.toWait.length ? `; ${plan.toWait.length} wait behind events still held` : "";
    await recordAction(c, `held events released: ${plan.send.length}${waiting}`);
    return c.json({ released: plan.send.length, sentNow, waiting: plan.toWait.length, skipped: asked ? plan.skipped : undefined });
  })
  .post("/discard-held", validate("json", heldBody), async (c) => {
    const asked = c.req.valid("json").ids;
    const { plan } = await actOnHeld(c, "discard", asked);
    const unblocked = plan.send.length ? `; ${plan.send.length} group events that waited behind them sent` : "";
    await recordAction(c, `held events discarded (never delivered): ${plan.drop.length}${unblocked}`);
    return c.json({ discarded: plan.drop.length, unblocked: plan.send.length, skipped: asked ? plan.skipped : undefined });
  })
  /** Bulk redelivery, e.g. every dead event after the site was down for a day: {"state":"dead"}. */
  .post("/redeliver", validate("json", redeliverBody), async (c) => {
    const { ids: asked, state, jobId } = c.req.valid("json");
    const db = getDb(c.env.DB);
    const at = isoNow();
    const from = await redeliverable(c, state);
    const held = await holdDryRun(c, from, { ...(asked ? { ids: asked } : {}), jobId }, at);
    const moved = asked ? await moveEvents(db, asked, from, "pending", at) : undefined;
    const all = moved ? undefined : await moveAllToPending(db, from, at, SWEEP_MAX_PER_RUN, jobId);
    const send = moved ?? all?.first ?? [];
    const count = moved?.length ?? all?.count ?? 0;
    await enqueueEvents(db, c.env.EVENTS, send);
    const heldNote = held ? `; ${held} recorded in dry run held for release (deactivations, deletions and what follows them)` : "";
    await recordAction(c, `events redelivered${state ? ` (state ${state}${jobId ? `, resync ${jobId}` : ""})` : ""}: ${count}${heldNote}`);
    const done = new Set(send);
    return c.json({ redelivered: count, sentNow: send.length, held, skipped: asked?.filter((id) => !done.has(id)) }, 202);
  })
  .get("/:id", async (c) => {
    const row = await selectEvent(getDb(c.env.DB), c.req.param("id"));
    if (!row) throw new AdminError(404, "not_found", `There is no event ${c.req.param("id")}.`);
    return c.json(present(row));
  })
  .post("/:id/redeliver", async (c) => {
    const id = c.req.param("id");
    const db = getDb(c.env.DB);
    const before = await selectEvent(db, id);
    if (!before) throw new AdminError(404, "not_found", `There is no event ${id}.`);
    const at = isoNow();
    const from = await redeliverable(c, before.state === "dry_run" ? "dry_run" : undefined);
    if (await holdDryRun(c, from, { ids: [id] }, at)) {
      await recordAction(c, `event ${id} (${before.type}) recorded in dry run is now held: release it with the other held events`, {
        type: before.resourceType,
        id: before.resourceId,
      });
      const held = await selectEvent(db, id);
      return c.json(present(held ?? before), 202);
    }
    const moved = await moveEvents(db, [id], from, "pending", at);
    if (moved.length === 0) {
      const current = (await selectEvent(db, id))?.state ?? before.state;
      const hints: Record<string, string> = {
        held: " Held events are sent with release-held.",
        pending: " It is already on its way.",
      };
      throw new AdminError(
        409,
        "invalid_state",
        `Event ${id} is ${current}; only ${REDELIVERABLE.join(", ")} events can be redelivered.${hints[current] ?? ""}`,
      );
    }
    await enqueueEvents(db, c.env.EVENTS, moved);
    await recordAction(c, `event ${id} (${before.type}) redelivered, was ${before.state}`, {
      type: before.resourceType,
      id: before.resourceId,
    });
    const after = await selectEvent(db, id);
    return c.json(present(after ?? before), 202);
  });
