import type { Db } from "../db/client";
import { type CredentialKey, oauthCredential } from "../db/credentials";
import { serviceKey } from "../keys/service-key";
import { readAccessToken } from "./access-token";
import { cachedRegistry } from "./registry";

export type AccessTokenResult = { kind: "ok"; credential: CredentialKey } | { kind: "expired" } | { kind: "invalid" };

/**
 * A SCIM request's OAuth access token: signed by this service (checked in memory), not expired,
 * and its client, and the secret it was issued for, still there (the isolate's registry, read
 * from D1 at most every SETTINGS_TTL_MS). No D1 round trip in the common case.
 */
export async function authenticateAccessToken(db: Db, token: string, now = Date.now()): Promise<AccessTokenResult> {
  const key = await serviceKey(db, "oauth-access-token");
  const read = await readAccessToken(key, token, Math.floor(now / 1000));
  if (!read.ok) return { kind: read.reason === "expired" ? "expired" : "invalid" };
  const { c: clientRef, k } = read.claims;
  const client = (await cachedRegistry(db, now)).byId.get(clientRef);
  if (!client) return { kind: "invalid" };
  if (client.type === "federated")
    return k === "assertion" ? { kind: "ok", credential: oauthCredential(client.id, { kind: "assertion" }) } : { kind: "invalid" };
  const secret = client.secrets.find((s) => s.id === k);
  return secret ? { kind: "ok", credential: oauthCredential(client.id, { kind: "secret", secretId: secret.id }) } : { kind: "invalid" };
}
