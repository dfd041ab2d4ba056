import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { events, groups, users } from "../db/schema";
import { idsIn } from "../db/sql";
import type { Settings } from "../settings/model";
import { DEPROVISION_EVENT_TYPES, type EventType, type WebhookBody } from "./types";

export interface NewEvent {
  id: string;
  type: EventType;
  resourceType: "User" | "Group";
  resourceId: string;
  /**
   * For users: computed by the caller (compare-and-set). For groups: read in SQL at insert
   * time, after the batch's `version = version + k`, as the group's version minus `belowCurrent`.
   */
  resourceVersion: number | { belowCurrent: number };
  data: Record<string, unknown>;
  /** A group.members_removed emitted by deleting this user: held with the deletion if it is held. */
  cascadeOf?: string;
  /** The resync that emits it (user.synced, group.synced). */
  jobId?: string;
}

export function newEventId(): string {
  return `evt_${crypto.randomUUID().replaceAll("-", "")}`;
}

const HOUR_MS = 3_600_000;

/**
 * The outbox insert for one event, to be put in the same D1 batch as the change it records.
 * Its state is decided in SQL, inside that batch: dry run → dry_run; held (src/events/hold.ts)
 * when its resource already has a held event, when it is a group removal of a held deletion, or
 * when it is a deactivation or deletion past the deprovisioning guard's hourly threshold;
 * otherwise queued, because the writer sends it on the queue right after the batch commits
 * (`sendCommitted`), without a second D1 call to say so (the batch's last statement,
 * `stampQueued`, sets its queued_at). A send that fails turns it back to pending for the sweeper;
 * a writer that dies in between leaves it queued, and the sweeper reclaims a queued row nobody has
 * touched for `QUEUED_UNTOUCHED_MS` (sweeper.ts).
 *
 * The guard counts deprovisioning events of the last hour against
 * max(deprovisionGuard.maxPerHour, 10% of the users that were active and created before that hour):
 * users created within the hour do not raise the threshold, so a burst of new accounts cannot
 * lift the guard.
 */
export function outboxInsert(db: Db, e: NewEvent, settings: Settings, at: Date) {
  const createdAt = at.toISOString();
  const body: WebhookBody = {
    type: e.type,
    timestamp: createdAt,
    data: { ...e.data, id: e.resourceId, version: 0 },
  };
  const version =
    typeof e.resourceVersion === "number"
      ? sql`${e.resourceVersion}`
      : sql`((SELECT version FROM ${groups} WHERE ${groups.id} = ${e.resourceId}) - ${e.resourceVersion.belowCurrent})`;
  // The version goes into the payload in SQL too, so a group's event carries the version it got.
  const payload = sql`json_set(${JSON.stringify(body)}, '$.data.version', ${version})`;
  const since = new Date(at.getTime() - HOUR_MS).toISOString();
  const guarded = DEPROVISION_EVENT_TYPES.includes(e.type);
  // The hour's deprovisionings, counted once (a materialized CTE) however often the rule reads it.
  const recent = sql`recent AS MATERIALIZED (SELECT count(*) AS n FROM ${events} WHERE ${events.type} IN ('user.deactivated','user.deleted') AND ${events.createdAt} > ${since} AND ${events.state} <> 'discarded')`;
  // Held when recent >= active / 10 (integer division), i.e. active <= 10 * recent + 9. Ordered
  // WHENs stop at the first match, so active users are only counted once the hour's count has
  // reached maxPerHour, and then only up to 10 * recent + 10 of them: the scan is bounded by the
  // hour's deprovisionings, not by the size of the directory.
  const activeUpTo = sql`(SELECT count(*) FROM (SELECT 1 FROM ${users} WHERE ${users.active} = 1 AND ${users.createdAt} <= ${since} LIMIT (SELECT 10 * n + 10 FROM recent)))`;
  const overThreshold = sql`(SELECT n FROM recent) >= ${settings.deprovisionGuard.maxPerHour} AND ${activeUpTo} <= (SELECT 10 * n + 9 FROM recent)`;
  const heldOf = (type: string, id: string) =>
    sql`(SELECT coalesce(${events.heldBy}, ${events.id}) FROM ${events} WHERE ${events.resourceType} = ${type} AND ${events.resourceId} = ${id} AND ${events.state} = 'held' ORDER BY ${events.seq} LIMIT 1)`;
  const cascadeHeld = e.cascadeOf === undefined ? sql`NULL` : heldOf("User", e.cascadeOf);
  // One CASE decides the kind of hold (or none), once; state and held_by follow from it. A user
  // hold and a cascade share the fate of their root; a wait and a guard hold have none.
  const decision = settings.dryRun
    ? sql`SELECT NULL AS hold, NULL AS held_by`
    : sql`SELECT CASE WHEN cascade_held IS NOT NULL THEN 'cascade'
                      WHEN self_held IS NOT NULL THEN ${e.resourceType === "User" ? "user" : "wait"}
                      WHEN ${guarded ? overThreshold : sql`0`} THEN 'guard'
                      ELSE NULL END AS hold,
                 ${e.resourceType === "User" ? sql`self_held` : sql`cascade_held`} AS held_by
          FROM (SELECT ${heldOf(e.resourceType, e.resourceId)} AS self_held, ${cascadeHeld} AS cascade_held)`;
  const state = settings.dryRun ? sql`'dry_run'` : sql`CASE WHEN hold IS NULL THEN 'queued' ELSE 'held' END`;
  const ctes = guarded && !settings.dryRun ? sql`${recent}, ` : sql``;
  const values: Partial<Record<keyof typeof events.$inferInsert, SQL>> = {
    id: sql`${e.id}`,
    type: sql`${e.type}`,
    resourceType: sql`${e.resourceType}`,
    resourceId: sql`${e.resourceId}`,
    resourceVersion: version,
    payload,
    state,
    hold: sql`hold`,
    heldBy: sql`held_by`,
    jobId: sql`${e.jobId ?? null}`,
    createdAt: sql`${createdAt}`,
    updatedAt: sql`${createdAt}`,
  };
  // INSERT … SELECT names every column in the table's order: the unlisted ones get their default
  // (attempts 0), else NULL (seq NULL is the next rowid), as an INSERT … VALUES would.
  const selected = Object.entries(getTableColumns(events)).map(
    ([k, column]) =>
      values[k as keyof typeof values] ??
      (column.default === undefined ? sql`NULL` : is(column.default, SQL) ? column.default : sql.param(column.default, column)),
  );
  return db
    .insert(events)
    .select(sql`WITH ${ctes}decided AS MATERIALIZED (${decision}) SELECT ${sql.join(selected, sql`, `)} FROM decided`);
}

