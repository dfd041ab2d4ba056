import { STATIC_TOKENS, type StaticTokenName } from "../db/credentials";

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * Constant-time token check: the configured token the presented one equals, if any. Both sides
 * are hashed first so the comparison never depends on the length or content of the secret; every
 * configured token is compared, with no early exit, so timing does not tell which one matched.
 * The first one listed wins when two are equal (SCIM_BEARER_TOKEN after a swap, before the
 * _NEXT is deleted).
 */
export async function matchingToken<N extends string>(
  presented: string,
  configured: readonly { name: N; value: string }[],
): Promise<N | undefined> {
  if (presented === "") return undefined;
  const given = await digest(presented);
  let found: N | undefined;
  for (const token of configured) {
    const expected = await digest(token.value);
    if (crypto.subtle.timingSafeEqual(given, expected)) found ??= token.name;
  }
  return found;
}

export async function matchesAnyToken(presented: string, configured: readonly string[]): Promise<boolean> {
  return (
    (await matchingToken(
      presented,
      configured.map((value) => ({ name: "token", value })),
    )) !== undefined
  );
}

/** Non-empty configured secrets only: an empty secret must never accept an empty token. */
export function configuredTokens(...values: (string | undefined)[]): string[] {
  return values.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim());
}

/** SCIM_BEARER_TOKEN and SCIM_BEARER_TOKEN_NEXT, those that are set, by name. */
export function configuredScimTokens(env: Partial<Record<StaticTokenName, string>>): { name: StaticTokenName; value: string }[] {
  return STATIC_TOKENS.flatMap((name) => configuredTokens(env[name]).map((value) => ({ name, value })));
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
