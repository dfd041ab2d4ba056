import type { MiddlewareHandler } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { clientKey, type RefusalReason } from "../log/refused";
import { looksLikeAccessToken } from "../oauth/access-token";
import { authenticateAccessToken } from "../oauth/authenticate-token";
import { ScimError } from "../scim/errors";
import { loadSettings } from "../settings/store";
import { configuredScimTokens, matchingToken, presentedToken } from "./tokens";

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="scim"' };
/** RFC 6750 §3.1: an expired access token is invalid_token, so the client knows to fetch a new one. */
const EXPIRED_CHALLENGE = {
  "WWW-Authenticate": 'Bearer realm="scim", error="invalid_token", error_description="The access token expired"',
};
const BAD_TOKEN = "The bearer token is not valid for this site.";

/** The "no token is set" console line: once a minute per isolate, not once a request. */
let warnedMinute = -1;
function firstThisMinute(): boolean {
  const minute = Math.floor(Date.now() / 60_000);
  if (minute === warnedMinute) return false;
  warnedMinute = minute;
  return true;
}

/**
 * SCIM bearer authentication (RFC 7644 §2): an OAuth access token from POST /oauth/token
 * (src/oauth/), checked in memory; else SCIM_BEARER_TOKEN, or SCIM_BEARER_TOKEN_NEXT during a
 * rotation, unless the settings switch the static tokens off (staticTokenEnabled: require OAuth).
 * A bad access token is refused exactly as a bad static token is; an expired one says so
 * (invalid_token). The log row of the request records which credential let it in.
 */
export function scimAuth(): MiddlewareHandler<AppEnv> {
  return async function scimAuthMiddleware(c, next) {
    const log = c.get("log");
    // A refused request is counted per client and minute in one log row (src/log/refused.ts).
    const refuse = (reason: RefusalReason) => {
      log.refusal = { reason, client: clientKey(c.req.header("cf-connecting-ip")) };
    };
    const presented = presentedToken(c.req.header("authorization"));
    if (presented && looksLikeAccessToken(presented.token)) {
      const result = await authenticateAccessToken(getDb(c.env.DB), presented.token);
      if (result.kind === "expired") {
        refuse("expired token");
        throw new ScimError(
          401,
          undefined,
          "The access token has expired: request a new one from the token endpoint (POST /oauth/token).",
          EXPIRED_CHALLENGE,
        );
      }
      if (result.kind === "invalid") {
        refuse("bad token");
        throw new ScimError(401, undefined, BAD_TOKEN, CHALLENGE);
      }
      log.credential = result.credential;
      if (!presented.bearer) log.quirk("Authorization header sent without the Bearer scheme");
      await next();
      return;
    }

    const tokens = configuredScimTokens(c.env);
    if (tokens.length === 0) {
      if (firstThisMinute()) {
        console.error(
          JSON.stringify({
            level: "error",
            requestId: c.get("requestId"),
            message:
              "SCIM_BEARER_TOKEN is not set: every SCIM request without an OAuth access token is refused. Set it with `wrangler secret put SCIM_BEARER_TOKEN`, or connect the IdP with OAuth (/admin, Connect).",
          }),
        );
      }
      refuse("service has no token");
      throw new ScimError(
        401,
        undefined,
        "SCIM is not configured on this site: no bearer token has been set, and this is not an OAuth access token of this site.",
        CHALLENGE,
      );
    }
    if (!presented || presented.token === "") {
      refuse("no token");
      throw new ScimError(
        401,
        undefined,
        "Authentication required: send the SCIM bearer token as 'Authorization: Bearer <token>'.",
        CHALLENGE,
      );
    }
    const matched = await matchingToken(presented.token, tokens);
    if (!matched) {
      refuse("bad token");
      throw new ScimError(401, undefined, BAD_TOKEN, CHALLENGE);
    }
    // Cached per isolate (src/settings/store.ts): no round trip of its own; scimEnabled reads the same copy.
    if (!(await loadSettings(getDb(c.env.DB))).staticTokenEnabled) {
      refuse("static token disabled");
      throw new ScimError(
        401,
        undefined,
        `This site requires OAuth: ${matched} is switched off (staticTokenEnabled is false). Connect with an OAuth client and send its access token.`,
        CHALLENGE,
      );
    }
    log.credential = matched;
    if (!presented.bearer) log.quirk("Authorization header sent without the Bearer scheme");
    await next();
  };
}
