/**
 * Cursors (RFC 9865): a position in a list's order, the query it belongs to, the page size and
 * when it was issued, signed with the service's cursor key (HMAC-SHA256, src/keys/service-key.ts)
 * so that a changed byte is refused, and written in RFC 3986 unreserved characters only
 * (base64url and a dot). The service keeps nothing per cursor: any number of them cost nothing
 * until used (RFC 9865 §5.2). They are signed, not encrypted: one shows a sort value of a resource
 * the client has already been given, nothing else.
 */
import { ScimError } from "./errors";
import { LIMITS } from "./limits";
import { type Direction, invalidCursor, type Position, type SortValue } from "./paging";

export interface CursorClaims {
  /** queryDigest() of the request that issued it. */
  query: string;
  count: number;
  /** Seconds since the epoch. */
  issuedAt: number;
  direction: Direction;
  position: Position;
}

/** The parameters a cursor is bound to (RFC 9865 §2: they repeat unchanged on every page). */
export interface QueryShape {
  /** Which list: "Users", "Groups", the root "" (and any list that reuses this, e.g. "Roles"). */
  endpoint: string;
  filter: string | undefined;
  sortBy: string | undefined;
  sortOrder: string | undefined;
  attributes: string | undefined;
  excludedAttributes: string | undefined;
}

const FORMAT = 1;
/** Bytes of the HMAC kept: 128 bits, ample for an integrity tag. */
const TAG_BYTES = 16;
/** Bytes of the query digest kept: tells one query from another, not a secret. */
const DIGEST_BYTES = 12;

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** A list of attribute names as written, in a form that does not care about case or spaces. */
const nameList = (list: string | undefined) =>
  (list ?? "")
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean)
    .join(",");

/**
 * A short digest of what a cursor is bound to. Names compare without case (RFC 7643 §2.1);
 * an absent sortOrder is "ascending" (RFC 7644 §3.4.2.3); the filter compares as written.
 */
export async function queryDigest(q: QueryShape): Promise<string> {
  const order = (q.sortOrder ?? "").trim().toLowerCase() || "ascending";
  const canonical = JSON.stringify([
    q.endpoint.toLowerCase(),
    q.filter ?? null,
    (q.sortBy ?? "").trim().toLowerCase(),
    q.sortBy?.trim() ? order : "",
    nameList(q.attributes),
    nameList(q.excludedAttributes),
  ]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(canonical)));
  return base64url(digest.slice(0, DIGEST_BYTES));
}

async function tag(key: CryptoKey, payload: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload))).slice(0, TAG_BYTES);
}

export async function encodeCursor(key: CryptoKey, c: CursorClaims): Promise<string> {
  const { stage, key: sortKey, seq } = c.position;
  const body = [FORMAT, c.query, c.count, c.issuedAt, c.direction === "next" ? 0 : 1, stage, sortKey, seq];
  const payload = base64url(encoder.encode(JSON.stringify(body)));
  return `${payload}.${base64url(await tag(key, payload))}`;
}

const isSortValue = (v: unknown): v is SortValue => v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The claims of a cursor this service signed, or 400 invalidCursor. The signature is checked before anything is read. */
export async function decodeCursor(key: CryptoKey, token: string): Promise<CursorClaims> {
  const [payload, signature, ...rest] = token.split(".");
  if (payload === undefined || signature === undefined || rest.length > 0) throw invalidCursor("it is not a cursor this service issued");
  // The tag as this service writes it, compared as text (base64's unused low bits make two spellings
  // of one tag; only the canonical one is accepted), in constant time as HMAC verification does.
  const expected = base64url(await tag(key, payload));
  let diff = expected.length ^ signature.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  if (diff !== 0) throw invalidCursor("it was changed, or not issued by this service");
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(payload)));
  } catch {
    throw invalidCursor("it cannot be read");
  }
  if (!Array.isArray(body) || body.length !== 8 || body[0] !== FORMAT)
    throw invalidCursor("it was issued by another version of this service");
  const [, query, count, issuedAt, direction, stage, sortKey, seq] = body;
  if (typeof query !== "string" || !isCount(count) || !isCount(issuedAt) || (direction !== 0 && direction !== 1)) {
    throw invalidCursor("it cannot be read");
  }
  if (!isCount(stage) || !isSortValue(sortKey) || !Number.isSafeInteger(seq)) throw invalidCursor("it cannot be read");
  return { query, count, issuedAt, direction: direction === 0 ? "next" : "previous", position: { stage, key: sortKey, seq } };
}

/**
 * A signed cursor used with this request: the same query (else invalidCursor), the same count
 * (else invalidCount), within cursorTimeout of being issued (else expiredCursor). RFC 9865 §2.1.
 */
export function checkCursor(c: CursorClaims, request: { query: string; count: number; now: number }): void {
  if (c.query !== request.query) {
    throw invalidCursor(
      "it belongs to a different query; filter, sortBy, sortOrder, attributes and excludedAttributes must be the same as on the first page",
    );
  }
  if (c.count !== request.count) {
    throw new ScimError(400, "invalidCount", `count must stay ${c.count}, as on the first page of this query; it is ${request.count}.`);
  }
  const age = request.now - c.issuedAt;
  if (age > LIMITS.cursorTimeout) {
    throw new ScimError(
      400,
      "expiredCursor",
      `The cursor expired: it was issued ${age} seconds ago and is valid for ${LIMITS.cursorTimeout} (cursorTimeout). Start again from the first page with an empty cursor.`,
    );
  }
}
