import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify } from "jose";
import type { FederationRule } from "./clients";

/**
 * RFC 7523 client assertions (Entra workload identity federation): a JWT signed by a key of the
 * client's JWKS, issued by its issuer, for its audience, about its subject, not expired, and (for
 * an Entra tenant) from that tenant. Only asymmetric algorithms: `none`, and HS256 "signed" with a
 * public key as the secret, never get as far as a key.
 */
export const ASSERTION_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

const CLOCK_SKEW_SECONDS = 60;
/** RFC 7523 §3 lets a server refuse an exp "unreasonably far in the future"; Entra's live about an hour. */
const MAX_LIFETIME_SECONDS = 24 * 3600;
/** Microsoft's key set is about 10 KB; a bigger answer is not a key set worth reading. */
const MAX_JWKS_BYTES = 64 * 1024;
const MAX_KEY_SETS = 64;

export type AssertionCheck =
  | { ok: true }
  /** `description` is for the client; `note` (what was expected) for the admin's log only. */
  | { ok: false; unavailable: boolean; description: string; note: string };

class KeySetFetchError extends Error {}

/** https only, never a redirect (jose asks for redirect: "manual"; we refuse the 3xx), at most MAX_JWKS_BYTES. */
async function fetchKeySet(url: string, init: RequestInit): Promise<Response> {
  if (!isAllowedJwksUrl(url)) throw new KeySetFetchError(`${url} is not an https URL`);
  const res = await fetch(url, { ...init, redirect: "manual" });
  if (res.status !== 200) throw new KeySetFetchError(`${url} answered ${res.status}, not 200 (redirects are not followed)`);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_JWKS_BYTES) throw new KeySetFetchError(`${url} answered more than ${MAX_JWKS_BYTES} bytes`);
  const text = await res.text();
  if (text.length > MAX_JWKS_BYTES) throw new KeySetFetchError(`${url} answered more than ${MAX_JWKS_BYTES} bytes`);
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
}

const isLocalHost = (host: string) => host === "127.0.0.1" || host === "localhost" || host === "[::1]";

/** https, no credentials, no fragment; http only to this machine (a local stand-in, as for Access). */
export function isAllowedJwksUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && isLocalHost(url.hostname));
}

/**
 * One key set per JWKS URL and isolate: jose keeps the keys for 10 minutes, and fetches again (at
 * most every 30 s) when an assertion names a `kid` it does not know: Microsoft rotates its keys
 * without notice.
 */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetOf(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
  let keys = keySets.get(jwksUri);
  if (!keys) {
    if (keySets.size >= MAX_KEY_SETS) {
      const oldest = keySets.keys().next();
      if (!oldest.done) keySets.delete(oldest.value);
    }
    keys = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, [customFetch]: fetchKeySet });
    keySets.set(jwksUri, keys);
  }
  return keys;
}

/** Entra shows the audience as `api://<app id>/.default` (a scope); its tokens carry `api://<app id>`. */
const audiencesOf = (audience: string) =>
  audience.endsWith("/.default") ? [audience, audience.slice(0, -"/.default".length)] : [audience];

const refused = (description: string, note = description): AssertionCheck => ({ ok: false, unavailable: false, description, note });

function explain(err: unknown, rule: FederationRule): AssertionCheck {
  if (err instanceof errors.JWTExpired) return refused("The client assertion has expired.");
  if (err instanceof errors.JWTClaimValidationFailed) {
    const got = (claim: string) => {
      const v = err.payload[claim];
      return typeof v === "string" || Array.isArray(v) ? JSON.stringify(v).slice(0, 200) : "missing";
    };
    switch (err.claim) {
      case "iss":
        return refused(
          "The client assertion's issuer is not the one configured for this client.",
          `iss ${got("iss")}, expected "${rule.issuer}"`,
        );
      case "aud":
        return refused(
          "The client assertion's audience is not the one configured for this client.",
          `aud ${got("aud")}, expected "${rule.audience}"`,
        );
      case "sub":
        return refused(
          "The client assertion's subject is not the one configured for this client.",
          `sub ${got("sub")}, expected "${rule.subject}"`,
        );
      case "nbf":
        return refused("The client assertion is not valid yet (nbf).");
      default:
        return refused(`The client assertion's '${err.claim}' claim is ${err.reason === "missing" ? "missing" : "not valid"}.`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return refused(`The client assertion must be signed with one of ${ASSERTION_ALGORITHMS.join(", ")}.`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return refused(
      "The client assertion is not signed by a key of the client's JWKS.",
      `no key of ${rule.jwksUri} matches the assertion's kid`,
    );
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return refused("The client assertion names no kid, and the client's JWKS has several keys.");
  if (err instanceof errors.JWSSignatureVerificationFailed) return refused("The client assertion's signature is not valid.");
  if (
    err instanceof KeySetFetchError ||
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    err instanceof TypeError
  ) {
    return {
      ok: false,
      unavailable: true,
      description: "The client's signing keys could not be read; try again shortly.",
      note: `could not read ${rule.jwksUri}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 280),
    };
  }
  if (err instanceof errors.JOSEError && err.code === "ERR_JOSE_GENERIC") {
    return {
      ok: false,
      unavailable: true,
      description: "The client's signing keys could not be read; try again shortly.",
      note: `could not read ${rule.jwksUri}`,
    };
  }
  return refused("The client assertion is not a valid signed JWT.");
}

export async function verifyAssertion(
  assertion: string,
  rule: FederationRule,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<AssertionCheck> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(assertion, keySetOf(rule.jwksUri), {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: rule.issuer,
      audience: audiencesOf(rule.audience),
      subject: rule.subject,
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(nowSeconds * 1000),
    }));
  } catch (err) {
    return explain(err, rule);
  }
  // Tenant isolation: Microsoft signs every tenant's tokens with the same keys, so the key proves
  // Microsoft issued it, and only `tid` (with `iss`) proves which tenant it is for.
  if (rule.tenantId !== null && String(payload.tid ?? "").toLowerCase() !== rule.tenantId) {
    return refused(
      "The client assertion is from another tenant.",
      `tid ${JSON.stringify(payload.tid ?? "missing")}, expected "${rule.tenantId}"`,
    );
  }
  const exp = typeof payload.exp === "number" ? payload.exp : 0;
  if (exp - nowSeconds > MAX_LIFETIME_SECONDS) return refused("The client assertion's exp is more than a day away.");
  return { ok: true };
}

/** The issuer and subject an assertion claims, unverified: to find its client when no client_id came with it. */
export function claimedParties(assertion: string): { iss: string; sub: string } | undefined {
  try {
    const { iss, sub } = decodeJwt(assertion);
    return typeof iss === "string" && typeof sub === "string" ? { iss, sub } : undefined;
  } catch {
    return undefined;
  }
}
