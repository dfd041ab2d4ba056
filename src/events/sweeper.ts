import { and, asc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { deliveryProgress, events, guardActiveChanges, provisioningLog } from "../db/schema";
import type { QueueMessage } from "../env";
import { PRUNABLE, stateLiteral } from "../lifecycle/events";
import { enqueueEvents } from "./outbox";

/**
 * How long a `pending` row may wait before the sweeper re-sends it. A write's events are recorded
 * `queued` and sent by the writer; they are `pending` only when that send failed (or an admin
 * made them so and sends them itself), so the sweeper takes them after this grace.
 */
const SWEEP_GRACE_MS = 60_000;
/**
 * An in-flight event (queued, or retrying) whose message is overdue by this much, while the
 * consumer is idle or has taken later messages, lost its message (src/events/sweeper.ts
 * `reclaimLost`): with a cron every minute, a committed event reaches the site within 2 minutes
 * after a crash or a lost message.
 */
const OVERDUE_MS = 60_000;
/** "Later messages": sent this long after the event was due (the queue is roughly FIFO, not exactly). */
const OVERTAKEN_MS = 30_000;
/** A consumer that has taken no batch this long is idle: nothing is on its way to it. */
const IDLE_MS = 60_000;
/** A copy the sweeper sends is due this long after it (a first send is due at once). */
const RESEND_DUE_MS = 4 * 60_000;
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
  // Its copy is due later than a first send: if the consumer is down altogether, a lost event is
  // sent again every few minutes, not every minute, while the queue keeps the copies it has.
  await enqueueEvents(db, queue, ids, RESEND_DUE_MS);
  return ids.length;
}

/**
 * Returns in-flight events that lost their queue message to pending (keeping their updated_at,
 * so this run sends them). An event is due at the consumer at its `due_at` (when it was put on the
 * queue, or its next attempt). It is lost when it is more than OVERDUE_MS past that and still not
 * taken although the consumer has either taken messages sent OVERTAKEN_MS after it was due (it
 * went past it) or taken nothing for IDLE_MS (nothing is on its way). A backlog is neither: the
 * consumer's `reached` lags behind, so a slow queue is not flooded with copies. A copy sent for a
 * message that was only late is harmless: the consumer acks a delivered event without a POST, and
 * every POST carries the same webhook-id.
 */
export async function reclaimLost(db: Db, now = Date.now()): Promise<number> {
  const overdue = new Date(now - OVERDUE_MS).toISOString();
  const idleSince = new Date(now - IDLE_MS).toISOString();
  const progress = sql`(SELECT * FROM ${deliveryProgress} WHERE ${deliveryProgress.id} = 1)`;
  // Past the consumer's reach (reached - 30 s), or, with the consumer idle, simply overdue.
  const cutoff = sql`(SELECT CASE WHEN p.last_batch_at IS NULL OR p.last_batch_at < ${idleSince} THEN ${overdue}
    ELSE min(${overdue}, strftime('%Y-%m-%dT%H:%M:%fZ', p.reached, ${`-${OVERTAKEN_MS / 1000} seconds`})) END
    FROM (SELECT 1) LEFT JOIN ${progress} AS p)`;
  const inFlight = sql.raw(`${events.state.name} IN (${stateLiteral("queued")}, ${stateLiteral("retrying")})`);
  const rows = await db
    .update(events)
    .set({ state: "pending", dueAt: null })
    .where(
      sql`${events.seq} IN (SELECT seq FROM ${events} WHERE ${inFlight} AND ${events.dueAt} < ${cutoff} ORDER BY ${events.dueAt} LIMIT ${SWEEP_MAX_PER_RUN}) AND ${inFlight}`,
    )
    .returning({ id: events.id });
  if (rows.length > 0) {
    console.warn(
      JSON.stringify({ level: "warn", message: "in-flight events lost their queue message; re-sending", ids: rows.map((r) => r.id) }),
    );
  }
  return rows.length;
}

/**
 * Push mode again after pull mode: the events pull mode left for the site to read (awaiting_pull)
 * are sent, in feed order, SWEEP_MAX_PER_RUN a run (to pending, then on the queue; a failed send
 * leaves them pending for the next sweep). A writer that still had pull mode cached (5 s) leaves
 * some too. Returns how many.
 */
export async function sendPulled(db: Db, queue: Queue<QueueMessage>, now = Date.now()): Promise<number> {
  const rows = await db
    .update(events)
    .set({ state: "pending", queuedAt: null, dueAt: null, updatedAt: new Date(now).toISOString() })
    .where(
      sql`${events.seq} IN (SELECT seq FROM ${events} WHERE state = ${sql.raw(stateLiteral("awaiting_pull"))} ORDER BY feed_position LIMIT ${SWEEP_MAX_PER_RUN})`,
    )
    .returning({ id: events.id, position: events.feedPosition });
  const ids = rows.sort((a, b) => (a.position ?? 0) - (b.position ?? 0)).map((r) => r.id);
  await enqueueEvents(db, queue, ids);
  return ids.length;
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
 * event not yet delivered (pending, held, dead, rejected, undeliverable, awaiting_pull, dry run...)
 * is never lost. An event in the pull feed also stays its full term in the feed (published_at is
 * never before created_at, so the index still bounds the search): one released a month after it
 * was made is not deleted the day the site reads it. A deletion raises the feed's floor (a
 * trigger, migrations/0015): cursors before it answer 410.
 */
export function pruneEvents(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
  return pruneInChunks(() =>
    db
      .delete(events)
      .where(
        sql`${events.seq} IN (SELECT seq FROM ${events} WHERE ${sql.raw(`state IN (${PRUNABLE.map(stateLiteral).join(", ")})`)} AND ${events.createdAt} < ${cutoff} AND (${events.publishedAt} IS NULL OR ${events.publishedAt} < ${cutoff}) LIMIT ${PRUNE_CHUNK})`,
      ),
  );
}

/** The guard's per-minute changes of active users older than two hours: its hour never reads them again. */
export function pruneGuardChanges(db: Db, now = Date.now()) {
  const before = new Date(now - 2 * 3_600_000).toISOString().slice(0, 16);
  return db.delete(guardActiveChanges).where(lt(guardActiveChanges.minute, before));
}

/**
 * Name holds whose root is no longer held (a release or discard that read the held events just
 * before they were written): nothing they wait for is left, so they go to pending for this run's
 * sweep. The tiny held index makes this a lookup per held event, none when nothing is held.
 */
export async function freeOrphanedNameHolds(db: Db, at: string): Promise<number> {
  const held = sql.raw(stateLiteral("held"));
  const rows = await db
    .update(events)
    .set({ state: "pending", queuedAt: null, dueAt: null, updatedAt: sql`${events.createdAt}` })
    .where(
      sql`${events.state} = ${held} AND ${events.hold} = 'name' AND NOT EXISTS (SELECT 1 FROM ${events} r WHERE r.id = ${events.heldBy} AND r.state = ${held})`,
    )
    .returning({ id: events.id });
  if (rows.length > 0)
    console.warn(
      JSON.stringify({ level: "warn", message: "name holds freed: their root is no longer held", at, ids: rows.map((r) => r.id) }),
    );
  return rows.length;
}
