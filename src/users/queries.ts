/**
 * User reads (GET by id, list, .search): one D1 round trip each, the request's log row riding
 * in the same batch when it is given. They return SCIM resources; the routes answer HTTP.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { listClauses, USER_SQL_TARGET } from "../db/filter-sql";
import { countRows, isPageTooLarge, joinedRow, selectUserMatch, selectUserPage } from "../db/lists";
import { users } from "../db/schema";
import { parseGroupRefs, selectGroupsOfUsers, selectUserById, userStateOf } from "../db/users";
import type { LogEntry } from "../log/entry";
import { renderUser, type UserState } from "../resources/user";
import { ScimError } from "../scim/errors";
import { LIMITS, LIST_ANSWER_MIB } from "../scim/limits";
import type { ListQuery } from "../scim/list-params";
import { type Candidate, type ListPage, type PageRequest, planPage } from "../scim/paging";
import { type Projection, project, projectionOf, wantsAttribute } from "../scim/projection";
import { USER_RESOURCE } from "../scim/schemas";

export interface ListOptions {
  /** The request's log entry: its row rides in the read's batch. */
  log?: LogEntry;
  /** Estimated bytes the page may carry (LIMITS.listAnswerBytes; less when it shares an answer). */
  budget?: number;
  /** The stage its positions carry (the root /.search serves Users, then Groups). */
  stage?: number;
}

const TOO_LARGE = `These users are more than one list answer carries (${LIST_ANSWER_MIB} MiB as stored, with their groups). Ask for fewer with count, leave groups out with excludedAttributes=groups, or page with a cursor (cursor=), which ends a page early instead.`;

/**
 * The count and one page (with each user's groups when the answer shows them). The filter reaches
 * SQL only as bound parameters over indexed columns (src/db/filter-sql.ts). A lookup by a unique
 * attribute (`userName eq`, `id eq`, the check IdPs make before every create) from the first index
 * on reads its match straight off that attribute's index and is its own count: one row or none.
 */
export async function listUsers(db: Db, baseUrl: string, query: ListQuery, page: PageRequest, opts: ListOptions = {}): Promise<ListPage> {
  const { where, sort, atMostOne } = listClauses(query, USER_RESOURCE, USER_SQL_TARGET);
  const projection = projectionOf(USER_RESOURCE, query.attributes, query.excludedAttributes);
  const withGroups = wantsAttribute(projection, USER_RESOURCE, "groups");
  const render = (row: { user: Parameters<typeof userStateOf>[0]; groups: string | null }) =>
    project(renderUser(userStateOf(row.user), baseUrl, parseGroupRefs(row.groups ?? "[]")), USER_RESOURCE, projection);
  const log = opts.log && !opts.log.written ? opts.log : undefined;
  const logRow = log ? [log.statement(db, 200)] : [];
  const count = countRows(db, USER_SQL_TARGET, "users", where);
  const written = <T>(result: T): T => {
    if (log) log.written = true;
    return result;
  };

  if (page.method === "index" && atMostOne && where && page.startIndex === 1 && page.count > 0) {
    const [rows] = written(await db.batch([selectUserMatch(db, where, withGroups), ...logRow]));
    return { total: rows.length, resources: rows.map(render), bytes: 0 };
  }
  if (page.count === 0) {
    const [n] = written(await db.batch([count, ...logRow]));
    return { total: n[0]?.n ?? 0, resources: [], bytes: 0 };
  }
  const from = page.method === "cursor" ? page.from : undefined;
  const pageQuery = selectUserPage(
    db,
    USER_SQL_TARGET,
    {
      where,
      sort,
      from: from && { direction: from.direction, key: from.position.key, seq: from.position.seq },
      offset: page.method === "index" ? page.startIndex - 1 : 0,
      count: page.count,
      lookahead: page.method === "cursor" ? 1 : 0,
      budget: opts.budget ?? LIMITS.listAnswerBytes,
      method: page.method,
    },
    withGroups,
    baseUrl.length,
  );
  // A page too large aborts the batch, its log row with it: the log middleware writes the refusal's.
  const [n, rows] = written(
    await db.batch([count, pageQuery, ...logRow]).catch((err: unknown) => {
      throw isPageTooLarge(err) ? new ScimError(400, "tooMany", TOO_LARGE) : err;
    }),
  );
  const total = n[0]?.n ?? 0;
  const stage = opts.stage ?? 0;
  const shownUser = (r: (typeof rows)[number]) => {
    const user = joinedRow(r.user);
    return user ? [render({ user, groups: r.groups })] : [];
  };
  const candidates: Candidate[] = rows.map((r) => ({ position: { stage, key: r.key, seq: r.seq }, fits: r.fits === 1 }));
  if (page.method === "index") {
    if (candidates.some((c) => !c.fits)) throw new ScimError(400, "tooMany", TOO_LARGE);
    return { total, resources: rows.flatMap(shownUser), bytes: rows.at(-1)?.running ?? 0 };
  }
  const plan = planPage(page, candidates);
  if (plan.tooLarge) throw new ScimError(400, "tooMany", TOO_LARGE);
  if (plan.restart) return listUsers(db, baseUrl, query, { method: "cursor", count: page.count }, opts);
  const shown = rows.slice(0, plan.shown);
  if (plan.reversed) shown.reverse();
  return {
    total,
    resources: shown.flatMap(shownUser),
    next: plan.next,
    previous: plan.previous,
    first: plan.first,
    last: plan.last,
    bytes: rows[plan.shown - 1]?.running ?? 0,
  };
}

export interface UserRead {
  state: UserState;
  resource: Record<string, unknown>;
}

/**
 * One user with its groups, or null. With `log` its row rides in the batch, the status decided in
 * SQL (200, or 404 when the user is absent), so the read costs one round trip in all.
 */
export async function getUser(db: Db, baseUrl: string, id: string, projection: Projection, log?: LogEntry): Promise<UserRead | null> {
  log?.touch("User", id);
  const read = [selectUserById(db, id), selectGroupsOfUsers(db, [id])] as const;
  const exists = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${id})`;
  const [rows, memberships] = log
    ? await db.batch([
        ...read,
        log.statement(db, sql`CASE WHEN ${exists} THEN 200 ELSE 404 END`, {
          detail: { unless: exists, text: notFoundDetail(id) },
        }),
      ])
    : await db.batch(read);
  if (log) log.written = true;
  const row = rows[0];
  if (!row) return null;
  const state = userStateOf(row);
  const groups = memberships.map((m) => ({ value: m.value, display: m.display }));
  return { state, resource: project(renderUser(state, baseUrl, groups), USER_RESOURCE, projection) };
}

export const notFoundDetail = (id: string) => `User ${id} not found.`;

/** The SCIM representation of a user just written, projected as the request asked. */
export const renderedUser = (state: UserState, groups: Parameters<typeof renderUser>[2], baseUrl: string, projection: Projection) =>
  project(renderUser(state, baseUrl, groups), USER_RESOURCE, projection);
