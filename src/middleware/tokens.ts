const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * Constant-time token check. Both sides are hashed first so the comparison never depends
 * on the length or content of the secret; every configured token is compared, with no
 * early exit, so timing does not tell which one matched.
 */
export async function matchesAnyToken(presented: string, configured: readonly string[]): Promise<boolean> {
  if (presented === "") return false;
  const given = await digest(presented);
  let ok = false;
  for (const token of configured) {
    const expected = await digest(token);
    if (crypto.subtle.timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

/** Non-empty configured secrets only: an empty secret must never accept an empty token. */
export function configuredTokens(...values: (string | undefined)[]): string[] {
  return values.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim());
}

export type PresentedToken = { token: string; bearer: boolean } | undefined;

/**
 * `Authorization: Bearer <token>` (scheme case-insensitive). A bare `Authorization: <token>`
 * is also read as the token: Okta's "HTTP Header" mode sends whatever the admin typed.
 * Any other scheme (Basic, Digest, ...) presents no token.
 */
export function presentedToken(header: string | undefined): PresentedToken {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === "") return undefined;
  const m = /^([A-Za-z]+)\s+(.*)$/.exec(trimmed);
  if (m) {
    const scheme = (m[1] ?? "").toLowerCase();
    if (scheme !== "bearer") return undefined;
    return { token: (m[2] ?? "").trim(), bearer: true };
  }
  return { token: trimmed, bearer: false };
}
