import { and, asc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { events, provisioningLog } from "../db/schema";
import type { QueueMessage } from "../env";
import { enqueueEvents } from "./outbox";

/**
 * How long a `pending` row may wait before the sweeper re-sends it. A write's events are recorded
 * `queued` and sent by the writer; they are `pending` only when that send failed (or an admin
 * made them so and sends them itself), so the sweeper takes them after this grace.
 */
const SWEEP_GRACE_MS = 60_000;
/**
 * A `queued` row no consumer has touched this long is taken to have lost its message (the writer
 * died between commit and send, or the queue lost it) and is re-sent. A message that was only
 * slow, in a backlog longer than this, is then delivered once anyway: the consumer acks the
 * second copy of a delivered event without a POST (same webhook-id either way).
 */
const QUEUED_UNTOUCHED_MS = 15 * 60_000;
/**
 * A `retrying` row untouched this long has lost its queue message: the consumer touches a row on
 * every attempt and our longest retry delay is an hour (backoff.ts). Messages are lost when a
 * queue is purged or recreated, outlive its retention, or (locally) when `wrangler dev` reloads.
 */
const STALE_IN_FLIGHT_MS = 6 * 3_600_000;
/** Re-sent per cron run at most (the cron runs every minute, so 500/min drains any backlog). */
export const SWEEP_MAX_PER_RUN = 500;
/** Provisioning-log rows deleted per statement, and statements per run: bounded work per cron. */
const PRUNE_CHUNK = 1_000;
const PRUNE_MAX_CHUNKS = 10;

/**
 * SPEC §9 outbox: rows committed but not confirmed sent (still `pending` after the grace), oldest
 * first. "Since" is updated_at, not created_at: a row released or redelivered by an admin is
 * pending again from that moment, and the admin action sends it itself.
 */
export async function sweepPending(db: Db, queue: Queue<QueueMessage>, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - SWEEP_GRACE_MS).toISOString();
  const rows = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.state, "pending"), lt(events.updatedAt, cutoff)))
    .orderBy(asc(events.createdAt), asc(events.seq))
    .limit(SWEEP_MAX_PER_RUN);
  const ids = rows.map((r) => r.id);
  await enqueueEvents(db, queue, ids);
  return ids.length;
}

/**
 * Returns in-flight rows that lost their queue message to pending (keeping their old updated_at,
 * so this run sends them): queued ones untouched for 15 minutes, retrying ones for 6 hours.
 */
export async function reclaimStale(db: Db, now = Date.now()): Promise<number> {
  const queuedCutoff = new Date(now - QUEUED_UNTOUCHED_MS).toISOString();
  const retryingCutoff = new Date(now - STALE_IN_FLIGHT_MS).toISOString();
  const lost = sql`((${events.state} = 'queued' AND ${events.updatedAt} < ${queuedCutoff}) OR (${events.state} = 'retrying' AND ${events.updatedAt} < ${retryingCutoff}))`;
  const rows = await db
    .update(events)
    .set({ state: "pending" })
    .where(
      sql`${events.seq} IN (SELECT seq FROM ${events} WHERE ${lost} ORDER BY ${events.createdAt} LIMIT ${SWEEP_MAX_PER_RUN}) AND ${events.state} IN ('queued', 'retrying')`,
    )
    .returning({ id: events.id });
  if (rows.length > 0) {
    console.warn(
      JSON.stringify({ level: "warn", message: "in-flight events lost their queue message; re-sending", ids: rows.map((r) => r.id) }),
    );
  }
  return rows.length;
}

/** Runs a bounded delete (PRUNE_CHUNK rows a statement) until a statement deletes fewer, at most PRUNE_MAX_CHUNKS times. */
async function pruneInChunks(run: () => Promise<{ meta: { changes: number } }>): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < PRUNE_MAX_CHUNKS; i++) {
    const changes = (await run()).meta.changes;
    deleted += changes;
    if (changes < PRUNE_CHUNK) break;
  }
  return deleted;
}

/** Deletes provisioning-log rows older than the retention (settings.logRetentionDays), bounded. */
export function pruneLog(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
  // SQLite on D1 has no DELETE … LIMIT; a sub-select over the `at` index bounds each statement.
  return pruneInChunks(() =>
    db
      .delete(provisioningLog)
      .where(
        sql`${provisioningLog.seq} IN (SELECT seq FROM ${provisioningLog} WHERE ${provisioningLog.at} < ${cutoff} ORDER BY ${provisioningLog.at} LIMIT ${PRUNE_CHUNK})`,
      ),
  );
}

/**
 * Deletes delivered and discarded events older than the retention (settings.eventRetentionDays),
 * bounded, over the (state, created_at) index. Every other state is kept whatever its age: an
 * event not yet delivered (pending, held, dead, rejected, undeliverable, dry run...) is never lost.
 */
export function pruneEvents(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
  return pruneInChunks(() =>
    db
      .delete(events)
      .where(
        sql`${events.seq} IN (SELECT seq FROM ${events} WHERE ${events.state} IN ('delivered', 'discarded') AND ${events.createdAt} < ${cutoff} LIMIT ${PRUNE_CHUNK})`,
      ),
  );
}
