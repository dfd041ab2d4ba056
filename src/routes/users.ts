import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { readJsonObject } from "../http/body";
import { noContent, notModified, resourceResponse } from "../http/respond";
import { ScimError } from "../scim/errors";
import { type ListParams, listParamsFromQuery, listParamsFromSearch } from "../scim/list-params";
import { projectionOf } from "../scim/projection";
import { USER_RESOURCE } from "../scim/schemas";
import { getUser, listUsers, notFoundDetail, renderedUser } from "../users/queries";
import { createUser, deleteUser, patchUser, replaceUser, type UserResult } from "../users/service";
import { answerList } from "./list";
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

const list = (c: Context<AppEnv>, params: ListParams) =>
  answerList(c, params, "Users", (db, page, log) => listUsers(db, c.get("baseUrl"), params, page, { log }));

userRoutes.get("/", (c) => list(c, listParamsFromQuery(c.req.query())));

userRoutes.post("/.search", async (c) => list(c, listParamsFromSearch(await readJsonObject(c))));

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
