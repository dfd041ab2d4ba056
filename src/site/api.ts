import { Hono } from "hono";
import { getDb, isoNow } from "../db/client";
import type { AppEnv } from "../env";
import { FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT, type FeedItem, readFeed } from "../events/feed";
import { AdminError, renderAdminError } from "../http/errors";
import { query, queryObject, validate } from "../http/validate";
import { serviceKey } from "../keys/service-key";
import { loadSettings } from "../settings/store";
import { siteAuth } from "./auth";
import { decodeCursor, encodeCursor } from "./cursor";

export const SITE_API_PATH = "/api/site/v1";

const RESYNC = "have an admin run a resync (/admin → Resync everything to the site, or POST /admin/api/resync)";

/**
 * One feed entry: `{"id", "type", "timestamp", "data"}`, where everything after the id is the
 * pushed body byte for byte (the stored payload), so a site that takes both sees the same event.
 */
function entry(item: FeedItem): string {
  const id = JSON.stringify(item.id);
  const rest = item.payload.trim().slice(1).trimStart();
  return rest.startsWith("}") ? `{"id":${id}}` : `{"id":${id},${rest}`;
}

/**
 * The site API (SPEC §9): the pull feed for sites that cannot receive pushes. Answers are
 * `application/json`, errors `{error, detail}` as the admin API's, never cached.
 */
export const siteApi = new Hono<AppEnv>()
  .use("*", async function noStore(c, next) {
    await next();
    c.header("Cache-Control", "no-store");
  })
  .use("*", siteAuth())
  /**
   * GET /events?after=<cursor>&limit=<1..500>: the events after the cursor (from the start of
   * retention without one), in the feed's one global order (src/events/feed.ts). In pull mode a
   * cursor also says the site has every event up to it: they become delivered.
   */
  .get(
    "/events",
    validate("query", queryObject({ after: query.optional(query.text(1000)), limit: query.int(1, FEED_MAX_LIMIT, FEED_DEFAULT_LIMIT) })),
    async (c) => {
      const { after, limit } = c.req.valid("query");
      const db = getDb(c.env.DB);
      const key = await serviceKey(db, "site-feed-cursor");
      const point = after === undefined ? null : await decodeCursor(key, after);
      if (point === undefined) {
        throw new AdminError(
          400,
          "invalid_cursor",
          "after is not a cursor this feed gave: pass the nextCursor of the previous answer unchanged, or leave after out to read from the start.",
        );
      }
      const settings = await loadSettings(db);
      const read = await readFeed(db, { after: point, limit, acknowledge: settings.siteDelivery === "pull", at: isoNow() });
      if (read.kind === "expired") {
        throw new AdminError(
          410,
          "cursor_expired",
          `This cursor is older than the feed's retention: events after it were deleted (they are kept ${settings.eventRetentionDays} days once the site has them), so reading on from it could miss changes. Read the feed from its start (leave after out) and ${RESYNC}: its user.synced and group.synced events bring the site back to the directory.`,
        );
      }
      if (read.kind === "unknown") {
        throw new AdminError(
          410,
          "cursor_unknown",
          `This cursor names an event this feed does not have at its position (the feed's last position is ${read.head}): the service's database was restored or replaced since it was given. Read the feed from its start (leave after out) and ${RESYNC}.`,
        );
      }
      const last = read.items.at(-1);
      const next = last ? { position: last.position, eventId: last.id } : read.from;
      const nextCursor = await encodeCursor(key, next);
      // Built as text: each entry carries the stored body as it is, not a re-serialisation of it.
      const body = `{"data":[${read.items.map(entry).join(",")}],"nextCursor":${JSON.stringify(nextCursor)},"hasMore":${next.position < read.head}}`;
      return c.body(body, 200, { "Content-Type": "application/json; charset=utf-8" });
    },
  )
  .all("*", (c) => {
    throw new AdminError(
      404,
      "not_found",
      `There is no site API endpoint at ${new URL(c.req.url).pathname}; the feed is GET ${SITE_API_PATH}/events.`,
    );
  })
  .onError(renderAdminError);
