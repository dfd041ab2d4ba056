import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { Bindings } from "../env";
import { AdminError } from "../http/errors";

/**
 * Admin sign-in through Cloudflare Access (SPEC §10). Access sits in front of /admin and adds a
 * `Cf-Access-Jwt-Assertion` header to every request it lets through; the Worker must still verify
 * it itself (a request that reaches workers.dev, or a route Access does not cover, carries
 * whatever the client wrote): RS256, signed by a key of the team's JWKS, issued by the team
 * domain, for this application's audience tag, not expired.
 */
export const ACCESS_JWT_HEADER = "cf-access-jwt-assertion";

export type AccessConfig =
  | { kind: "off" }
  | { kind: "misconfigured"; detail: string }
  | { kind: "on"; issuer: string; audience: string; certsUrl: string };

/** http is for a team domain on this machine only (the browser test's local JWKS). */
const isLocalHost = (host: string) => host === "127.0.0.1" || host === "localhost" || host === "[::1]";

/** ACCESS_TEAM_DOMAIN and ACCESS_AUD: both or neither; the domain may be written without https://. */
export function accessConfig(env: Pick<Bindings, "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD">): AccessConfig {
  const domain = env.ACCESS_TEAM_DOMAIN?.trim() ?? "";
  const audience = env.ACCESS_AUD?.trim() ?? "";
  if (!domain && !audience) return { kind: "off" };
  if (!domain || !audience) {
    const missing = domain ? "ACCESS_AUD" : "ACCESS_TEAM_DOMAIN";
    return {
      kind: "misconfigured",
      detail: `Cloudflare Access sign-in needs both ACCESS_TEAM_DOMAIN and ACCESS_AUD; ${missing} is not set.`,
    };
  }
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(domain) ? domain : `https://${domain}`);
  } catch {
    return { kind: "misconfigured", detail: `ACCESS_TEAM_DOMAIN "${domain}" is not a URL such as https://<team>.cloudflareaccess.com.` };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLocalHost(url.hostname))) {
    return { kind: "misconfigured", detail: `ACCESS_TEAM_DOMAIN must be an https:// URL, not "${domain}".` };
  }
  // Access writes the bare origin as the issuer: https://<team>.cloudflareaccess.com
  return { kind: "on", issuer: url.origin, audience, certsUrl: `${url.origin}/cdn-cgi/access/certs` };
}

/**
 * One key set per JWKS URL and isolate: jose keeps the fetched keys for 10 minutes and fetches
 * again, at most every 30 seconds, when a token names a key it does not know (a key rotation).
 */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetOf(certsUrl: string): ReturnType<typeof createRemoteJWKSet> {
  let keys = keySets.get(certsUrl);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(certsUrl), { timeoutDuration: 5_000 });
    keySets.set(certsUrl, keys);
  }
  return keys;
}

/** Access application tokens name the user by email; service tokens by their client id. */
function actorOf(payload: Record<string, unknown>): string | undefined {
  if (typeof payload.email === "string" && payload.email !== "") return payload.email;
  if (typeof payload.common_name === "string" && payload.common_name !== "") return `service token ${payload.common_name}`;
  return undefined;
}

/** A refused token: 401 with what was wrong, in words the admin (or whoever set the vars) can act on. */
function refused(err: unknown, config: Extract<AccessConfig, { kind: "on" }>): AdminError {
  const say = (detail: string) => new AdminError(401, "access_refused", detail, { "WWW-Authenticate": 'Bearer realm="admin"' });
  if (err instanceof errors.JWTExpired)
    return say("The Cloudflare Access token has expired: reload the page to sign in through Access again.");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "aud") {
      return say(
        "The Cloudflare Access token is for another Access application (its audience is not ACCESS_AUD): check ACCESS_AUD is this application's AUD tag.",
      );
    }
    if (err.claim === "iss") return say(`The Cloudflare Access token was not issued by ${config.issuer} (ACCESS_TEAM_DOMAIN).`);
    return say(
      `The Cloudflare Access token was refused: its "${err.claim}" claim ${err.reason === "missing" ? "is missing" : "is not valid"}.`,
    );
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) {
    return say(`The Cloudflare Access token is not signed by a key of ${config.certsUrl}.`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return say("The Cloudflare Access token is not signed with RS256.");
  return say("The Cf-Access-Jwt-Assertion header is not a valid Cloudflare Access token.");
}

/** Errors that say the key set could not be read: the token may be fine, the team's JWKS is not. */
const isKeySetUnavailable = (err: unknown) =>
  err instanceof errors.JWKSTimeout ||
  err instanceof errors.JWKSInvalid ||
  (err instanceof errors.JOSEError && err.code === "ERR_JOSE_GENERIC") ||
  err instanceof TypeError;

/** The signed-in person (the token's email) or throws a 401 (a bad token) or a 503 (no key set). */
export async function verifyAccessToken(token: string, config: Extract<AccessConfig, { kind: "on" }>): Promise<string> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keySetOf(config.certsUrl), {
      algorithms: ["RS256"],
      issuer: config.issuer,
      audience: config.audience,
      requiredClaims: ["exp"],
      clockTolerance: 30,
    }));
  } catch (err) {
    if (isKeySetUnavailable(err)) {
      console.error(JSON.stringify({ level: "error", message: "could not read the Access keys", url: config.certsUrl, err: String(err) }));
      throw new AdminError(
        503,
        "access_unavailable",
        `Could not read the Cloudflare Access keys at ${config.certsUrl}; try again shortly.`,
        {
          "Retry-After": "30",
        },
      );
    }
    throw refused(err, config);
  }
  const actor = actorOf(payload);
  if (!actor) throw refused(new errors.JWTClaimValidationFailed("no email", payload, "email", "missing"), config);
  return actor;
}
