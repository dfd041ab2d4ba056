/**
 * Bench only (bench/service/index.ts, with D1_STATS on; never deployed): a cursor of
 * `GET /Users?count=<count>[&excludedAttributes=…]&cursor=…` in the default order, signed with the
 * service's own key, whose page starts halfway through the directory (`at=middle`) or is its last
 * `count` users (`at=last`). Walking there page by page would take 5,000 requests at 1,000,000
 * users; the cursor is exactly the one such a walk would have been given.
 */
import { getDb } from "../../src/db/client";
import { serviceKey } from "../../src/keys/service-key";
import { encodeCursor, queryDigest } from "../../src/scim/cursor";

export const CURSOR_AT_PATH = "/debug/cursor-at";

export async function cursorAt(request: Request, env: { DB: D1Database }): Promise<Response> {
  const url = new URL(request.url);
  const count = Number(url.searchParams.get("count") ?? "100");
  const at = url.searchParams.get("at");
  const sql =
    at === "middle"
      ? "SELECT seq FROM users ORDER BY seq LIMIT 1 OFFSET (SELECT count(*) / 2 FROM users)"
      : "SELECT seq FROM users ORDER BY seq DESC LIMIT 1 OFFSET ?1";
  const row = await env.DB.prepare(sql)
    .bind(...(at === "middle" ? [] : [count]))
    .first<{ seq: number }>();
  if (!row || (at !== "middle" && at !== "last")) return new Response("at=middle|last, and a directory larger than count", { status: 400 });
  const query = await queryDigest({
    endpoint: "Users",
    filter: undefined,
    sortBy: undefined,
    sortOrder: undefined,
    attributes: undefined,
    excludedAttributes: url.searchParams.get("excludedAttributes") ?? undefined,
  });
  const key = await serviceKey(getDb(env.DB), "cursor");
  const cursor = await encodeCursor(key, {
    query,
    count,
    issuedAt: Math.floor(Date.now() / 1000),
    direction: "next",
    position: { stage: 0, key: null, seq: row.seq },
  });
  return Response.json({ cursor });
}
