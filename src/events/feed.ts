import { eq, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { events, siteFeed } from "../db/schema";
import { IN_FEED, stateLiteral, UNREAD_IN_FEED } from "../lifecycle/events";

/**
 * The pull feed (SPEC §9, docs/webhooks.md "The pull feed"): every published event in one global
 * order, read by the site with GET /api/site/v1/events (src/site/api.ts).
 *
 * The order is the events' feed position, which the database assigns in the statement that first
 * publishes an event (a trigger, migrations/0015): at its insert when it is not held, at its
 * release when it was. D1 commits one write transaction at a time, so positions are handed out in
 * commit order and a reader that has seen position p has seen everything below it: an event
 * published later, a held deactivation released an hour on included, always comes after every
 * cursor already given. Nothing here assigns or moves a position.
 *
 * Retention deletes an event only once the site has it (delivered: read past in pull mode,
 * POSTed in push mode) and it has been in the feed eventRetentionDays (src/events/sweeper.ts); the
 * feed remembers the highest position deleted (its floor). A cursor below the floor may have
 * missed an event: 410, run a resync.
 */

/** The most payload one page carries (bytes): a page stops before the event that would pass it, and always holds one. */
export const FEED_PAGE_BYTES = 2_000_000;
export const FEED_MAX_LIMIT = 500;
export const FEED_DEFAULT_LIMIT = 100;
/** An idle poll (same cursor) rewrites the site's last read at most this often: the admin page's "last read" is this fresh. */
const READ_RECORD_MS = 10_000;

export interface FeedItem {
  position: number;
  id: string;
  /** The webhook body exactly as stored and pushed: {"type","timestamp","data"}. */
  payload: string;
}

/** A position and the event the site says it has there ("" for a position before any event). */
export interface FeedPoint {
  position: number;
  eventId: string;
}

export type FeedRead =
  /** Events after the cursor (after the feed's start without one), in feed order. */
  | { kind: "page"; items: FeedItem[]; from: FeedPoint; head: number }
  /** The cursor is below the floor: an event after it has been deleted by retention. */
  | { kind: "expired"; floor: number }
  /** The cursor names a position this feed has not reached, or another event there: the database was restored or replaced. */
  | { kind: "unknown"; head: number };

/** IN_FEED as the SQL list of the triggers of migrations/0015 (test/integration/site-feed.test.ts holds them together). */
export const IN_FEED_SQL = IN_FEED.map(stateLiteral).join(", ");
const UNREAD_SQL = sql.raw(UNREAD_IN_FEED.map(stateLiteral).join(", "));

const row = (column: string) => sql.raw(`(SELECT ${column} FROM site_feed WHERE id = 1)`);

/**
 * Pull mode: the site has every event up to its cursor, so those not delivered yet become
 * delivered (those an earlier read acknowledged are skipped). A seek per state into the range
 * (events_feed_state_idx), whatever the backlog; nothing moves unless `holds` (the cursor holds).
 */
function acknowledgeStatement(db: Db, through: number, holds: SQL, at: string) {
  return db
    .update(events)
    .set({ state: "delivered", deliveredAt: at, updatedAt: at, lastError: null })
    .where(
      sql`${events.feedPosition} > ${row("read_through")} AND ${events.feedPosition} <= ${through} AND ${events.state} IN (${UNREAD_SQL}) AND ${holds}`,
    );
}

/**
 * One page of the feed, in one D1 batch (one transaction, so the page, the floor and the head
 * agree). With `acknowledge` (pull mode) a cursor says the site has every event up to it: those
 * still undelivered become delivered, in the same batch. The site's read is recorded for the admin
 * page (an idle poll at most every 10 s). Nothing is written for a cursor that does not hold.
 */
export async function readFeed(
  db: Db,
  opts: { after: FeedPoint | null; limit: number; acknowledge: boolean; at: string },
): Promise<FeedRead> {
  const { after, limit, at } = opts;
  const c = after?.position ?? null;
  const start: SQL = after ? sql`${after.position}` : row("floor");
  // The cursor holds when nothing after it was deleted, the feed has reached it, and it names the event at its position.
  const holds: SQL = after
    ? sql`(${c} >= ${row("floor")} AND ${c} <= ${row("head")} AND coalesce((SELECT id FROM events WHERE feed_position = ${c}), ${after.eventId}) = ${after.eventId})`
    : sql`1`;
  const staleBefore = new Date(Date.parse(at) - READ_RECORD_MS).toISOString();
  const acknowledge = opts.acknowledge && after !== null;
  const stateQuery = db
    // Named: D1's batch answers rows as objects, and a column named "1" would sort first among their keys.
    .select({ head: siteFeed.head, floor: siteFeed.floor, holds: sql<number>`${holds}`.as("holds") })
    .from(siteFeed)
    .where(eq(siteFeed.id, 1));
  const acknowledged = acknowledge && after ? [acknowledgeStatement(db, after.position, holds, at)] : [];
  const recordRead = db
    .update(siteFeed)
    .set({
      readThrough: acknowledge ? sql`max(${siteFeed.readThrough}, ${c})` : sql`${siteFeed.readThrough}`,
      lastPosition: start,
      lastEventId: after?.eventId ?? "",
      lastReadAt: at,
    })
    .where(
      sql`${siteFeed.id} = 1 AND ${holds} AND (${siteFeed.lastReadAt} IS NULL OR ${siteFeed.lastReadAt} < ${staleBefore} OR ${siteFeed.lastPosition} IS NOT ${start}${acknowledge ? sql` OR ${siteFeed.readThrough} < ${c}` : sql``})`,
    );
  // Up to `limit` events after the start, cut before the one that would take the page past FEED_PAGE_BYTES.
  const next = db
    .select({ position: events.feedPosition, id: events.id, payload: events.payload })
    .from(events)
    .where(sql`${events.feedPosition} > ${start}`)
    .orderBy(events.feedPosition)
    .limit(limit)
    .as("next");
  const bytes = sql`length(CAST(${next.payload} AS BLOB))`;
  const sized = db
    .select({
      position: next.position,
      id: next.id,
      payload: next.payload,
      before: sql<number>`sum(${bytes}) OVER (ORDER BY ${next.position} ROWS UNBOUNDED PRECEDING) - ${bytes}`.as("before"),
    })
    .from(next)
    .as("sized");
  const pageQuery = db
    .select({ position: sized.position, id: sized.id, payload: sized.payload })
    .from(sized)
    .where(lt(sized.before, FEED_PAGE_BYTES))
    .orderBy(sized.position);
  const [stateRows, ...rest] = await db.batch([stateQuery, ...acknowledged, recordRead, pageQuery]);
  const page = rest[rest.length - 1] as Awaited<typeof pageQuery>;
  const state = stateRows[0];
  if (!state) throw new Error("site_feed has no row: migrations/0015 was not applied");
  if (after && Number(state.holds) !== 1) {
    return after.position < state.floor ? { kind: "expired", floor: state.floor } : { kind: "unknown", head: state.head };
  }
  const from = after ?? { position: state.floor, eventId: "" };
  return { kind: "page", items: page.map((r) => ({ position: Number(r.position), id: r.id, payload: r.payload })), from, head: state.head };
}

/** How far the site has read the feed, for the admin page and the stats. */
export interface FeedStatus {
  /** The last position handed out. */
  head: number;
  /** The highest position retention has deleted: a cursor below it gets 410. */
  floor: number;
  /** Pull mode: every event up to here is delivered (the site's cursors have passed it). */
  readThrough: number;
  /** The site's last read: the position of its cursor, the event it named, when. Null: never read. */
  lastRead: { position: number; eventId: string | null; at: string } | null;
  /** Events after the site's last cursor, and how long the oldest of them has been published (seconds). */
  lag: { events: number; seconds: number };
}

export async function feedStatus(db: Db, now: number): Promise<FeedStatus> {
  // The first event after the site's cursor (after the floor, if it has not read or read below it).
  const next = sql`max(coalesce(${siteFeed.lastPosition}, ${siteFeed.floor}), ${siteFeed.floor}) + 1`;
  const [r] = await db
    .select({
      head: siteFeed.head,
      floor: siteFeed.floor,
      readThrough: siteFeed.readThrough,
      lastPosition: siteFeed.lastPosition,
      lastEventId: siteFeed.lastEventId,
      lastReadAt: siteFeed.lastReadAt,
      oldestUnread: sql<string | null>`(SELECT published_at FROM events WHERE feed_position = ${next})`.as("oldest_unread"),
    })
    .from(siteFeed)
    .where(eq(siteFeed.id, 1));
  if (!r) throw new Error("site_feed has no row: migrations/0015 was not applied");
  const at = Math.max(r.floor, r.lastPosition ?? r.floor);
  return {
    head: r.head,
    floor: r.floor,
    readThrough: r.readThrough,
    lastRead:
      r.lastReadAt === null || r.lastPosition === null
        ? null
        : { position: r.lastPosition, eventId: r.lastEventId || null, at: r.lastReadAt },
    lag: {
      events: Math.max(0, r.head - at),
      seconds: r.oldestUnread ? Math.max(0, Math.round((now - Date.parse(r.oldestUnread)) / 1000)) : 0,
    },
  };
}
