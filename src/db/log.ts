import { and, asc, desc, eq, gte, isNotNull, lt, lte, ne, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { groups, provisioningLog, users } from "./schema";
import { contains, idsNamed, subjectColumns, subjectJoins } from "./subjects";

export type LogRow = typeof provisioningLog.$inferSelect;
export const LOG_OUTCOMES = ["success", "error", "decision", "quirk"] as const;

/**
 * A log row with the names of the user or group it touched: as the row kept them when it was
 * written, else (rows from before it kept them) as they are now, null when there is none now.
 */
export interface NamedLogRow extends LogRow {
  resourceName: string | null;
  resourceDisplayName: string | null;
  resourceEmail: string | null;
}

export interface LogFilter {
  cursor?: number | undefined;
  resourceId?: string | undefined;
  q?: string | undefined;
  outcome?: (typeof LOG_OUTCOMES)[number] | undefined;
  limit: number;
}

// Both written as NULL when empty (src/log/entry.ts); '[]' is tolerated in case a writer stores it.
const hasEntries = (col: typeof provisioningLog.decisions | typeof provisioningLog.quirks): SQL =>
  and(isNotNull(col), ne(col, "[]")) ?? sql`0`;

function outcomeCondition(outcome: (typeof LOG_OUTCOMES)[number]): SQL {
  switch (outcome) {
    case "success":
      return lt(provisioningLog.status, 400);
    case "error":
      return gte(provisioningLog.status, 400);
    case "decision":
      return hasEntries(provisioningLog.decisions);
    case "quirk":
      return hasEntries(provisioningLog.quirks);
  }
}

/**
 * The text anywhere an admin would look for it: path, resource id, decisions, quirks, detail and
 * actor, or the userName, email or group name of the resource the row touched. instr(), never
 * LIKE: D1 refuses LIKE patterns over 50 bytes (src/db/subjects.ts), and `%` and `_` are literal.
 */
function searchCondition(q: string): SQL {
  const columns = [
    provisioningLog.path,
    provisioningLog.resourceId,
    provisioningLog.decisions,
    provisioningLog.quirks,
    provisioningLog.detail,
    provisioningLog.actor,
    // The names the row kept (a deleted user's too), and what it did in words.
    provisioningLog.subjectName,
    provisioningLog.subjectDisplayName,
    provisioningLog.subjectEmail,
    provisioningLog.did,
  ];
  return or(...columns.map((col) => contains(col, q)), sql`${provisioningLog.resourceId} IN ${idsNamed(q)}`) ?? sql`0`;
}

const joins = subjectJoins(provisioningLog.resourceType, provisioningLog.resourceId);

/** The rows of `where`, each with the name of what it touched (one statement: two left joins by id). */
const namedRows = (db: Db, where: SQL | undefined) =>
  db
    .select({ log: provisioningLog, ...subjectColumns })
    .from(provisioningLog)
    .leftJoin(users, joins.user)
    .leftJoin(groups, joins.group)
    .where(where);

/** The names as the row kept them; a row from before it kept them has today's (a live join). */
const flatten = (r: { log: LogRow } & Omit<NamedLogRow, keyof LogRow>): NamedLogRow => {
  const kept = r.log.subjectName !== null;
  return {
    ...r.log,
    resourceName: kept ? r.log.subjectName : r.resourceName,
    resourceDisplayName: kept ? r.log.subjectDisplayName : r.resourceDisplayName,
    resourceEmail: kept ? r.log.subjectEmail : r.resourceEmail,
  };
};

/** Newest first by seq; one row more than the page tells whether an older page exists. */
export async function listLog(db: Db, f: LogFilter): Promise<{ rows: NamedLogRow[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (f.cursor !== undefined) where.push(lt(provisioningLog.seq, f.cursor));
  if (f.resourceId !== undefined) where.push(eq(provisioningLog.resourceId, f.resourceId));
  if (f.outcome !== undefined) where.push(outcomeCondition(f.outcome));
  if (f.q !== undefined) where.push(searchCondition(f.q));
  const rows = (
    await namedRows(db, and(...where))
      .orderBy(desc(provisioningLog.seq))
      .limit(f.limit + 1)
  ).map(flatten);
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > f.limit && last ? String(last.seq) : null };
}

/** The rows about one resource, newest first (a user's timeline). */
export const logOfResource = (db: Db, resourceId: string, limit: number) =>
  db.select().from(provisioningLog).where(eq(provisioningLog.resourceId, resourceId)).orderBy(desc(provisioningLog.seq)).limit(limit);

/** A time range of the log: `at` from `from` (inclusive) to `to` (exclusive), ISO-8601 UTC. */
export interface LogRange {
  from: string;
  to: string;
}

const inRange = (r: LogRange) => and(gte(provisioningLog.at, r.from), lt(provisioningLog.at, r.to));

/**
 * The seq bounds of a range, read from the log_at_idx entries alone (at and the rowid), so an
 * export can then page by seq, the primary key, instead of sorting the range once per page.
 */
export async function logSeqBounds(db: Db, range: LogRange): Promise<{ first: number; last: number; rows: number } | null> {
  const [row] = await db
    .select({
      first: sql<number | null>`min(${provisioningLog.seq})`,
      last: sql<number | null>`max(${provisioningLog.seq})`,
      rows: sql<number>`count(*)`,
    })
    .from(provisioningLog)
    .where(inRange(range));
  return row && row.first !== null && row.last !== null ? { first: row.first, last: row.last, rows: Number(row.rows) } : null;
}

/** Up to `limit` rows of the range after seq `after` (exclusive) and up to `last`, oldest first. */
export async function logChunk(db: Db, range: LogRange, after: number, last: number, limit: number): Promise<NamedLogRow[]> {
  const rows = await namedRows(db, and(gte(provisioningLog.seq, after + 1), lte(provisioningLog.seq, last), inRange(range)))
    .orderBy(asc(provisioningLog.seq))
    .limit(limit);
  return rows.map(flatten);
}

export const REQUEST_OUTCOMES = ["ok", "clientError", "serverError", "refused"] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/**
 * SCIM requests per hour since `since`, by outcome: ok (2xx, 3xx), clientError (4xx but 401 and
 * 429), serverError (5xx), refused (401, 429). A refused client's minute is one counted row
 * ("412 requests with a bad token from ..."): its leading number is the count. Reads the range of
 * log_at_idx, so the cost is the last day's rows, not the log's.
 */
export async function requestsPerHour(db: Db, since: string): Promise<{ hour: string; outcome: RequestOutcome; n: number }[]> {
  const status = provisioningLog.status;
  const outcome = sql<RequestOutcome>`CASE WHEN ${status} IN (401, 429) THEN 'refused' WHEN ${status} >= 500 THEN 'serverError'
    WHEN ${status} >= 400 THEN 'clientError' ELSE 'ok' END`;
  const hour = sql<string>`substr(${provisioningLog.at}, 1, 13)`;
  const requests = sql<number>`sum(CASE WHEN ${provisioningLog.method} = 'REFUSED' THEN max(1, CAST(${provisioningLog.detail} AS INTEGER)) ELSE 1 END)`;
  const rows = await db
    .select({ hour, outcome, n: requests })
    .from(provisioningLog)
    .where(and(gte(provisioningLog.at, since), sql`substr(${provisioningLog.path}, 1, 12) = '/api/scim/v2'`))
    .groupBy(hour, outcome);
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}
