import type { MiddlewareHandler } from "hono";
import { SignInThrottle } from "../admin/throttle";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { clientKey } from "../log/refused";
import { configuredTokens, matchesAnyToken, presentedToken } from "../middleware/tokens";

/** 10 wrong tokens per address in 5 minutes, then 429 for further wrong ones (a right one always gets in). */
const throttle = new SignInThrottle(10, 5 * 60_000);

const unauthorized = (detail: string) => new AdminError(401, "unauthorized", detail, { "WWW-Authenticate": 'Bearer realm="site"' });

/** The "no token is set" console line: once a minute per isolate, not once a request. */
let warnedMinute = -1;

/**
 * The site API's authentication (SPEC §2, §9): `Authorization: Bearer <SITE_API_TOKEN>`, compared
 * in constant time (src/middleware/tokens.ts). No other credential opens it (the SCIM and admin
 * tokens are refused), and with SITE_API_TOKEN unset every request is refused: the feed holds the
 * whole directory's changes.
 */
export function siteAuth(): MiddlewareHandler<AppEnv> {
  return async function siteAuthMiddleware(c, next) {
    const tokens = configuredTokens(c.env.SITE_API_TOKEN);
    if (tokens.length === 0) {
      const minute = Math.floor(Date.now() / 60_000);
      if (minute !== warnedMinute) {
        warnedMinute = minute;
        console.error(
          JSON.stringify({
            level: "error",
            requestId: c.get("requestId"),
            message: "SITE_API_TOKEN is not set: the pull feed refuses every request. Set it with `wrangler secret put SITE_API_TOKEN`.",
          }),
        );
      }
      throw unauthorized(
        "The pull feed is not configured on this service: SITE_API_TOKEN is not set (wrangler secret put SITE_API_TOKEN).",
      );
    }
    const presented = presentedToken(c.req.header("authorization"));
    if (!presented?.bearer || presented.token === "") {
      throw unauthorized("Authentication required: send the site's token as 'Authorization: Bearer <SITE_API_TOKEN>'.");
    }
    if (!(await matchesAnyToken(presented.token, tokens))) {
      const client = clientKey(c.req.header("cf-connecting-ip"));
      const wait = throttle.retryAfter(client);
      throttle.failed(client);
      if (wait > 0) {
        throw new AdminError(429, "too_many_attempts", `Too many refused tokens from this address; try again in ${wait} seconds.`, {
          "Retry-After": String(wait),
        });
      }
      throw unauthorized("The token is not this service's SITE_API_TOKEN.");
    }
    await next();
  };
}
