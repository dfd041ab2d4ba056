import { Hono } from "hono";
import type { AppEnv } from "../env";
import { readJsonObject } from "../http/body";
import { listResponse, scimJson } from "../http/respond";
import { ScimError } from "../scim/errors";
import { listParamsFromSearch } from "../scim/list-params";
import { dispatchInternal } from "./internal";

export const scimMiscRoutes = new Hono<AppEnv>();

/** /Me (RFC 7644 §3.11) is not supported: the IdP authenticates as itself, not as a user. */
scimMiscRoutes.all("/Me", () => {
  throw new ScimError(501, undefined, "/Me is not supported by this service: the bearer token identifies the IdP, not a user.");
});

interface Listed {
  status: number;
  body: { totalResults?: number; Resources?: unknown[] } & Record<string, unknown>;
}

/**
 * POST /.search at the root (RFC 7644 §3.4.3): Users, then Groups, paged as one list. A filter
 * that names attributes only one resource type has (e.g. `members`) searches only that type;
 * one that is valid for neither is that error.
 */
scimMiscRoutes.post("/.search", async (c) => {
  const body = await readJsonObject(c);
  const params = listParamsFromSearch(body);
  const search = async (endpoint: string, startIndex: number, count: number): Promise<Listed> => {
    const res = await dispatchInternal(c, "POST", `${endpoint}/.search`, { ...body, startIndex, count });
    return { status: res.status, body: (await res.json()) as Listed["body"] };
  };
  const [users, groups] = await Promise.all([search("/Users", 1, 0), search("/Groups", 1, 0)]);
  if (users.status !== 200 && groups.status !== 200) {
    return scimJson(c, users.body, users.status === 400 ? 400 : 500);
  }
  const userTotal = users.status === 200 ? (users.body.totalResults ?? 0) : 0;
  const groupTotal = groups.status === 200 ? (groups.body.totalResults ?? 0) : 0;
  const resources: unknown[] = [];
  const start = params.startIndex;
  if (params.count > 0 && start <= userTotal) {
    const page = await search("/Users", start, Math.min(params.count, userTotal - start + 1));
    resources.push(...(page.body.Resources ?? []));
  }
  const remaining = params.count - resources.length;
  const groupStart = Math.max(1, start - userTotal);
  if (remaining > 0 && groupTotal > 0 && groupStart <= groupTotal) {
    const page = await search("/Groups", groupStart, remaining);
    resources.push(...(page.body.Resources ?? []));
  }
  return listResponse(c, userTotal + groupTotal, start, resources);
});
