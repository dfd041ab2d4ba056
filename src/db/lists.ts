/**
 * List reads of users and groups (GET /Users, /Groups, their .search, the root /.search): the
 * total, and one page chosen by index (OFFSET) or by cursor (keyset, src/db/list-sql.ts), cut to
 * the bytes a list answer may carry (LIMITS.listAnswerBytes). A page is one statement: the
 * candidates, their estimated size and running total (window functions), and the rows of those
 * that fit, so nothing that does not fit is ever read into the Worker.
 */
import { type Column, eq, type SQL, sql } from "drizzle-orm";
import type { Direction, SortValue } from "../scim/paging";
import type { Db } from "./client";
import { g, type SqlTarget, u } from "./filter-sql";
import { keysetSql, orderSql, type SortSpec } from "./list-sql";
import { groupMembers, groups, resourceCounts, users } from "./schema";
import { stateColumns } from "./users";

/** The slice of a list a page reads. */
export interface PageWindow {
  /** The filter (undefined: every row). */
  where: SQL | undefined;
  sort: SortSpec;
  /** Cursor paging: read after or before this place; index paging: read from `offset`. */
  from: { direction: Direction; key: SortValue; seq: number } | undefined;
  offset: number;
  /** Rows the page may show. */
  count: number;
  /** Rows read beyond `count`: 1 in cursor paging, to know whether another page follows. */
  lookahead: 0 | 1;
  /** Estimated bytes the shown rows may add up to. */
  budget: number;
  /** How a page too large is refused (tooLargeGuard). */
  method: "index" | "cursor";
}

/**
 * Fixed parts of a resource's and a reference's JSON, beside what is stored: a resource's
 * schemas, meta and location (with the base URL); a member or group reference's
 * `{"value":…,"$ref":"<base>/Users/…","display":…,"type":…}` around its id and display name.
 */
const RESOURCE_OVERHEAD = 320;
const REFERENCE_OVERHEAD = 60;

/** A number the service chose (never client input), written into the SQL: it binds no parameter (D1 allows 100). */
const int = (n: number) => sql.raw(String(Math.trunc(n)));

/** The estimated bytes of a user or group row: its document and metadata, plus `refs` (a subquery) when shown. */
const rowBytes = (data: Column, baseLength: number, refs?: SQL) =>
  sql`octet_length(${data}) + ${int(RESOURCE_OVERHEAD + baseLength)}${refs ? sql` + ${refs}` : sql``}`;

/** The references a user's `groups` shows, estimated: what groupsJson returns for it. */
const userGroupBytes = (baseLength: number) =>
  sql`coalesce((SELECT sum(${int(REFERENCE_OVERHEAD + baseLength)} + 2 * octet_length(gm.group_id) + octet_length(gg.display_name))
    FROM ${groupMembers} gm JOIN ${groups} gg ON gg.id = gm.group_id WHERE gm.user_id = u.id), 0)`;

/** The members a group's `members` shows, estimated: what selectMembersJson builds for it. */
const groupMemberBytes = (baseLength: number) =>
  sql`coalesce((SELECT sum(${int(REFERENCE_OVERHEAD + baseLength)} + 2 * octet_length(gm.user_id) + octet_length(coalesce(mu.display_name, mu.user_name)))
    FROM ${groupMembers} gm JOIN ${users} mu ON mu.id = gm.user_id WHERE gm.group_id = g.id), 0)`;

/**
 * The page's candidates in reading order (rn), each with the running total of estimated bytes
 * and whether it fits: within count and within the budget. Weights are positive, so the rows that
 * fit are a prefix. The candidates are chosen reading only the order's columns (an index), and
 * only they are weighed: a last page by OFFSET steps over index entries, not rows.
 */
function fitSql(target: SqlTarget, w: PageWindow, bytes: SQL): SQL {
  const seq = sql`${target.seq}`;
  const reverse = w.from?.direction === "previous";
  const conditions = [w.where, w.from ? keysetSql(w.sort, w.sort.key, seq, w.from.direction, w.from.key, w.from.seq) : undefined].flatMap(
    (c) => (c ? [sql`(${c})`] : []),
  );
  const where = conditions.length ? sql.join(conditions, sql` AND `) : sql`1 = 1`;
  const candidates = sql`SELECT ${seq} AS seq, ${w.sort.key ?? sql`NULL`} AS k FROM ${target.from} WHERE ${where}
    ORDER BY ${orderSql(w.sort, w.sort.key, seq, reverse)} LIMIT ${int(w.count + w.lookahead)} OFFSET ${int(w.offset)}`;
  const order = orderSql(w.sort, sql`c.k`, sql`c.seq`, reverse);
  return sql`SELECT seq, k, rn, running, (rn <= ${int(w.count)} AND running <= ${int(w.budget)}) AS fits FROM (
    SELECT c.seq AS seq, c.k AS k, row_number() OVER win AS rn, sum(${bytes}) OVER win AS running
    FROM (${candidates}) AS c JOIN ${target.from} ON ${seq} = c.seq
    WINDOW win AS (ORDER BY ${order} ROWS UNBOUNDED PRECEDING))`;
}

