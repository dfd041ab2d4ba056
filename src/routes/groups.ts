import { sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import { filterToSql, GROUP_SQL_TARGET, sortToSql } from "../db/filter-sql";
import { selectGroupById, selectMembersOf } from "../db/groups";
import { logStatement } from "../db/log";
import { groups } from "../db/schema";
import { fragment } from "../db/sql";
import type { AppEnv } from "../env";
import { createGroup, deleteGroup, patchGroup, replaceGroup } from "../groups/service";
import { type GroupState, groupState, type MemberRef, renderGroup } from "../groups/view";
import { readJsonObject } from "../http/body";
import { etagOf, listResponse, noContent, scimJson } from "../http/respond";
import { ownLogEntry, ownReadLogEntry } from "../middleware/request-log";
import { ScimError } from "../scim/errors";
import { parseAttributeList, parseFilter } from "../scim/filter/parser";
import { type ListParams, listParamsFromQuery, listParamsFromSearch } from "../scim/list-params";
import { type Projection, project, wantsAttribute } from "../scim/projection";
import { GROUP_RESOURCE } from "../scim/schemas";
import { writeContext } from "./write-context";

export const groupRoutes = new Hono<AppEnv>({ strict: false });

function projectionOf(attributes: string | undefined, excluded: string | undefined): Projection {
  return {
    attributes: attributes ? parseAttributeList(attributes, GROUP_RESOURCE) : [],
    excluded: excluded ? parseAttributeList(excluded, GROUP_RESOURCE) : [],
  };
}

const queryProjection = (c: Context<AppEnv>) => projectionOf(c.req.query("attributes"), c.req.query("excludedAttributes"));

function byGroup(rows: readonly { groupId: string; value: string; display: string }[]): Map<string, MemberRef[]> {
  const map = new Map<string, MemberRef[]>();
  for (const r of rows) {
    const list = map.get(r.groupId) ?? [];
    list.push({ value: r.value, display: r.display });
    map.set(r.groupId, list);
  }
  return map;
}

/**
 * Reads one group with its members unless the response leaves them out: Entra's
 * `excludedAttributes=members` never loads a 10,000-member list.
 */
async function respondWithGroup(c: Context<AppEnv>, id: string, status: 200 | 201, known?: GroupState): Promise<Response> {
  const db = getDb(c.env.DB);
  const projection = queryProjection(c);
  const withMembers = wantsAttribute(projection, GROUP_RESOURCE, "members");
  const audit = c.get("audit");
  audit.touch("Group", id);
  const inm = c.req.header("if-none-match");
  let state = known;
  let members: MemberRef[] = [];
  if (!state || withMembers) {
    const notFound = `Group ${id} not found.`;
    const read = [selectGroupById(db, id), selectMembersOf(db, withMembers ? [id] : [])] as const;
    // A plain GET's log row rides in its read batch (200, or 404 if absent): one round trip in
    // all. After a write the write batch logged it; a conditional GET may answer 304, so its row
    // is written after the response as usual.
    const logHere = !audit.written && c.req.method === "GET" && inm === undefined;
    const [rows, memberRows] = logHere
      ? await db.batch([...read, logStatement(db, ownReadLogEntry(c, sql`EXISTS (SELECT 1 FROM groups WHERE id = ${id})`, notFound))])
      : await db.batch(read);
    if (logHere) audit.written = true;
    const row = rows[0];
    if (!row) throw new ScimError(404, undefined, notFound);
    state = groupState(row);
    members = memberRows.map((m) => ({ value: m.value, display: m.display }));
  }
  const etag = etagOf(state.version);
  if (status === 200 && c.req.method === "GET" && inm?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    return c.body(null, 304, { ETag: etag });
  }
  const headers: Record<string, string> = { ETag: etag };
  if (status === 201) headers.Location = `${c.get("baseUrl")}/Groups/${id}`;
  return scimJson(c, project(renderGroup(state, c.get("baseUrl"), members), GROUP_RESOURCE, projection), status, headers);
}

/** Count, page and (when wanted) the page's members in one D1 round trip. */
async function listGroups(c: Context<AppEnv>, params: ListParams): Promise<Response> {
  const db = getDb(c.env.DB);
  const filter = params.filter !== undefined ? parseFilter(params.filter, GROUP_RESOURCE) : undefined;
  const where = filter ? filterToSql(filter, GROUP_SQL_TARGET) : { text: "1 = 1", params: [] };
  const order = sortToSql(params.sortBy, params.sortOrder, GROUP_RESOURCE, GROUP_SQL_TARGET);
  const projection = projectionOf(params.attributes, params.excludedAttributes);
  const offset = params.startIndex - 1;
  const g = alias(groups, "g");
  const whereSql = fragment(where.text, where.params);
  const countQuery = db.select({ n: sql<number>`count(*)` }).from(g).where(whereSql);
  const pageQuery = db.select().from(g).where(whereSql).orderBy(sql.raw(order)).limit(params.count).offset(offset);
  const pageIds = sql`SELECT g.id FROM groups g WHERE ${whereSql} ORDER BY ${sql.raw(order)} LIMIT ${params.count} OFFSET ${offset}`;
  const withMembers = params.count > 0 && wantsAttribute(projection, GROUP_RESOURCE, "members");
  // The read's own log row rides in the same batch: a list costs one D1 round trip in all.
  const log = logStatement(db, ownLogEntry(c, 200));
  const [countRows, rows, memberRows] = withMembers
    ? await db.batch([countQuery, pageQuery, selectMembersOf(db, pageIds), log])
    : params.count > 0
      ? await db.batch([countQuery, pageQuery, log]).then(([n, page]) => [n, page, []] as const)
      : await db.batch([countQuery, log]).then(([n]) => [n, [], []] as const);
  c.get("audit").written = true;
  const members = byGroup(memberRows);
  const baseUrl = c.get("baseUrl");
  const resources = rows.map((row) => project(renderGroup(groupState(row), baseUrl, members.get(row.id)), GROUP_RESOURCE, projection));
  return listResponse(c, countRows[0]?.n ?? 0, params.startIndex, resources);
}

groupRoutes.get("/", (c) => listGroups(c, listParamsFromQuery(c.req.query())));

groupRoutes.post("/.search", async (c) => listGroups(c, listParamsFromSearch(await readJsonObject(c))));

groupRoutes.post("/", async (c) => {
  const body = await readJsonObject(c);
  const state = await createGroup(await writeContext(c), body);
  return respondWithGroup(c, state.id, 201);
});

groupRoutes.get("/:id", (c) => respondWithGroup(c, c.req.param("id"), 200));

groupRoutes.put("/:id", async (c) => {
  const body = await readJsonObject(c);
  const state = await replaceGroup(await writeContext(c), c.req.param("id"), body);
  return respondWithGroup(c, state.id, 200);
});

// Groups answer 204, or 200 with the resource when attributes/excludedAttributes is asked (SPEC §4).
groupRoutes.patch("/:id", async (c) => {
  const body = await readJsonObject(c);
  const ctx = await writeContext(c);
  const state = await patchGroup(ctx, c.req.param("id"), body);
  return ctx.wantsBody ? respondWithGroup(c, state.id, 200) : noContent(c);
});

groupRoutes.delete("/:id", async (c) => {
  await deleteGroup(await writeContext(c), c.req.param("id"));
  return noContent(c);
});

groupRoutes.on(["PUT", "PATCH", "DELETE"], "/", () => {
  throw new ScimError(405, undefined, "This method is not allowed on the /Groups collection; address one group as /Groups/{id}.", {
    Allow: "GET, POST",
  });
});
