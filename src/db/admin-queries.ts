import { and, desc, eq, gte, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { EventState } from "../lifecycle/events";
import { foldCase } from "../scim/text";
import { latinLookalikeKey, lookalikeReasons } from "../scim/username";
import type { Db } from "./client";
import { events, users } from "./schema";
import { idsIn } from "./sql";
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
  const page = await searchUserRows(db, s);
  return { rows: await withLookalikes(db, page.rows), nextCursor: page.nextCursor };
}

/**
 * Each user with what an admin should know before trusting its userName (src/scim/username.ts):
 * invisible characters, mixed scripts, a legacy userName the rules would refuse, another user it
 * can pass for (its Latin look-alike key is that user's folded userName), or another user it
 * folds to (a duplicate the refold recorded, src/jobs/fold.ts). One more statement for the page.
 */
async function withLookalikes<R extends { id: string; userName: string; userNameNorm: string; userNameDup: string | null }>(
  db: Db,
  rows: R[],
) {
  const keys = new Map<string, string>();
  for (const r of rows) {
    const key = latinLookalikeKey(r.userName);
    if (key !== undefined && key !== r.userNameNorm) keys.set(r.id, key);
  }
  const wanted = [...new Set([...keys.values(), ...rows.flatMap((r) => (r.userNameDup === r.userNameNorm ? [r.userNameNorm] : []))])];
  const others = wanted.length
    ? await db
        .select({ id: users.id, userName: users.userName, userNameNorm: users.userNameNorm })
        .from(users)
        .where(sql`${users.userNameNorm} IN ${idsIn(wanted)}`)
        .limit(200)
    : [];
  return rows.map(({ userNameNorm, userNameDup, ...row }) => {
    const warnings = lookalikeReasons(row.userName);
    const key = keys.get(row.id);
    for (const o of others) {
      if (o.id === row.id) continue;
      if (key !== undefined && o.userNameNorm === key) warnings.push(`looks like the userName of another user: ${o.userName}`);
      else if (userNameDup === userNameNorm && o.userNameNorm === userNameNorm) {
        warnings.push(`is the same userName as another user's under Unicode folding (both created before the rules): ${o.userName}`);
      }
    }
    return { ...row, warnings };
  });
}

async function searchUserRows(db: Db, s: UserSearch) {
  const where: SQL[] = [];
  if (s.cursor !== undefined) where.push(lt(users.seq, s.cursor));
  if (s.q !== undefined) where.push(userMatches(s.q));
  const rows = await db
    .select({ ...userSummary, userNameNorm: users.userNameNorm, userNameDup: users.userNameDup })
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
