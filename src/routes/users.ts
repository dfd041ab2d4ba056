import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { readJsonObject } from "../http/body";
import { listResponse, noContent, notModified, resourceResponse } from "../http/respond";
import { ScimError } from "../scim/errors";
import { listParamsFromQuery, listParamsFromSearch } from "../scim/list-params";
import { projectionOf } from "../scim/projection";
import { USER_RESOURCE } from "../scim/schemas";
import { getUser, listUsers, notFoundDetail, renderedUser } from "../users/queries";
import { createUser, deleteUser, patchUser, replaceUser, type UserResult } from "../users/service";
import { writeContext } from "./write-context";

/** /Users (RFC 7644 §3): reads through src/users/queries.ts, writes through src/users/service.ts. */
export const userRoutes = new Hono<AppEnv>({ strict: false });

const projection = (c: Context<AppEnv>) => projectionOf(USER_RESOURCE, c.req.query("attributes"), c.req.query("excludedAttributes"));

function answer(c: Context<AppEnv>, result: UserResult, status: 200 | 201): Response {
  const resource = renderedUser(result.state, result.groups, c.get("baseUrl"), projection(c));
  return resourceResponse(
    c,
    resource,
    result.state.version,
    status,
    status === 201 ? `${c.get("baseUrl")}/Users/${result.state.id}` : undefined,
  );
}

userRoutes.get("/", async (c) => {
  const params = listParamsFromQuery(c.req.query());
  const list = await listUsers(getDb(c.env.DB), c.get("baseUrl"), params, c.get("log"));
  return listResponse(c, list.total, params.startIndex, list.resources);
});

userRoutes.post("/.search", async (c) => {
  const params = listParamsFromSearch(await readJsonObject(c));
  const list = await listUsers(getDb(c.env.DB), c.get("baseUrl"), params, c.get("log"));
  return listResponse(c, list.total, params.startIndex, list.resources);
});

userRoutes.get("/:id", async (c) => {
  const id = c.req.param("id");
  // A conditional GET may answer 304: its log row is written after the response instead.
  const conditional = c.req.header("if-none-match") !== undefined;
  const read = await getUser(getDb(c.env.DB), c.get("baseUrl"), id, projection(c), conditional ? undefined : c.get("log"));
  if (conditional) c.get("log").touch("User", id);
  if (!read) throw new ScimError(404, undefined, notFoundDetail(id));
  return notModified(c, read.state.version) ?? resourceResponse(c, read.resource, read.state.version, 200);
});

userRoutes.post("/", async (c) => {
  const body = await readJsonObject(c);
  return answer(c, await createUser(writeContext(c, 201), body), 201);
});

userRoutes.put("/:id", async (c) => {
  const body = await readJsonObject(c);
  return answer(c, await replaceUser(writeContext(c, 200), c.req.param("id"), body), 200);
});

// Users answer PATCH with 200 and the full resource: the Entra validator requires it (SPEC §4).
userRoutes.patch("/:id", async (c) => {
  const body = await readJsonObject(c);
  return answer(c, await patchUser(writeContext(c, 200), c.req.param("id"), body), 200);
});

userRoutes.delete("/:id", async (c) => {
  await deleteUser(writeContext(c, 204), c.req.param("id"));
  return noContent(c);
});

userRoutes.on(["PUT", "PATCH", "DELETE"], "/", () => {
  throw new ScimError(405, undefined, "This method is not allowed on the /Users collection; address one user as /Users/{id}.", {
    Allow: "GET, POST",
  });
});
