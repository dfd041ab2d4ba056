import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { getGroup, groupNotFound, listGroups } from "../groups/queries";
import { createGroup, deleteGroup, patchGroup, replaceGroup } from "../groups/service";
import { readJsonObject } from "../http/body";
import { noContent, notModified, resourceResponse } from "../http/respond";
import { type GroupState, renderGroup } from "../resources/group";
import { ScimError } from "../scim/errors";
import { type ListParams, listParamsFromQuery, listParamsFromSearch } from "../scim/list-params";
import { project, projectionOf, wantsAttribute } from "../scim/projection";
import { GROUP_RESOURCE } from "../scim/schemas";
import { answerList } from "./list";
import { writeContext } from "./write-context";

/** /Groups (RFC 7644 §3): reads through src/groups/queries.ts, writes through src/groups/service.ts. */
export const groupRoutes = new Hono<AppEnv>({ strict: false });

const projection = (c: Context<AppEnv>) => projectionOf(GROUP_RESOURCE, c.req.query("attributes"), c.req.query("excludedAttributes"));

/** attributes/excludedAttributes asked for the resource back: a group PATCH then answers 200 (SPEC §4). */
const wantsBody = (c: Context<AppEnv>) => c.req.query("attributes") !== undefined || c.req.query("excludedAttributes") !== undefined;

/**
 * A written group as the request asked to see it. Its members (with their display names) are read
 * back in one round trip when the answer shows them; without them the written state is enough.
 */
async function answer(c: Context<AppEnv>, state: GroupState, status: 200 | 201 | 204): Promise<Response> {
  const location = status === 201 ? `${c.get("baseUrl")}/Groups/${state.id}` : undefined;
  if (status === 204) return resourceResponse(c, null, state.version, 204);
  const wanted = projection(c);
  if (!wantsAttribute(wanted, GROUP_RESOURCE, "members")) {
    return resourceResponse(c, project(renderGroup(state, c.get("baseUrl")), GROUP_RESOURCE, wanted), state.version, status, location);
  }
  const read = await getGroup(getDb(c.env.DB), c.get("baseUrl"), state.id, wanted);
  if (!read) throw new ScimError(404, undefined, groupNotFound(state.id));
  return resourceResponse(c, read.resource, read.state.version, status, location);
}

const list = (c: Context<AppEnv>, params: ListParams) =>
  answerList(c, params, "Groups", (db, page, log) => listGroups(db, c.get("baseUrl"), params, page, { log }));

groupRoutes.get("/", (c) => list(c, listParamsFromQuery(c.req.query())));

groupRoutes.post("/.search", async (c) => list(c, listParamsFromSearch(await readJsonObject(c))));

groupRoutes.get("/:id", async (c) => {
  const id = c.req.param("id");
  // A conditional GET may answer 304: its log row is written after the response instead.
  const conditional = c.req.header("if-none-match") !== undefined;
  const read = await getGroup(getDb(c.env.DB), c.get("baseUrl"), id, projection(c), conditional ? undefined : c.get("log"));
  if (conditional) c.get("log").touch("Group", id);
  if (!read) throw new ScimError(404, undefined, groupNotFound(id));
  return notModified(c, read.state.version) ?? resourceResponse(c, read.resource, read.state.version, 200);
});

groupRoutes.post("/", async (c) => {
  const body = await readJsonObject(c);
  return answer(c, await createGroup(writeContext(c, 201), body), 201);
});

groupRoutes.put("/:id", async (c) => {
  const body = await readJsonObject(c);
  return answer(c, await replaceGroup(writeContext(c, 200), c.req.param("id"), body), 200);
});

// Groups answer PATCH with 204, or 200 with the resource when attributes/excludedAttributes is asked (SPEC §4).
groupRoutes.patch("/:id", async (c) => {
  const body = await readJsonObject(c);
  const status = wantsBody(c) ? 200 : 204;
  return answer(c, await patchGroup(writeContext(c, status), c.req.param("id"), body), status);
});

groupRoutes.delete("/:id", async (c) => {
  await deleteGroup(writeContext(c, 204), c.req.param("id"));
  return noContent(c);
});

groupRoutes.on(["PUT", "PATCH", "DELETE"], "/", () => {
  throw new ScimError(405, undefined, "This method is not allowed on the /Groups collection; address one group as /Groups/{id}.", {
    Allow: "GET, POST",
  });
});
