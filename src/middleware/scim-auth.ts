import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { clientKey, type RefusalReason } from "../log/refused";
import { ScimError } from "../scim/errors";
import { configuredTokens, matchesAnyToken, presentedToken } from "./tokens";

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="scim"' };

/** The "no token is set" console line: once a minute per isolate, not once a request. */
let warnedMinute = -1;
function firstThisMinute(): boolean {
  const minute = Math.floor(Date.now() / 60_000);
  if (minute === warnedMinute) return false;
  warnedMinute = minute;
  return true;
}

/**
 * SCIM bearer authentication (RFC 7644 §2): SCIM_BEARER_TOKEN, or SCIM_BEARER_TOKEN_NEXT
 * during a rotation. Without a configured token every request is refused and the log says why.
 */
export function scimAuth(): MiddlewareHandler<AppEnv> {
  return async function scimAuthMiddleware(c, next) {
    const tokens = configuredTokens(c.env.SCIM_BEARER_TOKEN, c.env.SCIM_BEARER_TOKEN_NEXT);
    // A refused request is counted per client and minute in one log row (src/log/refused.ts).
    const refuse = (reason: RefusalReason) => {
      c.get("log").refusal = { reason, client: clientKey(c.req.header("cf-connecting-ip")) };
    };
    if (tokens.length === 0) {
      if (firstThisMinute()) {
        console.error(
          JSON.stringify({
            level: "error",
            requestId: c.get("requestId"),
            message: "SCIM_BEARER_TOKEN is not set: every SCIM request is refused. Set it with `wrangler secret put SCIM_BEARER_TOKEN`.",
          }),
        );
      }
      refuse("service has no token");
      throw new ScimError(401, undefined, "SCIM is not configured on this site: no bearer token has been set.", CHALLENGE);
    }
    const presented = presentedToken(c.req.header("authorization"));
    if (!presented || presented.token === "") {
      refuse("no token");
      throw new ScimError(
        401,
        undefined,
        "Authentication required: send the SCIM bearer token as 'Authorization: Bearer <token>'.",
        CHALLENGE,
      );
    }
    if (!(await matchesAnyToken(presented.token, tokens))) {
      refuse("bad token");
      throw new ScimError(401, undefined, "The bearer token is not valid for this site.", CHALLENGE);
    }
    if (!presented.bearer) c.get("log").quirk("Authorization header sent without the Bearer scheme");
    await next();
  };
}
