/**
 * The pull feed's cursors: opaque to the site, and signed (HMAC-SHA256 with the service's own
 * "site-feed-cursor" key, src/keys/service-key.ts), so a cursor the feed did not give (edited by
 * hand, or from another deployment) is refused instead of silently skipping or repeating events.
 *
 *   <base64url "f1:<position>:<event id>">.<base64url HMAC of the part before the dot>
 *
 * A cursor names the last event the site has: its feed position and its id. The id lets the feed
 * tell a cursor of this database from one of a database restored to an earlier point (the same
 * position then holds another event, or none yet). The start of the feed is a position with no
 * event (the empty id).
 */
const VERSION = "f1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Event ids are `evt_<hex>` or a resync's `evt_<resync>_u<seq>`: letters, digits, underscores. */
const EVENT_ID = /^[A-Za-z0-9_]{0,200}$/;
const BODY = new RegExp(`^${VERSION}:(\\d{1,16}):([A-Za-z0-9_]{0,200})$`);

export interface FeedCursor {
  /** The feed position of the last event the site has (0: before the first). */
  position: number;
  /** That event's id; "" for a position that names no event (the feed's start). */
  eventId: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export async function encodeCursor(key: CryptoKey, cursor: FeedCursor): Promise<string> {
  if (!Number.isSafeInteger(cursor.position) || cursor.position < 0 || !EVENT_ID.test(cursor.eventId)) {
    throw new Error(`not a feed cursor: ${cursor.position} ${cursor.eventId}`);
  }
  const body = base64url(encoder.encode(`${VERSION}:${cursor.position}:${cursor.eventId}`));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `${body}.${base64url(mac)}`;
}

/** The cursor, if this feed signed it; undefined for anything else. The MAC is checked first, in constant time. */
export async function decodeCursor(key: CryptoKey, text: string): Promise<FeedCursor | undefined> {
  const [body = "", sig = "", ...rest] = text.split(".");
  const mac = fromBase64url(sig);
  if (rest.length > 0 || body === "" || !mac) return undefined;
  if (!(await crypto.subtle.verify("HMAC", key, mac, encoder.encode(body)))) return undefined;
  const bytes = fromBase64url(body);
  const m = bytes ? BODY.exec(decoder.decode(bytes)) : null;
  const position = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(position)) return undefined;
  return { position, eventId: m[2] ?? "" };
}
