import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { events, guardActive, guardActiveChanges } from "../db/schema";
import { idsIn } from "../db/sql";
import { stateLiteral } from "../lifecycle/events";
import { userNameNorm } from "../resources/user";
import type { Settings } from "../settings/model";
import { DEPROVISION_EVENT_TYPES, type EventType, type WebhookBody } from "./types";

export interface NewEvent {
  id: string;
  type: EventType;
  resourceType: "User" | "Group";
  resourceId: string;
  /** The resource's version this event brings it to (the writer's compare-and-set decides it). */
  resourceVersion: number;
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

/** The folded userName of a user event's payload (data.user.userName), for the name hold. */
function userNameOf(e: NewEvent): string | null {
  const user = e.data.user;
  const userName = typeof user === "object" && user !== null ? (user as { userName?: unknown }).userName : undefined;
  return e.resourceType === "User" && typeof userName === "string" ? userNameNorm(userName) : null;
}

/**
 * The webhook body exactly as it will be signed and POSTed. Built here, not in SQL: `version` is a
 * JSON integer (a number bound into SQL's json_set came out as 2.0, which integer decoders refuse).
 */
function webhookBody(e: Pick<NewEvent, "type" | "resourceId" | "resourceVersion" | "data">, timestamp: string): string {
  if (!Number.isSafeInteger(e.resourceVersion) || e.resourceVersion < 1)
    throw new Error(`event version ${e.resourceVersion} is not a positive integer`);
  const body: WebhookBody = { type: e.type, timestamp, data: { ...e.data, id: e.resourceId, version: e.resourceVersion } };
  return JSON.stringify(body);
}

/**
 * The outbox insert for one event, to be put in the same D1 batch as the change it records.
 * Its state is decided in SQL, inside that batch: dry run → dry_run; held (src/events/hold.ts)
 * when its resource already has a held event, when it is a group removal of a held deletion, when
 * it is a user event whose userName a held deletion of another user freed, or when it is a
 * deactivation or deletion past the deprovisioning guard's hourly threshold; otherwise queued,
 * because the writer sends it on the queue right after the batch commits (`sendCommitted`),
 * without a second D1 call to say so (the batch's last statement, `stampQueued`, sets its
 * queued_at and due_at). A send that fails turns it back to pending for the sweeper; a writer that
 * dies in between leaves it queued, and the sweeper re-sends a queued row that is overdue
 * (sweeper.ts). In pull mode (siteDelivery) an event that is not held is awaiting_pull instead:
 * the site reads it from the feed, and nothing goes on the queue. An event that is not held gets
 * its feed position in this same statement (a trigger, migrations/0015).
 *
 * The guard counts deprovisioning events of the last hour against
 * max(deprovisionGuard.maxPerHour, 10% of the users that were active when that hour began):
 * users created or reactivated within the hour do not raise the threshold. That base is read,
 * not counted: `guard_active` (active users now) minus the hour's net changes in
 * `guard_active_changes`, both kept by triggers on users (migrations/0010).
 */
export function outboxInsert(db: Db, e: NewEvent, settings: Settings, at: Date) {
  const createdAt = at.toISOString();
  const since = new Date(at.getTime() - HOUR_MS).toISOString();
  const guarded = DEPROVISION_EVENT_TYPES.includes(e.type);
  const isUser = e.resourceType === "User";
  const userName = userNameOf(e);
  const held = sql.raw(stateLiteral("held"));
  // The hour's deprovisionings, counted once (a materialized CTE) however often the rule reads it.
  const deprovisioning = sql.raw(DEPROVISION_EVENT_TYPES.map((t) => `'${t}'`).join(", "));
  const recent = sql`recent AS MATERIALIZED (SELECT count(*) AS n FROM ${events} WHERE ${events.type} IN (${deprovisioning}) AND ${events.createdAt} > ${since} AND ${events.state} <> ${sql.raw(stateLiteral("discarded"))})`;
  // Users active when the hour began: active now, less the hour's net change (kept by triggers).
  const activeAtStart = sql`((SELECT ${guardActive.n} FROM ${guardActive} WHERE ${guardActive.id} = 1) - coalesce((SELECT sum(${guardActiveChanges.delta}) FROM ${guardActiveChanges} WHERE ${guardActiveChanges.minute} >= ${since.slice(0, 16)}), 0))`;
  // Held when recent >= maxPerHour and recent >= activeAtStart / 10 (integer division, as before).
  // Decided once (a materialized CTE): the hold decision reads it in two branches.
  const over = sql`over AS MATERIALIZED (SELECT (SELECT n FROM recent) >= ${settings.deprovisionGuard.maxPerHour} AND (SELECT n FROM recent) >= ${activeAtStart} / 10 AS yes)`;
  // The resource's first held event, read once (a materialized CTE), however often the rule reads it.
  const self = sql`self AS MATERIALIZED (SELECT coalesce(${events.heldBy}, ${events.id}) AS root, ${events.hold} AS kind FROM ${events} WHERE ${events.resourceType} = ${e.resourceType} AND ${events.resourceId} = ${e.resourceId} AND ${events.state} = ${held} ORDER BY ${events.seq} LIMIT 1)`;
  const cascadeRoot =
    e.cascadeOf === undefined
      ? sql`NULL`
      : sql`(SELECT coalesce(${events.heldBy}, ${events.id}) FROM ${events} WHERE ${events.resourceType} = 'User' AND ${events.resourceId} = ${e.cascadeOf} AND ${events.state} = ${held} ORDER BY ${events.seq} LIMIT 1)`;
  // A held deletion of another user with this userName: the site still holds that account.
  const nameRoot =
    userName === null
      ? sql`NULL`
      : sql`(SELECT coalesce(${events.heldBy}, ${events.id}) FROM ${events} WHERE ${events.state} = ${held} AND ${events.type} = 'user.deleted' AND ${events.userNameNorm} = ${userName} AND ${events.resourceId} <> ${e.resourceId} ORDER BY ${events.seq} LIMIT 1)`;
  // One CASE decides the kind of hold (or none), once; held_by follows from it. A user hold and a
  // cascade share the fate of their root; a name hold (and what follows it for that user) and a
  // wait only wait. A deactivation or deletion past the threshold of a user who only waits by name
  // is a root of its own: its release must be a guard decision, not a side effect of another's.
  const overIt = guarded ? sql`(SELECT yes FROM over)` : sql`0`;
  const selfHold = isUser ? sql`CASE WHEN self_kind = 'name' THEN 'name' ELSE 'user' END` : sql`'wait'`;
  const decision = settings.dryRun
    ? sql`SELECT NULL AS hold, NULL AS held_by`
    : sql`SELECT hold, CASE hold WHEN 'cascade' THEN cascade_root WHEN 'user' THEN self_root
                           WHEN 'name' THEN coalesce(CASE WHEN self_kind = 'name' THEN self_root END, name_root) ELSE NULL END AS held_by
          FROM (SELECT CASE WHEN cascade_root IS NOT NULL THEN 'cascade'
                            WHEN self_root IS NOT NULL AND self_kind = 'name' AND ${overIt} THEN 'guard'
                            WHEN self_root IS NOT NULL THEN ${selfHold}
                            WHEN name_root IS NOT NULL THEN 'name'
                            WHEN ${overIt} THEN 'guard'
                            ELSE NULL END AS hold,
                       self_root, self_kind, cascade_root, name_root
                FROM (SELECT (SELECT root FROM self) AS self_root, (SELECT kind FROM self) AS self_kind, ${cascadeRoot} AS cascade_root, ${nameRoot} AS name_root))`;
  // In pull mode an event that is not held waits for the site to read it: nothing is put on the queue.
  const published = sql.raw(stateLiteral(settings.siteDelivery === "pull" ? "awaiting_pull" : "queued"));
  const state = settings.dryRun ? sql.raw(stateLiteral("dry_run")) : sql`CASE WHEN hold IS NULL THEN ${published} ELSE ${held} END`;
  const ctes = settings.dryRun ? sql`` : guarded ? sql`${recent}, ${over}, ${self}, ` : sql`${self}, `;
  const values: Partial<Record<keyof typeof events.$inferInsert, SQL>> = {
    id: sql`${e.id}`,
    type: sql`${e.type}`,
    resourceType: sql`${e.resourceType}`,
    resourceId: sql`${e.resourceId}`,
    resourceVersion: sql`${e.resourceVersion}`,
    payload: sql`${webhookBody(e, createdAt)}`,
    state,
    hold: sql`hold`,
    heldBy: sql`held_by`,
    jobId: sql`${e.jobId ?? null}`,
    userNameNorm: sql`${userName}`,
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
    .set({ queuedAt: at, dueAt: at })
    .where(sql`${events.id} IN ${idsIn(ids)} AND ${events.state} = ${sql.raw(stateLiteral("queued"))}`)
    .returning({ id: events.id });
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
        .set({ state: "pending", queuedAt: null, dueAt: null })
        .where(sql`${events.id} IN ${idsIn(chunk)} AND ${events.state} = ${sql.raw(stateLiteral("queued"))}`);
    } catch (err) {
      warn("queue send failed and the events could not be set back to pending; the sweeper will reclaim them", chunk, err);
    }
  }
}

/**
 * The sweeper's and the admin page's sender: put pending events on the queue and mark them
 * queued. If this fails (or the isolate dies first) the cron sweeper re-sends them.
 */
export async function enqueueEvents(db: Db, queue: EventQueue, ids: string[], dueInMs = 0): Promise<void> {
  for (const chunk of chunksOf(ids)) {
    if (!(await trySend(queue, chunk))) continue;
    try {
      const now = new Date();
      const at = now.toISOString();
      await db
        .update(events)
        .set({ state: "queued", queuedAt: at, dueAt: new Date(now.getTime() + dueInMs).toISOString(), updatedAt: at })
        .where(sql`${events.id} IN ${idsIn(chunk)} AND ${events.state} = ${sql.raw(stateLiteral("pending"))}`);
    } catch (err) {
      // Sent, but still marked pending: the sweeper may send it once more (same webhook-id).
      warn("events sent but not marked queued", chunk, err);
    }
  }
}
