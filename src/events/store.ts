import { and, asc, desc, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { events } from "../db/schema";
import { idsIn } from "../db/sql";
import { EVENT_STATES, type EventState, isEventState } from "../lifecycle/events";
import { DEPROVISION_EVENT_TYPES } from "./types";

export type EventRow = typeof events.$inferSelect;

export interface EventFilter {
  states?: EventState[] | undefined;
  resourceId?: string | undefined;
  type?: string | undefined;
  /** The last seq of the previous page (exclusive). */
  cursor?: number | undefined;
  limit: number;
}

/** Newest first by seq; one row more than the page tells whether an older page exists. */
export async function listEvents(db: Db, f: EventFilter): Promise<{ rows: EventRow[]; nextCursor: string | null }> {
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

/** Per-state counts over all events (every state present, zero included). */
export async function countByState(db: Db): Promise<Record<EventState, number>> {
  const counts = Object.fromEntries(EVENT_STATES.map((s) => [s, 0])) as Record<EventState, number>;
  const rows = await db.select({ state: events.state, n: sql<number>`count(*)` }).from(events).groupBy(events.state);
  for (const r of rows) if (isEventState(r.state)) counts[r.state] = Number(r.n);
  return counts;
}

/**
 * The events of some resyncs that are not delivered, counted by state: index seeks on
 * events_job_idx for each such state, so a progress poll costs what is still on its way, not the
 * whole run (delivered is the run's emitted count minus these).
 */
export const countUndeliveredByJob = (db: Db, jobIds: readonly string[]) =>
  db
    .select({ jobId: events.jobId, state: events.state, n: sql<number>`count(*)` })
    .from(events)
    .where(and(sql`${events.jobId} IN ${idsIn(jobIds)}`, inArray(events.state, [...EVENT_STATES.filter((s) => s !== "delivered")])))
    .groupBy(events.jobId, events.state);

/**
 * The resources where the site answered one resync with a view that differs from the directory
 * (events_disagreed_idx): one row per resource (a group's parts are one), at most `limit`.
 */
export const disagreementsOf = (db: Db, jobId: string, limit: number) =>
  db
    .select({
      resourceType: events.resourceType,
      resourceId: events.resourceId,
      eventId: sql<string>`max(${events.id})`,
      siteView: sql<string>`max(${events.siteView})`,
    })
    .from(events)
    .where(sql`${events.jobId} = ${jobId} AND ${events.siteView} IS NOT NULL`)
    .groupBy(events.resourceType, events.resourceId)
    .orderBy(asc(events.resourceType), asc(events.resourceId))
    .limit(limit);

/**
 * Before dry_run events are redelivered (by `ids`, or all of them, of one resync with `jobId`):
 * what the dry run did not decide is decided now, so a redelivery cannot leak past the guard.
 * Deactivations and deletions become held (guard), for an admin to release deliberately; every
 * other event of a resource with a held event is held behind it (the same user and wait holds as
 * the outbox gives). Two statements, for the redelivery's batch; what is left goes to pending.
 */
export function holdDryRunStatements(db: Db, scope: { ids?: readonly string[]; jobId?: string | undefined }, at: string) {
  const inScope = and(
    eq(events.state, "dry_run"),
    scope.ids ? sql`${events.id} IN ${idsIn(scope.ids)}` : undefined,
    scope.jobId !== undefined ? eq(events.jobId, scope.jobId) : undefined,
  );
  // The outer row by its table's name: inside the subquery an unqualified column would be h's.
  const root = sql`(SELECT coalesce(h.held_by, h.id) FROM events h WHERE h.resource_type = "events"."resource_type" AND h.resource_id = "events"."resource_id" AND h.state = 'held' ORDER BY h.seq LIMIT 1)`;
  return [
    db
      .update(events)
      .set({ state: "held", hold: "guard", heldBy: null, updatedAt: at })
      .where(and(inScope, inArray(events.type, [...DEPROVISION_EVENT_TYPES]))),
    db
      .update(events)
      .set({
        state: "held",
        hold: sql`CASE WHEN ${events.resourceType} = 'User' THEN 'user' ELSE 'wait' END`,
        heldBy: sql`CASE WHEN ${events.resourceType} = 'User' THEN ${root} ELSE NULL END`,
        updatedAt: at,
      })
      .where(and(inScope, sql`${root} IS NOT NULL`)),
  ] as const;
}

/** How many resources each resync's site disagreed on. */
export const countDisagreements = (db: Db, jobIds: readonly string[]) =>
  db
    .select({ jobId: events.jobId, n: sql<number>`count(DISTINCT ${events.resourceId})` })
    .from(events)
    .where(sql`${events.jobId} IN ${idsIn(jobIds)} AND ${events.siteView} IS NOT NULL`)
    .groupBy(events.jobId);

export const selectEvent = (db: Db, id: string) => db.select().from(events).where(eq(events.id, id)).get();

/** The events of one resource, newest first (a user's timeline). */
export const eventsOfResource = (db: Db, resourceId: string, limit: number) =>
  db.select().from(events).where(eq(events.resourceId, resourceId)).orderBy(desc(events.seq)).limit(limit);

/**
 * Moves the given events, while in one of `from`, to `to`; returns the ids that moved. One
 * statement for any number of ids (they are bound as one JSON parameter).
 */
export async function moveEvents(
  db: Db,
  ids: readonly string[],
  from: readonly EventState[],
  to: EventState,
  at: string,
): Promise<string[]> {
  const rows = await db
    .update(events)
    .set({ state: to, updatedAt: at, ...(to === "pending" ? { queuedAt: null } : {}) })
    .where(and(sql`${events.id} IN ${idsIn(ids)}`, inArray(events.state, [...from])))
    .returning({ id: events.id });
  return rows.map((r) => r.id);
}

/**
 * Moves every event in `from` (of one resync, with `jobId`) to pending; returns how many, and the
 * oldest `sendNow` of them to send at once (the sweeper sends the rest after its grace).
 */
export async function moveAllToPending(
  db: Db,
  from: readonly EventState[],
  at: string,
  sendNow: number,
  jobId?: string,
): Promise<{ count: number; first: string[] }> {
  const res = await db
    .update(events)
    .set({ state: "pending", queuedAt: null, updatedAt: at })
    .where(and(inArray(events.state, [...from]), jobId === undefined ? undefined : eq(events.jobId, jobId)));
  const first = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.state, "pending"), eq(events.updatedAt, at)))
    .orderBy(asc(events.createdAt), asc(events.seq))
    .limit(sendNow);
  return { count: res.meta.changes, first: first.map((r) => r.id) };
}

/** Every held event, what the release planner needs of it (src/events/hold.ts). */
export const heldEvents = (db: Db) =>
  db
    .select({
      id: events.id,
      resourceType: events.resourceType,
      resourceId: events.resourceId,
      resourceVersion: events.resourceVersion,
      hold: events.hold,
      heldBy: events.heldBy,
    })
    .from(events)
    .where(eq(events.state, "held"))
    // Oldest first: a synced event repeats its resource's version, and ties release in this order.
    .orderBy(asc(events.seq));

/** A release or discard plan, applied in one batch (only rows still held move). */
export function applyHoldPlan(db: Db, plan: { send: string[]; drop: string[]; toWait: string[] }, at: string) {
  const stillHeld = (ids: string[]) => and(sql`${events.id} IN ${idsIn(ids)}`, eq(events.state, "held"));
  return [
    db.update(events).set({ state: "pending", queuedAt: null, updatedAt: at }).where(stillHeld(plan.send)),
    db.update(events).set({ state: "discarded", updatedAt: at }).where(stillHeld(plan.drop)),
    db.update(events).set({ hold: "wait", heldBy: null, updatedAt: at }).where(stillHeld(plan.toWait)),
  ] as const;
}
