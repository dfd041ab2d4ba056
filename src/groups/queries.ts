/**
 * Group reads (GET by id, list, .search): one D1 round trip each, the request's log row riding
 * in the same batch when it is given; members are read only when the answer shows them (Entra's
 * `excludedAttributes=members` never loads a 10,000-member list).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { GROUP_SQL_TARGET, listClauses } from "../db/filter-sql";
import { countGroups, groupStateOf, selectGroupById, selectGroupPage, selectMembersOf, selectPageIds } from "../db/groups";
import { groups } from "../db/schema";
import type { LogEntry } from "../log/entry";
import { type GroupState, type MemberRef, renderGroup } from "../resources/group";
import type { ListParams } from "../scim/list-params";
import { type Projection, project, projectionOf, wantsAttribute } from "../scim/projection";
import { GROUP_RESOURCE } from "../scim/schemas";
import type { ListResult } from "../users/queries";

function byGroup(rows: readonly { groupId: string; value: string; display: string }[]): Map<string, MemberRef[]> {
  const map = new Map<string, MemberRef[]>();
  for (const r of rows) {
    const list = map.get(r.groupId) ?? [];
    list.push({ value: r.value, display: r.display });
    map.set(r.groupId, list);
  }
  return map;
}

/** The count, one page and (when wanted) the page's members. */
export async function listGroups(db: Db, baseUrl: string, params: ListParams, log?: LogEntry): Promise<ListResult> {
  const { where, order } = listClauses(params, GROUP_RESOURCE, GROUP_SQL_TARGET);
  const projection = projectionOf(GROUP_RESOURCE, params.attributes, params.excludedAttributes);
  const offset = params.startIndex - 1;
  const count = countGroups(db, where);
  const logRow = log ? [log.statement(db, 200)] : [];
  const withMembers = params.count > 0 && wantsAttribute(projection, GROUP_RESOURCE, "members");
  const page = selectGroupPage(db, where, order, params.count, offset);
  const [countRows, rows, memberRows] = withMembers
    ? await db.batch([count, page, selectMembersOf(db, selectPageIds(where, order, params.count, offset)), ...logRow])
    : params.count > 0
      ? await db.batch([count, page, ...logRow]).then(([n, p]) => [n, p, []] as const)
      : await db.batch([count, ...logRow]).then(([n]) => [n, [], []] as const);
  if (log) log.written = true;
  const members = byGroup(memberRows);
  return {
    total: countRows[0]?.n ?? 0,
    resources: rows.map((row) => project(renderGroup(groupStateOf(row), baseUrl, members.get(row.id)), GROUP_RESOURCE, projection)),
  };
}

export interface GroupRead {
  state: GroupState;
  resource: Record<string, unknown>;
}

/**
 * One group, with its members unless the answer leaves them out, or null. With `log` its row
 * rides in the batch, the status decided in SQL (200, or 404 when absent).
 */
export async function getGroup(db: Db, baseUrl: string, id: string, projection: Projection, log?: LogEntry): Promise<GroupRead | null> {
  log?.touch("Group", id);
  const withMembers = wantsAttribute(projection, GROUP_RESOURCE, "members");
  const read = [selectGroupById(db, id), selectMembersOf(db, withMembers ? [id] : [])] as const;
  const exists = sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${groups.id} = ${id})`;
  const [rows, memberRows] = log
    ? await db.batch([
        ...read,
        log.statement(db, sql`CASE WHEN ${exists} THEN 200 ELSE 404 END`, {
          detail: { unless: exists, text: groupNotFound(id) },
        }),
      ])
    : await db.batch(read);
  if (log) log.written = true;
  const row = rows[0];
  if (!row) return null;
  const state = groupStateOf(row);
  const members = memberRows.map((m) => ({ value: m.value, display: m.display }));
  return { state, resource: project(renderGroup(state, baseUrl, members), GROUP_RESOURCE, projection) };
}

export const groupNotFound = (id: string) => `Group ${id} not found.`;
