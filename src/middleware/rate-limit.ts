import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ScimError } from "../scim/errors";

/**
 * Seconds a client over the limit is told to wait: the binding's window (`period` of
 * SCIM_RATE_LIMITER in wrangler.toml), so a client that waits this long is admitted again.
 */
const RETRY_AFTER_SECONDS = 60;

/** The minute in which each client was last recorded as throttled (this isolate), bounded. */
const throttleLogged = new Map<string, number>();
const MAX_TRACKED_CLIENTS = 1_000;

/**
 * Whether a throttled request gets its provisioning-log row: the first per client per minute
 * does, so the admin sees the throttling; the rest of a flood (bad tokens included, as the
 * limit comes before auth) costs no D1 write, or throttling would not protect D1 at all.
 */
function firstThrottleThisMinute(client: string, now = Date.now()): boolean {
  const minute = Math.floor(now / 60_000);
  if (throttleLogged.get(client) === minute) return false;
  if (throttleLogged.size >= MAX_TRACKED_CLIENTS) throttleLogged.clear();
  throttleLogged.set(client, minute);
  return true;
}

/**
 * Per-client request rate (Workers rate-limiting binding, limits in wrangler.toml). The key is
 * the client's address; the limits are generous enough for an Okta import of 100,000 users.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    const limiter = c.env.SCIM_RATE_LIMITER;
    // A Bulk request is counted once: its operations run inside it (src/routes/bulk.ts).
    if (limiter) {
      const key = c.req.header("cf-connecting-ip") ?? "local";
      const { success } = await limiter.limit({ key });
      if (!success) {
        console.warn(JSON.stringify({ level: "warn", requestId: c.get("requestId"), message: "SCIM request rate limited", client: key }));
        if (!firstThrottleThisMinute(key)) c.get("log").skip = true;
        throw new ScimError(429, undefined, `Too many requests from this client; retry after ${RETRY_AFTER_SECONDS} seconds.`, {
          "Retry-After": String(RETRY_AFTER_SECONDS),
        });
      }
    }
    await next();
  };
}
