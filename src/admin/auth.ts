import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { clientKey } from "../log/refused";
import { configuredTokens, matchesAnyToken, presentedToken } from "../middleware/tokens";
import { ACCESS_JWT_HEADER, accessConfig, verifyAccessToken } from "./access";
import { SignInThrottle } from "./throttle";

/** Who an admin action is logged as when the admin token opened the API (SPEC §10). */
export const TOKEN_ACTOR = "admin token";

/** 10 refused credentials per address in 5 minutes, then 429 for further wrong ones until the 5 minutes are over. */
const throttle = new SignInThrottle(10, 5 * 60_000);

const unauthorized = (detail: string) => new AdminError(401, "unauthorized", detail, { "WWW-Authenticate": 'Bearer realm="admin"' });

/**
 * Admin sign-in (SPEC §10): `Authorization: Bearer <ADMIN_TOKEN>` always opens the admin API (for
 * scripts); with ACCESS_TEAM_DOMAIN and ACCESS_AUD set, so does a valid Cloudflare Access token,
 * and the admin is the person it names. The SCIM token never opens it. No cookies are used, so
 * there is no CSRF surface. A wrong credential counts toward the throttle; a request with none
 * does not (it guesses nothing), and is told how to sign in.
 *
 * The throttle only ever answers refused credentials: a right one is checked and let in whatever
 * the address's count, so ten wrong tokens from someone behind the same NAT (or in the same IPv6
 * /64) cannot keep the admins out. What stops guessing is the token's length, not the throttle.
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const client = clientKey(c.req.header("cf-connecting-ip"));
    c.get("log").actor = await signedInActor(c, () => {
      const wait = throttle.retryAfter(client);
      throttle.failed(client);
      if (wait > 0) {
        throw new AdminError(429, "too_many_attempts", `Too many refused sign-ins from this address; try again in ${wait} seconds.`, {
          "Retry-After": String(wait),
        });
      }
    });
    await next();
  };
}

/**
 * The actor the request signs in as, or a 401 that says what to send instead. `refusedCredential`
 * is called for a wrong token or a refused Access token, not for a missing one or a setup problem;
 * it may throw a 429 instead of the 401.
 */
async function signedInActor(c: Context<AppEnv>, refusedCredential: () => void): Promise<string> {
  const tokens = configuredTokens(c.env.ADMIN_TOKEN);
  const presented = presentedToken(c.req.header("authorization"));
  const access = accessConfig(c.env);
  // A token that was sent must be right: a wrong one is never rescued by an Access token beside it.
  if (presented !== undefined) {
    if (tokens.length > 0 && presented.bearer && (await matchesAnyToken(presented.token, tokens))) return TOKEN_ACTOR;
    refusedCredential();
    throw unauthorized(
      tokens.length === 0
        ? "ADMIN_TOKEN is not set on this Worker; set it with `wrangler secret put ADMIN_TOKEN`."
        : "The admin token is wrong: send 'Authorization: Bearer <ADMIN_TOKEN>'.",
    );
  }
  const jwt = c.req.header(ACCESS_JWT_HEADER)?.trim();
  if (access.kind === "misconfigured") {
    console.error(JSON.stringify({ level: "error", message: "Access sign-in is misconfigured", detail: access.detail }));
    throw unauthorized(`${access.detail} Until then sign in with the admin token.`);
  }
  if (jwt && access.kind === "on") {
    try {
      return await verifyAccessToken(jwt, access);
    } catch (err) {
      if (err instanceof AdminError && err.status === 401) refusedCredential();
      throw err;
    }
  }
  if (jwt) {
    throw unauthorized(
      "This request carries a Cloudflare Access token, but ACCESS_TEAM_DOMAIN and ACCESS_AUD are not set on this Worker, so it cannot be checked: set both, or sign in with the admin token.",
    );
  }
  if (access.kind === "on") {
    throw unauthorized(
      "Sign in through Cloudflare Access (no Cf-Access-Jwt-Assertion header came with this request), or send 'Authorization: Bearer <ADMIN_TOKEN>'.",
    );
  }
  throw unauthorized(
    tokens.length === 0
      ? "ADMIN_TOKEN is not set on this Worker; set it with `wrangler secret put ADMIN_TOKEN`."
      : "Send the admin token as 'Authorization: Bearer <ADMIN_TOKEN>'.",
  );
}
