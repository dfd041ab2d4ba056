import { Hono } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { listGroups } from "../groups/queries";
import { readJsonObject } from "../http/body";
import { listResponse } from "../http/respond";
import { ScimError } from "../scim/errors";
import { type ListParams, listParamsFromSearch } from "../scim/list-params";
import { type ListResult, listUsers } from "../users/queries";

/**
 * POST /.search at the root (RFC 7644 §3.4.3): Users, then Groups, paged as one list, through the
 * same list functions as /Users and /Groups (one log row: this request's). A filter that names
 * attributes only one resource type has (e.g. `members`) searches only that type; one that is
 * valid for neither is that error.
 */
export const searchRoutes = new Hono<AppEnv>();

searchRoutes.post("/.search", async (c) => {
  const params = listParamsFromSearch(await readJsonObject(c));
  const db = getDb(c.env.DB);
  const baseUrl = c.get("baseUrl");
  const lists = [listUsers, listGroups];
  const attempt = async (list: (typeof lists)[number], p: ListParams): Promise<ListResult | ScimError> => {
    try {
      return await list(db, baseUrl, p);
    } catch (err) {
      if (err instanceof ScimError && err.status === 400) return err;
      throw err;
    }
  };
  const counts = await Promise.all(lists.map((list) => attempt(list, { ...params, startIndex: 1, count: 0 })));
  if (counts.every((r) => r instanceof ScimError)) throw counts[0];
  const totals = counts.map((r) => (r instanceof ScimError ? 0 : r.total));
  const resources: unknown[] = [];
  // The page starts in the users and goes on into the groups.
  let start = params.startIndex;
  for (const [i, list] of lists.entries()) {
    const total = totals[i] ?? 0;
    const want = params.count - resources.length;
    if (want > 0 && total > 0 && start <= total) {
      const page = await attempt(list, { ...params, startIndex: start, count: Math.min(want, total - start + 1) });
      if (!(page instanceof ScimError)) resources.push(...page.resources);
    }
    start = Math.max(1, start - total);
  }
  return listResponse(
    c,
    totals.reduce((a, b) => a + b, 0),
    params.startIndex,
    resources,
  );
});
