/**
 * Group reads (GET by id, list, .search): one D1 round trip each, the request's log row riding
 * in the same batch when it is given; members are read only when the answer shows them (Entra's
 * `excludedAttributes=members` never loads a 10,000-member list).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { GROUP_SQL_TARGET, listClauses } from "../db/filter-sql";
import { groupStateOf, selectGroupById, selectMembersJson } from "../db/groups";
import { countRows, isPageTooLarge, joinedRow, selectGroupPage } from "../db/lists";
import { groups } from "../db/schema";
import type { LogEntry } from "../log/entry";
import { type GroupState, type MemberRef, renderGroup } from "../resources/group";
import { ScimError } from "../scim/errors";
import { type ScimResource, withMembersText } from "../scim/json-text";
import { LIMITS, LIST_ANSWER_MIB } from "../scim/limits";
import type { ListQuery } from "../scim/list-params";
import { type Candidate, type ListPage, type PageRequest, planPage } from "../scim/paging";
import { type Projection, project, projectionOf, wantsAttribute } from "../scim/projection";
import { GROUP_RESOURCE } from "../scim/schemas";
import type { ListOptions } from "../users/queries";

/** The projection names sub-attributes of members (`members.value`): they are picked from objects, not text. */
const narrowsMembers = (p: Projection) => [...p.attributes, ...p.excluded].some((a) => a.attr === "members" && a.sub !== undefined);

/** The members JSON array SQLite built, as the objects renderGroup takes. */
function parsedMembers(json: string): MemberRef[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((m: { value?: unknown; display?: unknown }) =>
    typeof m.value === "string" && typeof m.display === "string" ? [{ value: m.value, display: m.display }] : [],
  );
}

/**
 * A group as the request asked to see it. Its members, when shown, arrive as the JSON text SQLite
 * built and are spliced in as text (src/scim/json-text.ts); only a projection of their
 * sub-attributes parses them.
 */
function rendered(state: GroupState, baseUrl: string, membersJson: string | undefined, projection: Projection) {
  if (membersJson !== undefined && narrowsMembers(projection)) {
    return project(renderGroup(state, baseUrl, parsedMembers(membersJson)), GROUP_RESOURCE, projection);
  }
  const resource = project(renderGroup(state, baseUrl), GROUP_RESOURCE, projection);
  return membersJson === undefined ? resource : withMembersText(resource, membersJson);
}

const TOO_LARGE = `These groups' members are more than one list answer carries (${LIST_ANSWER_MIB} MiB as stored). List groups with excludedAttributes=members and read each group's members with GET /Groups/{id}, ask for fewer with count, or page with a cursor (cursor=), which ends a page early instead.`;

/**
 * The count and one page, with the shown groups' members when the answer shows them. Without
 * members, one round trip (Entra's `excludedAttributes=members` never reads a member). With them,
 * two: the page is weighed with its members first (one sum per group over its index), and only
 * the members of the groups that fit are read, so a page of big groups never loads more than the
 * answer may carry.
 */
export async function listGroups(db: Db, baseUrl: string, query: ListQuery, page: PageRequest, opts: ListOptions = {}): Promise<ListPage> {
  const { where, sort } = listClauses(query, GROUP_RESOURCE, GROUP_SQL_TARGET);
  const projection = projectionOf(GROUP_RESOURCE, query.attributes, query.excludedAttributes);
  const log = opts.log && !opts.log.written ? opts.log : undefined;
  const count = countRows(db, GROUP_SQL_TARGET, "groups", where);
  const written = <T>(result: T): T => {
    if (log) log.written = true;
    return result;
  };
  if (page.count === 0) {
    const [n] = written(await db.batch([count, ...(log ? [log.statement(db, 200)] : [])]));
    return { total: n[0]?.n ?? 0, resources: [], bytes: 0 };
  }
  const withMembers = wantsAttribute(projection, GROUP_RESOURCE, "members");
  const from = page.method === "cursor" ? page.from : undefined;
  const pageQuery = selectGroupPage(
    db,
    GROUP_SQL_TARGET,
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
    withMembers,
    baseUrl.length,
  );
  // Without members the log row rides in this batch; with them, in the members' batch. A page too
  // large aborts its batch (its log row with it), and a page with no group writes no members'
  // batch: the log middleware then writes the row, with the answer's status.
  const logRows = log && !withMembers ? [log.statement(db, 200)] : [];
  const [n, rows] = await db.batch([count, pageQuery, ...logRows]).catch((err: unknown) => {
    throw isPageTooLarge(err) ? new ScimError(400, "tooMany", TOO_LARGE) : err;
  });
  if (!withMembers) written(rows);
  const total = n[0]?.n ?? 0;
  const stage = opts.stage ?? 0;
  const candidates: Candidate[] = rows.map((r) => ({ position: { stage, key: r.key, seq: r.seq }, fits: r.fits === 1 }));
  let shown = rows;
  let plan: ReturnType<typeof planPage> | undefined;
  if (page.method === "index") {
    if (candidates.some((c) => !c.fits)) throw new ScimError(400, "tooMany", TOO_LARGE);
  } else {
    plan = planPage(page, candidates);
    if (plan.tooLarge) throw new ScimError(400, "tooMany", TOO_LARGE);
    if (plan.restart) return listGroups(db, baseUrl, query, { method: "cursor", count: page.count }, opts);
    shown = rows.slice(0, plan.shown);
    if (plan.reversed) shown.reverse();
  }
  const states = shown.flatMap((r) => {
    const row = joinedRow(r.group);
    return row ? [groupStateOf(row)] : [];
  });
  let members = new Map<string, string>();
  if (withMembers && states.length > 0) {
    const ids = states.map((st) => st.id);
    const [memberRows] = written(await db.batch([selectMembersJson(db, ids, baseUrl), ...(log ? [log.statement(db, 200)] : [])]));
    members = new Map(memberRows.map((m) => [m.groupId, m.members]));
  }
  return {
    total,
    resources: states.map((st) => rendered(st, baseUrl, withMembers ? (members.get(st.id) ?? "[]") : undefined, projection)),
    next: plan?.next,
    previous: plan?.previous,
    first: plan?.first,
    last: plan?.last,
    bytes: (plan ? rows[plan.shown - 1] : rows.at(-1))?.running ?? 0,
  };
}

export interface GroupRead {
  state: GroupState;
  resource: ScimResource;
}

/**
 * One group, with its members unless the answer leaves them out, or null. With `log` its row
 * rides in the batch, the status decided in SQL (200, or 404 when absent).
 */
export async function getGroup(db: Db, baseUrl: string, id: string, projection: Projection, log?: LogEntry): Promise<GroupRead | null> {
  log?.touch("Group", id);
  const withMembers = wantsAttribute(projection, GROUP_RESOURCE, "members");
  const read = [selectGroupById(db, id), selectMembersJson(db, withMembers ? [id] : [], baseUrl)] as const;
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
  return { state, resource: rendered(state, baseUrl, withMembers ? (memberRows[0]?.members ?? "[]") : undefined, projection) };
}

export const groupNotFound = (id: string) => `Group ${id} not found.`;