/**
 * The last statement of a write batch: stamps queued_at on the just-written events that are to
 * be sent (state queued, decided by outboxInsert) and returns their ids.
 */
export function stampQueued(db: Db, ids: string[], at: string) {
  return db
    .update(events)
    .set({ queuedAt: at })
    .where(sql`${events.id} IN ${idsIn(ids)} AND ${events.state} = 'queued'`)
    .returning({ id: events.id });
}

/** Which of these events are queued: after a write batch whose outcome is unknown. */
function queuedOf(db: Db, ids: string[]) {
  return db
    .select({ id: events.id })
    .from(events)
    .where(sql`${events.id} IN ${idsIn(ids)} AND ${events.state} = 'queued'`);
}

/** Cloudflare Queues take at most 100 messages per sendBatch. */
const SEND_CHUNK = 100;

type EventQueue = Queue<{ v: 1; eventId: string }>;

function warn(message: string, ids: string[], err: unknown): void {
  console.error(JSON.stringify({ level: "warn", message, ids, err: String(err) }));
}

function* chunksOf(ids: string[]): Generator<string[]> {
  for (let i = 0; i < ids.length; i += SEND_CHUNK) yield ids.slice(i, i + SEND_CHUNK);
}

/** One sendBatch; false (and a warning) if the queue refused it. */
async function trySend(queue: EventQueue, chunk: string[]): Promise<boolean> {
  try {
    await queue.sendBatch(chunk.map((eventId) => ({ body: { v: 1 as const, eventId } })));
    return true;
  } catch (err) {
    warn("queue send failed; the sweeper will re-send", chunk, err);
    return false;
  }
}

/**
 * After the write batch has committed: put its queued events on the queue. Costs no D1 call when
 * the send succeeds (the batch already recorded them as queued). A chunk the queue refuses goes
 * back to pending, which the cron sweeper re-sends after a minute; if even that update fails,
 * the sweeper reclaims the untouched queued rows later. Run it with waitUntil: it is off the
 * request's path.
 */
export async function sendCommitted(db: Db, queue: EventQueue, ids: string[]): Promise<void> {
  for (const chunk of chunksOf(ids)) {
    if (await trySend(queue, chunk)) continue;
    try {
      // Only rows no consumer has touched; updated_at stays, so the next sweep takes them.
      await db
        .update(events)
        .set({ state: "pending", queuedAt: null })
        .where(sql`${events.id} IN ${idsIn(chunk)} AND ${events.state} = 'queued'`);
    } catch (err) {
      warn("queue send failed and the events could not be set back to pending; the sweeper will reclaim them", chunk, err);
    }
  }
}

/**
 * The write batch failed in a way that leaves it unknown whether it committed (the answer was
 * lost): the events that did commit are found by id and sent. Nothing is sent for a batch that
 * did not commit; if this lookup fails too, the sweeper reclaims the rows later.
 */
export async function sendIfCommitted(db: Db, queue: EventQueue, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  let committed: { id: string }[];
  try {
    committed = await queuedOf(db, ids);
  } catch (err) {
    warn("could not tell whether the write committed; the sweeper will reclaim its events", ids, err);
    return;
  }
  await sendCommitted(
    db,
    queue,
    committed.map((r) => r.id),
  );
}

/**
 * The sweeper's and the admin page's sender: put pending events on the queue and mark them
 * queued. If this fails (or the isolate dies first) the cron sweeper re-sends them.
 */
export async function enqueueEvents(db: Db, queue: EventQueue, ids: string[]): Promise<void> {
  for (const chunk of chunksOf(ids)) {
    if (!(await trySend(queue, chunk))) continue;
    try {
      const now = new Date().toISOString();
      await db
        .update(events)
        .set({ state: "queued", queuedAt: now, updatedAt: now })
        .where(sql`${events.id} IN ${idsIn(chunk)} AND ${events.state} = 'pending'`);
    } catch (err) {
      // Sent, but still marked pending: the sweeper may send it once more (same webhook-id).
      warn("events sent but not marked queued", chunk, err);
    }
  }
}
