/**
 * User reads (GET by id, list, .search): one D1 round trip each, the request's log row riding
 * in the same batch when it is given. They return SCIM resources; the routes answer HTTP.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { listClauses, USER_SQL_TARGET } from "../db/filter-sql";
import { users } from "../db/schema";
import { countUsers, parseGroupRefs, selectGroupsOfUsers, selectUserById, selectUserMatch, selectUserPage, userStateOf } from "../db/users";
import type { LogEntry } from "../log/entry";
import { renderUser, type UserState } from "../resources/user";
import type { ListParams } from "../scim/list-params";
import { type Projection, project, projectionOf, wantsAttribute } from "../scim/projection";
import { USER_RESOURCE } from "../scim/schemas";

export interface ListResult {
  total: number;
  resources: Record<string, unknown>[];
}

/**
 * The count and one page (with each user's groups when the answer shows them). The filter reaches
 * SQL only as bound parameters over indexed columns (src/db/filter-sql.ts). A lookup by a unique
 * attribute (`userName eq`, `id eq`, the check IdPs make before every create) from the first index
 * on reads its match straight off that attribute's index and is its own count: one row or none.
 */
export async function listUsers(db: Db, baseUrl: string, params: ListParams, log?: LogEntry): Promise<ListResult> {
  const { where, order, atMostOne } = listClauses(params, USER_RESOURCE, USER_SQL_TARGET);
  const projection = projectionOf(USER_RESOURCE, params.attributes, params.excludedAttributes);
  const logRow = log?.statement(db, 200);
  const withGroups = wantsAttribute(projection, USER_RESOURCE, "groups");
  const lookup = atMostOne && params.startIndex === 1 && params.count > 0;
  const page = lookup
    ? selectUserMatch(db, where, withGroups)
    : params.count > 0
      ? selectUserPage(db, where, order, params.count, params.startIndex - 1, withGroups)
      : undefined;
  const count = lookup ? undefined : countUsers(db, where);
  let total: number | undefined;
  let rows: Awaited<NonNullable<typeof page>> = [];
  if (!count && page) {
    [rows] = await db.batch(logRow ? [page, logRow] : [page]);
    total = rows.length;
  } else if (count && page) {
    const [n, p] = await db.batch(logRow ? [count, page, logRow] : [count, page]);
    [total, rows] = [n[0]?.n, p];
  } else if (count) {
    const [n] = await db.batch(logRow ? [count, logRow] : [count]);
    total = n[0]?.n;
  }
  if (log) log.written = true;
  return {
    total: total ?? 0,
    resources: rows.map((row) =>
      project(renderUser(userStateOf(row.user), baseUrl, parseGroupRefs(row.groups)), USER_RESOURCE, projection),
    ),
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