/**
 * The row a page left-joined to a candidate that fits, or undefined. drizzle types each column of a
 * left-joined selection as nullable; `id` is NOT NULL in the table, so it tells whether one was joined.
 */
export function joinedRow<T extends { id: string }>(cols: { [K in keyof T]: T[K] | null } | null): T | undefined {
  return cols && cols.id !== null ? (cols as T) : undefined;
}

/**
 * Columns every page statement returns for its candidates, named apart from the joined row's own
 * (D1 hands a batch's rows back keyed by column name: a second "seq" would shift every column).
 */
const candidateColumns = {
  seq: sql<number>`f.seq`.as("page_seq"),
  key: sql<SortValue>`f.k`.as("page_key"),
  fits: sql<number>`f.fits`.as("page_fits"),
  running: sql<number>`f.running`.as("page_running"),
};

/** Each user's groups as one JSON array, read per row through group_members_user_idx. */
// Written out with aliases: drizzle leaves column names unqualified in the select list of a query
// without joins, where "id" would mean the user's own.
const groupsJson = sql<string>`(SELECT json_group_array(json_object('value', g.id, 'display', g.display_name))
  FROM ${groupMembers} gm JOIN ${groups} g ON g.id = gm.group_id WHERE gm.user_id = u.id)`;

/**
 * One page of users in ONE statement: every candidate (in reading order) and, for those that fit,
 * the user with its groups when wanted. The filter runs once (a `co` filter's index search, or a
 * scan, is not repeated for the page's groups).
 */
export function selectUserPage(db: Db, target: SqlTarget, w: PageWindow, withGroups: boolean, baseLength: number) {
  const fit = fitSql(target, w, rowBytes(u.data, baseLength, withGroups ? userGroupBytes(baseLength) : undefined));
  return db
    .select({
      ...candidateColumns,
      user: stateColumns(u),
      groups: withGroups ? sql<string>`CASE WHEN f.fits THEN ${groupsJson} END` : sql<null>`NULL`,
    })
    .from(sql`(${fit}) AS f`)
    .leftJoin(u, sql`${u.seq} = f.seq AND f.fits`)
    .orderBy(sql`f.rn`);
}

/** One page of groups (their rows only; members are read for the shown ones by selectMembersJson). */
export function selectGroupPage(db: Db, target: SqlTarget, w: PageWindow, withMembers: boolean, baseLength: number) {
  const fit = fitSql(target, w, rowBytes(g.data, baseLength, withMembers ? groupMemberBytes(baseLength) : undefined));
  return db
    .select({ ...candidateColumns, guard: tooLargeGuard(w.method), group: g })
    .from(sql`(${fit}) AS f`)
    .leftJoin(g, sql`${g.seq} = f.seq AND f.fits`)
    .orderBy(sql`f.rn`);
}

/**
 * A page too large for an answer aborts its own statement, and with it the D1 batch (the log row
 * after it is rolled back; the log middleware then writes the refusal's): by index when any row
 * of it does not fit (a shorter page would make a client that steps startIndex by count skip
 * resources), by cursor only when not even the first does (a cursor page may simply end early).
 * abs() of the smallest integer is SQLite's "integer overflow", an error no page read otherwise
 * raises (a stored document that is not JSON raises "malformed JSON"), so it is recognised by
 * what it says; the page is weighed once, in the statement that reads it.
 */
const OVERFLOW = "integer overflow";
const tooLargeGuard = (method: "index" | "cursor") =>
  sql<number>`abs(CASE WHEN ${method === "index" ? sql`NOT f.fits` : sql`f.rn = 1 AND NOT f.fits`} THEN -9223372036854775807 - 1 ELSE 0 END)`.as(
    "page_guard",
  );

/** The D1 error of a batch whose page was too large (tooLargeGuard). */
export function isPageTooLarge(err: unknown): boolean {
  return String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err).includes(OVERFLOW);
}

/**
 * totalResults: without a filter, the row the triggers of migrations/0013 keep (one read,
 * whatever the directory's size); with one, the count of its matches.
 */
export function countRows(db: Db, target: SqlTarget, resource: "users" | "groups", where: SQL | undefined) {
  if (!where) return db.select({ n: resourceCounts.n }).from(resourceCounts).where(eq(resourceCounts.resource, resource));
  return db.select({ n: sql<number>`count(*)` }).from(target.from).where(where);
}

/** The user a unique attribute's `eq` names (listClauses' atMostOne), read straight off its index. */
export const selectUserMatch = (db: Db, where: SQL, withGroups: boolean) =>
  db
    .select({ user: stateColumns(u), groups: withGroups ? groupsJson : sql<string>`'[]'` })
    .from(u)
    .where(where)
    .limit(1);
