import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { isInternal } from "../routes/internal";
import { ScimError } from "../scim/errors";

/** Seconds a client over the limit is told to wait; the binding's window is 10 or 60 s. */
export const RETRY_AFTER_SECONDS = 10;

/**
 * Per-client request rate (Workers rate-limiting binding, limits in wrangler.toml). The key is
 * the client's address; the limits are generous enough for an Okta import of 100,000 users.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    const limiter = c.env.SCIM_RATE_LIMITER;
    // Bulk operations are counted once, as the Bulk request itself.
    if (limiter && !isInternal(c.req.raw)) {
      const key = c.req.header("cf-connecting-ip") ?? "local";
      const { success } = await limiter.limit({ key });
      if (!success) {
        throw new ScimError(429, undefined, `Too many requests from this client; retry after ${RETRY_AFTER_SECONDS} seconds.`, {
          "Retry-After": String(RETRY_AFTER_SECONDS),
        });
      }
    }
    await next();
  };
}
