/**
 * Client secrets and identifiers. A secret is 32 random bytes (base64url, with a `scimcs_` prefix
 * that secret scanners can match); only its SHA-256 is stored: with that much entropy a fast hash
 * is as good as a slow one, and checking it costs microseconds.
 */
const encoder = new TextEncoder();

function randomText(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let binary = "";
  for (const b of raw) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export const newClientSecret = (): string => `scimcs_${randomText(32)}`;
/** What the IdP sends as client_id (Entra's "Client Identifier"): public, unguessable anyway. */
export const newClientId = (): string => `scim-${randomText(12)}`;
export const newRowId = (prefix: "oc" | "ocs"): string => `${prefix}_${randomText(12)}`;

export async function secretHash(secret: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(secret)));
}

/** The last four characters: enough for an admin to tell secrets apart, nothing to guess with. */
export const secretHint = (secret: string): string => secret.slice(-4);

/**
 * The candidate whose hash is the presented secret's, compared in constant time against every
 * candidate (no early exit), so timing does not tell which one matched, or how many there are.
 */
export async function matchingSecret<T extends { hash: string }>(presented: string, candidates: readonly T[]): Promise<T | undefined> {
  const given = encoder.encode(await secretHash(presented));
  let found: T | undefined;
  for (const candidate of candidates) {
    const expected = encoder.encode(candidate.hash);
    if (expected.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(given, expected)) found = candidate;
  }
  return found;
}
