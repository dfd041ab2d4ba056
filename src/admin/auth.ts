import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { configuredTokens, matchesAnyToken, presentedToken } from "../middleware/tokens";

/**
 * Admin API authentication: `Authorization: Bearer <ADMIN_TOKEN>` only. The SCIM token never
 * opens it. No cookies are used, so there is no CSRF surface.
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const tokens = configuredTokens(c.env.ADMIN_TOKEN);
    const presented = presentedToken(c.req.header("authorization"));
    const ok = tokens.length > 0 && presented?.bearer === true && (await matchesAnyToken(presented.token, tokens));
    if (!ok) {
      const detail =
        tokens.length === 0
          ? "ADMIN_TOKEN is not set on this Worker; set it with `wrangler secret put ADMIN_TOKEN`."
          : "Send the admin token as 'Authorization: Bearer <ADMIN_TOKEN>'.";
      throw new AdminError(401, "unauthorized", detail, { "WWW-Authenticate": 'Bearer realm="admin"' });
    }
    c.get("log").actor = "admin token";
    await next();
  };
}
