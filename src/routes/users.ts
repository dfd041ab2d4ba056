import { sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import { filterToSql, sortToSql, USER_SQL_TARGET } from "../db/filter-sql";
import { logStatement } from "../db/log";
import { fragment } from "../db/sql";
import { countUsers, parseGroupRefs, rowToState, selectGroupsOfUsers, selectUserById, selectUserPage } from "../db/users";
import type { AppEnv } from "../env";
import { readJsonObject } from "../http/body";
import { etagOf, listResponse, noContent, scimJson } from "../http/respond";
import { ownLogEntry, ownReadLogEntry } from "../middleware/request-log";
import { ScimError } from "../scim/errors";
import { parseAttributeList, parseFilter } from "../scim/filter/parser";
import { type ListParams, listParamsFromQuery, listParamsFromSearch } from "../scim/list-params";
import { type Projection, project, wantsAttribute } from "../scim/projection";
import { USER_RESOURCE } from "../scim/schemas";
import { createUser, deleteUser, patchUser, replaceUser, type UserResult } from "../users/service";
import { renderUser } from "../users/view";
import { writeContext } from "./write-context";

export const userRoutes = new Hono<AppEnv>({ strict: false });

function projectionOf(attributes: string | undefined, excluded: string | undefined): Projection {
  return {
    attributes: attributes ? parseAttributeList(attributes, USER_RESOURCE) : [],
    excluded: excluded ? parseAttributeList(excluded, USER_RESOURCE) : [],
  };
}

function queryProjection(c: Context<AppEnv>): Projection {
  return projectionOf(c.req.query("attributes"), c.req.query("excludedAttributes"));
}

function respondWithUser(c: Context<AppEnv>, result: UserResult, status: 200 | 201): Response {
  const body = project(renderUser(result.state, c.get("baseUrl"), result.groups), USER_RESOURCE, queryProjection(c));
  const location = `${c.get("baseUrl")}/Users/${result.state.id}`;
  const headers: Record<string, string> = { ETag: etagOf(result.state.version) };
  if (status === 201) headers.Location = location;
  return scimJson(c, body, status, headers);
}

/**
 * One D1 round trip: the count and the page (with each user's groups, when wanted) in one batch.
 * The filter reaches SQL only as a parameterised fragment over indexed columns.
 */
async function listUsers(c: Context<AppEnv>, params: ListParams): Promise<Response> {
  const db = getDb(c.env.DB);
  const filter = params.filter !== undefined ? parseFilter(params.filter, USER_RESOURCE) : undefined;
  const where = filter ? filterToSql(filter, USER_SQL_TARGET) : { text: "1 = 1", params: [] };
  const order = sortToSql(params.sortBy, params.sortOrder, USER_RESOURCE, USER_SQL_TARGET);
  const projection = projectionOf(params.attributes, params.excludedAttributes);
  const whereSql = fragment(where.text, where.params);
  const countQuery = countUsers(db, whereSql);
  const wantGroups = wantsAttribute(projection, USER_RESOURCE, "groups");
  // The read's own log row rides in the same batch: a read costs one D1 round trip in all.
  const log = logStatement(db, ownLogEntry(c, 200));
  const [countRows, rows] =
    params.count > 0
      ? await db.batch([countQuery, selectUserPage(db, whereSql, order, params.count, params.startIndex - 1, wantGroups), log])
      : await db.batch([countQuery, log]).then(([n]) => [n, []] as const);
  c.get("audit").written = true;
  const baseUrl = c.get("baseUrl");
  const resources = rows.map((row) =>
    project(renderUser(rowToState(row.user), baseUrl, parseGroupRefs(row.groups)), USER_RESOURCE, projection),
  );
  return listResponse(c, countRows[0]?.n ?? 0, params.startIndex, resources);
}

userRoutes.get("/", (c) => listUsers(c, listParamsFromQuery(c.req.query())));

userRoutes.post("/.search", async (c) => listUsers(c, listParamsFromSearch(await readJsonObject(c))));

userRoutes.post("/", async (c) => {
  const body = await readJsonObject(c);
  const result = await createUser(await writeContext(c), body);
  return respondWithUser(c, result, 201);
});

userRoutes.get("/:id", async (c) => {
  const db = getDb(c.env.DB);
  const id = c.req.param("id");
  const inm = c.req.header("if-none-match");
  const notFound = `User ${id} not found.`;
  c.get("audit").touch("User", id);
  // The log row rides in the read's batch, its status decided there (200, or 404 if absent).
  // A conditional GET may answer 304 instead, so its row is written after the response as usual.
  const log = logStatement(db, ownReadLogEntry(c, sql`EXISTS (SELECT 1 FROM users WHERE id = ${id})`, notFound));
  const [rows, memberships] =
    inm === undefined
      ? await db.batch([selectUserById(db, id), selectGroupsOfUsers(db, [id]), log])
      : await db.batch([selectUserById(db, id), selectGroupsOfUsers(db, [id])]);
  if (inm === undefined) c.get("audit").written = true;
  const row = rows[0];
  if (!row) throw new ScimError(404, undefined, notFound);
  const state = rowToState(row);
  const etag = etagOf(state.version);
  if (inm?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    return c.body(null, 304, { ETag: etag });
  }
  return respondWithUser(c, { state, groups: memberships.map((m) => ({ value: m.value, display: m.display })) }, 200);
});

userRoutes.put("/:id", async (c) => {
  const body = await readJsonObject(c);
  return respondWithUser(c, await replaceUser(await writeContext(c), c.req.param("id"), body), 200);
});

userRoutes.patch("/:id", async (c) => {
  const body = await readJsonObject(c);
  // Users answer 200 with the full resource: the Entra validator requires it (SPEC §4).
  return respondWithUser(c, await patchUser(await writeContext(c), c.req.param("id"), body), 200);
});

userRoutes.delete("/:id", async (c) => {
  await deleteUser(await writeContext(c), c.req.param("id"));
  return noContent(c);
});

userRoutes.on(["PUT", "PATCH", "DELETE"], "/", () => {
  throw new ScimError(405, undefined, "This method is not allowed on the /Users collection; address one user as /Users/{id}.", {
    Allow: "GET, POST",
  });
});
