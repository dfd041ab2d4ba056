/**
 * Standard Webhooks verification (https://www.standardwebhooks.com/, "Verifying webhooks"):
 *   webhook-signature = space-delimited "v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>"
 * where key is the base64-decoded part of a secret after `whsec_`. A message is genuine when any
 * of its v1 signatures matches any of the receiver's secrets (so a sender can sign with two secrets
 * while one is rotated), and its timestamp is within the tolerance of now (a captured message
 * cannot be replayed later). WebCrypto only: the same code runs on Workers and Node (tested on both).
 */
import { type EventType, isEventType, type ScimEvent } from "./events.js";

const SECRET_PREFIX = "whsec_";
/** Standard Webhooks' default: five minutes either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Headers as a fetch `Headers`, or as a plain object (Node's `req.headers`, any case). */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export type VerificationFailure =
  | "missing-header"
  | "bad-timestamp"
  | "timestamp-too-old"
  | "timestamp-too-new"
  | "no-matching-signature"
  | "bad-body";

/** The request is not a genuine, fresh delivery (answer 4xx; log `reason`, never trust the body). */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A secret the receiver was given is not usable: a configuration error (answer 5xx, so the service retries). */
export class SigningSecretError extends Error {
  override readonly name = "SigningSecretError";
}

export interface VerifyOptions {
  /** How far webhook-timestamp may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The clock, in milliseconds (default Date.now). */
  now?: () => number;
}

/** A verified delivery. */
export interface Delivery {
  /** webhook-id: the event id, the same on every retry and redelivery (de-duplicate on it). */
  id: string;
  /** webhook-timestamp: when this attempt was signed, in seconds since the epoch. */
  timestamp: number;
  /** The event, or null for a type this SDK version does not know (answer 2xx and ignore it). */
  event: ScimEvent | null;
  /** The parsed body as sent. */
  payload: unknown;
}

const encoder = new TextEncoder();

/** The HMAC key bytes of a `whsec_…` secret; a secret without the prefix is read as plain base64. */
export function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  const b64 = (secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret).trim();
  const bytes = fromBase64(b64);
  if (bytes === null || bytes.length === 0) throw new SigningSecretError("A signing secret is not `whsec_` followed by base64.");
  return bytes;
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBase64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

// One imported key per secret and use: importKey runs once, not per delivery.
const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  const cacheKey = `${usage}:${secret}`;
  let key = keys.get(cacheKey);
  if (!key) {
    const raw = decodeSecret(secret);
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
    keys.set(cacheKey, key);
  }
  return key;
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}

function bytesOf(body: string | ArrayBuffer | Uint8Array): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

/** The signed content: `${id}.${timestamp}.` followed by the body's exact bytes. */
function signedContent(id: string, timestamp: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
}

/**
 * The `webhook-signature` value for one message and secret: what the service sends. For a
 * receiver's own tests (sign a fixture, then call verify) and for senders of test deliveries.
 */
export async function sign(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): Promise<string> {
  const key = await hmacKey(secret, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, signedContent(id, timestampSeconds, bytesOf(body)));
  return `v1,${toBase64(mac)}`;
}

/**
 * Verifies one delivery and returns it, or throws WebhookVerificationError (not genuine, or not
 * fresh: answer 401) or SigningSecretError (a secret given here is unusable: answer 500).
 * `rawBody` must be the exact bytes received, before any JSON parsing. `secrets`: the one secret,
 * or several while a rotation is under way (any one matching is enough).
 */
export async function verify(
  rawBody: string | ArrayBuffer | Uint8Array,
  headers: HeadersLike,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): Promise<Delivery> {
  const list = (typeof secrets === "string" ? [secrets] : [...secrets]).map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw new SigningSecretError("No signing secret was given to verify with.");
  // Keys first: a broken secret is a configuration error whatever the request.
  const verifyKeys = await Promise.all(list.map((secret) => hmacKey(secret, "verify")));

  const id = header(headers, "webhook-id");
  const stamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !stamp || !signatures) {
    throw new WebhookVerificationError("missing-header", "webhook-id, webhook-timestamp and webhook-signature are required.");
  }
  if (!/^\d{1,15}$/.test(stamp)) throw new WebhookVerificationError("bad-timestamp", "webhook-timestamp is not whole seconds.");
  const timestamp = Number(stamp);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  if (timestamp < now - tolerance) throw new WebhookVerificationError("timestamp-too-old", "webhook-timestamp is too old.");
  if (timestamp > now + tolerance) throw new WebhookVerificationError("timestamp-too-new", "webhook-timestamp is in the future.");

  const body = bytesOf(rawBody);
  const content = signedContent(id, timestamp, body);
  // Only v1 (symmetric) signatures; others (v1a) are for other schemes and are skipped.
  const candidates = signatures
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => fromBase64(s.slice(3)))
    .filter((s): s is Uint8Array<ArrayBuffer> => s !== null && s.length === 32);
  let genuine = false;
  // subtle.verify compares in constant time; every pair is checked, so the time says nothing of which matched.
  for (const key of verifyKeys) {
    for (const candidate of candidates) {
      if (await crypto.subtle.verify("HMAC", key, candidate, content)) genuine = true;
    }
  }
  if (!genuine) throw new WebhookVerificationError("no-matching-signature", "No signature matches a signing secret.");

  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw new WebhookVerificationError("bad-body", "The body is not JSON.");
  }
  return { id, timestamp, event: asEvent(payload), payload };
}

/**
 * A parsed body as an event, when its type is one this SDK knows; null when it is not (a newer
 * service may send types an older receiver ignores). Checks the envelope every rule relies on.
 */
export function asEvent(payload: unknown): ScimEvent | null {
  if (typeof payload !== "object" || payload === null) throw new WebhookVerificationError("bad-body", "The body is not a JSON object.");
  const { type, data } = payload as { type?: unknown; data?: unknown };
  if (!isEventType(type)) return null;
  const d = data as { id?: unknown; version?: unknown } | null | undefined;
  if (typeof d !== "object" || d === null || typeof d.id !== "string" || !Number.isSafeInteger(d.version) || Number(d.version) < 1) {
    throw new WebhookVerificationError(
      "bad-body",
      `A ${type satisfies EventType} event without a string data.id and an integer data.version.`,
    );
  }
  return payload as ScimEvent;
}
