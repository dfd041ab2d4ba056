/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, "Signature scheme"):
 *   webhook-signature = "v1," + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))
 * where key is the base64-decoded part of the secret after its `whsec_` prefix.
 * Pure apart from WebCrypto, so tests can check it against the `standardwebhooks` package.
 */

const SECRET_PREFIX = "whsec_";

export class SigningSecretError extends Error {
  override readonly name = "SigningSecretError";
}

/** The HMAC key bytes of a `whsec_…` secret; a secret without the prefix is read as plain base64. */
export function decodeSigningSecret(secret: string, name = "MAIN_SITE_SIGNING_SECRET"): Uint8Array {
  const b64 = (secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret).trim();
  let binary: string;
  try {
    binary = atob(b64);
  } catch {
    throw new SigningSecretError(`${name} is not \`whsec_\` followed by base64.`);
  }
  if (binary.length === 0) throw new SigningSecretError(`${name} is empty after its \`whsec_\` prefix.`);
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

// One imported key per secret string: importKey is cheap but runs per message otherwise.
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", decodeSigningSecret(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    // A rejected import must not stay cached.
    key.catch(() => keyCache.delete(secret));
    keyCache.set(secret, key);
  }
  return key;
}

function toBase64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * The `webhook-signature` header value for one message. `timestampSeconds` is the unix time sent
 * as `webhook-timestamp`; `body` must be the exact bytes POSTed (we sign and send one string).
 */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await hmacKey(secret);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(mac)}`;
}

/**
 * The `webhook-signature` header for several secrets: one `v1,` signature per distinct secret,
 * space-delimited, as Standard Webhooks allows ("Signature scheme": a receiver accepts the message
 * when any of them verifies). While MAIN_SITE_SIGNING_SECRET_NEXT is set every delivery carries
 * both, so the site can move to the next secret whenever it likes (docs/webhooks.md "Rotating").
 */
export async function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const distinct = [...new Set(secrets)];
  const signatures = await Promise.all(distinct.map((secret) => signWebhook(secret, id, timestampSeconds, body)));
  return signatures.join(" ");
}

/** The signing secrets, by name: the admin page shows which are set, never their values. */
const SIGNING_SECRET_NAMES = ["MAIN_SITE_SIGNING_SECRET", "MAIN_SITE_SIGNING_SECRET_NEXT"] as const;
export type SigningSecretName = (typeof SIGNING_SECRET_NAMES)[number];

/** set: usable · unset: empty or absent · invalid: not `whsec_` + base64 (deliveries wait as undeliverable). */
export type SigningSecretState = "set" | "unset" | "invalid";

export function signingSecretState(value: string | undefined): SigningSecretState {
  const secret = value?.trim() ?? "";
  if (secret === "") return "unset";
  try {
    decodeSigningSecret(secret);
    return "set";
  } catch {
    return "invalid";
  }
}

/** Each signing secret's name and state (GET /admin/api/stats). */
export function signingSecrets(env: Partial<Record<SigningSecretName, string>>): { name: SigningSecretName; state: SigningSecretState }[] {
  return SIGNING_SECRET_NAMES.map((name) => ({ name, state: signingSecretState(env[name]) }));
}
