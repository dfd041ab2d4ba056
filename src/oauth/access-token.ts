/**
 * The access tokens this service issues: compact, self-contained and signed (HMAC-SHA256 with the
 * service's own "oauth-access-token" key, src/keys/service-key.ts), so a SCIM request checks one in
 * memory, with no D1 round trip:
 *
 *   scimat1.<base64url JSON {c, k, iat, exp}>.<base64url HMAC of everything before the last dot>
 *
 * `c` is the client (oauth_clients.id), `k` the secret it authenticated with (its id) or
 * "assertion". Revocation (a deleted client or secret) is the registry's job (registry.ts).
 */
const PREFIX = "scimat1";
const encoder = new TextEncoder();

export interface AccessClaims {
  /** oauth_clients.id */
  c: string;
  /** The secret's id, or "assertion" for a federated client. */
  k: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

export type AccessTokenCheck = { ok: true; claims: AccessClaims } | { ok: false; reason: "malformed" | "expired" };

/** Cheap shape test: the SCIM auth tries the OAuth path only for tokens of this form. */
export const looksLikeAccessToken = (token: string): boolean => token.startsWith(`${PREFIX}.`);

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export async function mintAccessToken(key: CryptoKey, claims: AccessClaims): Promise<string> {
  const body = `${PREFIX}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `${body}.${base64url(signature)}`;
}

const isClaims = (v: unknown): v is AccessClaims =>
  typeof v === "object" &&
  v !== null &&
  "c" in v &&
  typeof v.c === "string" &&
  "k" in v &&
  typeof v.k === "string" &&
  "iat" in v &&
  Number.isInteger(v.iat) &&
  "exp" in v &&
  Number.isInteger(v.exp);

/**
 * The token's claims if this service signed it and it has not expired. The signature is checked
 * first (crypto.subtle.verify compares in constant time), so "expired" is only ever said of a
 * token this service issued.
 */
export async function readAccessToken(key: CryptoKey, token: string, nowSeconds: number): Promise<AccessTokenCheck> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: "malformed" };
  const [, payload = "", sig = ""] = parts;
  const signature = fromBase64url(sig);
  if (!signature) return { ok: false, reason: "malformed" };
  const valid = await crypto.subtle.verify("HMAC", key, signature, encoder.encode(`${PREFIX}.${payload}`));
  if (!valid) return { ok: false, reason: "malformed" };
  const bytes = fromBase64url(payload);
  let claims: unknown;
  try {
    claims = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
  } catch {
    claims = undefined;
  }
  if (!isClaims(claims)) return { ok: false, reason: "malformed" };
  if (claims.exp <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}
