import { type Context, Hono } from "hono";
import type { AppEnv } from "../env";
import { scimJson } from "../http/respond";
import {
  findResourceType,
  findSchema,
  LISTED_SCHEMAS,
  listOf,
  resourceTypeResource,
  schemaResource,
  serviceProviderConfig,
} from "../scim/discovery";
import { ScimError } from "../scim/errors";
import { RESOURCE_TYPES } from "../scim/schemas";

/** RFC 7644 §4: filtering discovery endpoints is 403; paging parameters are ignored. */
function refuseFilter(c: Context<AppEnv>): void {
  if (c.req.query("filter") !== undefined) {
    throw new ScimError(403, undefined, "Filtering is not supported on discovery endpoints (RFC 7644 §4).");
  }
}

function readOnlyEndpoint(): never {
  throw new ScimError(405, undefined, "Discovery endpoints are read-only; only GET is allowed.", { Allow: "GET" });
}

export const discoveryRoutes = new Hono<AppEnv>();

discoveryRoutes.get("/ServiceProviderConfig", (c) => {
  refuseFilter(c);
  return scimJson(c, serviceProviderConfig(c.get("baseUrl")));
});

discoveryRoutes.get("/ResourceTypes", (c) => {
  refuseFilter(c);
  return scimJson(c, listOf(RESOURCE_TYPES.map((rt) => resourceTypeResource(rt, c.get("baseUrl")))));
});

discoveryRoutes.get("/ResourceTypes/:id", (c) => {
  refuseFilter(c);
  const rt = findResourceType(c.req.param("id"));
  if (!rt) throw new ScimError(404, undefined, `There is no resource type "${c.req.param("id")}"; try User or Group.`);
  return scimJson(c, resourceTypeResource(rt, c.get("baseUrl")));
});

discoveryRoutes.get("/Schemas", (c) => {
  refuseFilter(c);
  return scimJson(c, listOf(LISTED_SCHEMAS.map((s) => schemaResource(s, c.get("baseUrl")))));
});

discoveryRoutes.get("/Schemas/:id", (c) => {
  refuseFilter(c);
  const schema = findSchema(c.req.param("id"));
  if (!schema) throw new ScimError(404, undefined, `There is no schema "${c.req.param("id")}".`);
  return scimJson(c, schemaResource(schema, c.get("baseUrl")));
});

for (const path of ["/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/:id", "/Schemas", "/Schemas/:id"]) {
  discoveryRoutes.on(["POST", "PUT", "PATCH", "DELETE"], path, readOnlyEndpoint);
}
