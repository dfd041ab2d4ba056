import type { Context } from "hono";
import { type Db, getDb } from "../db/client";
import type { AppEnv } from "../env";
import { listResponse } from "../http/respond";
import { serviceKey } from "../keys/service-key";
import type { LogEntry } from "../log/entry";
import { checkCursor, decodeCursor, encodeCursor, queryDigest } from "../scim/cursor";
import type { ListParams } from "../scim/list-params";
import type { Direction, ListPage, PageRequest, Position } from "../scim/paging";

/** Reads one page of a list: the resource's list function (src/users/queries.ts), or pageOfArray for a fixed list. */
export type PageReader = (db: Db, page: PageRequest, log: LogEntry) => Promise<ListPage>;

/**
 * Answers a list or .search request, by index or by cursor (RFC 9865), for any list: `endpoint`
 * names it in the cursors it issues, so a cursor of /Users is refused by /Groups. A cursor is
 * checked (signature, same query, same count, age) before the list is read; the page's cursors
 * are signed after. The cursor key costs one D1 read per isolate, then none. A fixed list pages the
 * same way through pageOfArray (src/scim/paging.ts), e.g. the site's roles:
 * `answerList(c, params, "Roles", async (_db, page) => { const p = pageOfArray(ROLES, page);
 * return { total: p.total, resources: p.items.map(render), next: p.next, previous: p.previous, bytes: 0 }; })`.
 */
export async function answerList(c: Context<AppEnv>, params: ListParams, endpoint: string, read: PageReader): Promise<Response> {
  const db = getDb(c.env.DB);
  const paging = params.paging;
  if (paging.method === "index") {
    const page = await read(db, paging, c.get("log"));
    return listResponse(c, { totalResults: page.total, startIndex: paging.startIndex, resources: page.resources });
  }
  const key = await serviceKey(db, "cursor");
  const query = await queryDigest({ endpoint, ...params });
  const now = Math.floor(Date.now() / 1000);
  let from: { direction: Direction; position: Position } | undefined;
  if (paging.cursor !== "") {
    const claims = await decodeCursor(key, paging.cursor);
    checkCursor(claims, { query, count: paging.count, now });
    from = { direction: claims.direction, position: claims.position };
  }
  const page = await read(db, { method: "cursor", count: paging.count, from }, c.get("log"));
  const cursor = (direction: Direction, position: Position | undefined) =>
    position ? encodeCursor(key, { query, count: paging.count, issuedAt: now, direction, position }) : undefined;
  return listResponse(c, {
    totalResults: page.total,
    resources: page.resources,
    nextCursor: await cursor("next", page.next),
    previousCursor: await cursor("previous", page.previous),
  });
}
