import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { clientKey } from "../log/refused";
import { ScimError } from "../scim/errors";

/**
 * Seconds a client over the limit is told to wait: the binding's window (`period` of
 * SCIM_RATE_LIMITER in wrangler.toml), so a client that waits this long is admitted again.
 */
const RETRY_AFTER_SECONDS = 60;

/**
 * Per-client request rate (Workers rate-limiting binding, limits in wrangler.toml). The key is
 * the client's IPv4 address or IPv6 /64; the limits are generous enough for an Okta import of
 * 100,000 users.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    const limiter = c.env.SCIM_RATE_LIMITER;
    // A Bulk request is counted once: its operations run inside it (src/routes/bulk.ts).
    if (limiter) {
      // IPv6 clients are counted per /64: one subscriber could rotate through a whole /64.
      const key = clientKey(c.req.header("cf-connecting-ip"));
      const { success } = await limiter.limit({ key });
      if (!success) {
        // Counted per client and minute in one log row (and one console line), not one each.
        c.get("log").refusal = { reason: "rate limited", client: key };
        throw new ScimError(429, undefined, `Too many requests from this client; retry after ${RETRY_AFTER_SECONDS} seconds.`, {
          "Retry-After": String(RETRY_AFTER_SECONDS),
        });
      }
    }
    await next();
  };
}
