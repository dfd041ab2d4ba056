import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { serviceKeys } from "../db/schema";

/**
 * What a service key signs. Each purpose has its own key, so a value signed for one use (a list
 * cursor) can never be passed off as another (an access token).
 */
export type KeyPurpose = "cursor" | "oauth-access-token" | "site-feed-cursor";

/** Per isolate: a key is read from D1 once, then every use is in memory. */
const cache = new Map<KeyPurpose, Promise<CryptoKey>>();

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

async function loadKey(db: Db, purpose: KeyPurpose): Promise<CryptoKey> {
  // One round trip: create the key if no isolate has yet (the first writer wins), then read it.
  const [, rows] = await db.batch([
    db.insert(serviceKeys).values({ purpose, secret: randomSecret(), createdAt: new Date().toISOString() }).onConflictDoNothing(),
    db.select({ secret: serviceKeys.secret }).from(serviceKeys).where(eq(serviceKeys.purpose, purpose)),
  ]);
  const secret = rows[0]?.secret;
  if (secret === undefined) throw new Error(`service key "${purpose}" could not be read`);
  const raw = Uint8Array.from(atob(secret), (ch) => ch.charCodeAt(0));
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/**
 * The HMAC-SHA256 key of a purpose: random, made by the service on first use and kept in D1
 * (`service_keys`), the same for every isolate. A failed read is not cached.
 */
export function serviceKey(db: Db, purpose: KeyPurpose): Promise<CryptoKey> {
  let key = cache.get(purpose);
  if (!key) {
    key = loadKey(db, purpose);
    key.catch(() => cache.delete(purpose));
    cache.set(purpose, key);
  }
  return key;
}
