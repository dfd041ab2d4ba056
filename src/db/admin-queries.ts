import { and, desc, eq, gte, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { EventState } from "../lifecycle/events";
import { foldCase } from "../scim/text";
import type { Db } from "./client";
import { events, users } from "./schema";
import { primaryEmail, userMatches } from "./subjects";

/** What the admin's user list shows of a user. */
const userSummary = {
  seq: users.seq,
  id: users.id,
  userName: users.userName,
  displayName: users.displayName,
  givenName: sql<string | null>`json_extract(${users.data}, '$.name.givenName')`,
  familyName: sql<string | null>`json_extract(${users.data}, '$.name.familyName')`,
  email: primaryEmail,
  externalId: users.externalId,
  active: users.active,
  role: users.role,
  version: users.version,
  updatedAt: users.updatedAt,
};

export interface UserSearch {
  q?: string | undefined;
  cursor?: number | undefined;
  limit: number;
}

/**
 * Users matching `q` (userName, any email, displayName, name, externalId; src/db/subjects.ts),
 * newest first by seq. Without `q` this walks the primary key; with it every row is tested (a
 * substring can hit no index), which is bounded by the directory and stops at the page.
 */
export async function searchUsers(db: Db, s: UserSearch) {
  const where: SQL[] = [];
  if (s.cursor !== undefined) where.push(lt(users.seq, s.cursor));
  if (s.q !== undefined) where.push(userMatches(s.q));
  const rows = await db
    .select(userSummary)
    .from(users)
    .where(and(...where))
    .orderBy(desc(users.seq))
    .limit(s.limit + 1);
  const page = rows.slice(0, s.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > s.limit && last ? String(last.seq) : null };
}

/**
 * The user an admin typed: an id, a userName or a primary email (case-insensitively, as SCIM
 * matches them), in that order of preference. One statement over three unique or indexed columns.
 */
export const selectUserByKey = (db: Db, key: string) => {
  const folded = foldCase(key);
  return db
    .select(userSummary)
    .from(users)
    .where(or(eq(users.id, key), eq(users.userNameNorm, folded), eq(users.emailNorm, folded)))
    .orderBy(sql`${users.id} = ${key} DESC`, sql`${users.userNameNorm} = ${folded} DESC`, users.seq)
    .limit(1);
};

/**
 * The oldest created_at of each of `states`: one min() per state, each answered from the first
 * entry of events_state_idx (state, created_at), so it costs the same for 10 or 10 million events.
 */
export async function oldestPerState<S extends string>(db: Db, states: readonly S[]): Promise<Partial<Record<S, string>>> {
  const columns = Object.fromEntries(
    states.map((state) => [state, sql<string | null>`(SELECT min(${events.createdAt}) FROM ${events} WHERE ${events.state} = ${state})`]),
  ) as Record<S, SQL<string | null>>;
  const [row]: Record<string, unknown>[] = await db.select(columns).from(sql`(SELECT 1)`);
  const out: Partial<Record<S, string>> = {};
  for (const state of states) {
    const at = row?.[state];
    if (typeof at === "string") out[state] = at;
  }
  return out;
}

/**
 * Events created per hour since `since`, by their state now. The condition names every state so
 * that it is a range of events_state_idx per state, read from the index alone.
 */
export async function eventsPerHour(db: Db, since: string, states: readonly EventState[]) {
  const hour = sql<string>`substr(${events.createdAt}, 1, 13)`;
  const rows = await db
    .select({ hour, state: events.state, n: sql<number>`count(*)` })
    .from(events)
    .where(and(inArray(events.state, [...states]), gte(events.createdAt, since)))
    .groupBy(hour, events.state);
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}
