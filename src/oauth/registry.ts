import type { Db } from "../db/client";
import { loadClients } from "../db/oauth-clients";
import { SETTINGS_TTL_MS } from "../settings/store";
import { clientsOf, type OAuthClient } from "./clients";

/**
 * The OAuth clients and their secrets, kept per isolate like the settings (and for as long:
 * SETTINGS_TTL_MS), and read only when a request presents an OAuth access token or reaches the
 * token endpoint. This is how a signed access token is revoked without a D1 read per request: a
 * deleted client or secret is gone from every isolate's copy within 5 seconds (at once in the
 * isolate that deleted it, which drops its copy).
 */
export interface Registry {
  byId: ReadonlyMap<string, OAuthClient>;
  byClientId: ReadonlyMap<string, OAuthClient>;
  clients: readonly OAuthClient[];
}

let cached: { registry: Registry; at: number } | undefined;
/** A load under way: concurrent requests of one isolate share it instead of each reading D1. */
let loading: Promise<Registry> | undefined;

function registryOf(clients: OAuthClient[]): Registry {
  return {
    clients,
    byId: new Map(clients.map((c) => [c.id, c])),
    byClientId: new Map(clients.map((c) => [c.clientId, c])),
  };
}

/** Reads D1 now (the token endpoint: a secret made a second ago must work) and keeps the result. */
export function freshRegistry(db: Db): Promise<Registry> {
  const started = Date.now();
  const load = loadClients(db).then(({ clients, secrets }) => {
    const registry = registryOf(clientsOf(clients, secrets));
    // A load that started before an invalidation must not bring back what it dropped.
    if (loading === load) cached = { registry, at: started };
    return registry;
  });
  loading = load;
  const done = () => {
    if (loading === load) loading = undefined;
  };
  load.then(done, done);
  return load;
}

/** The isolate's copy if it is at most SETTINGS_TTL_MS old, else a fresh one (the SCIM path). */
export function cachedRegistry(db: Db, now = Date.now()): Promise<Registry> {
  if (cached && now - cached.at < SETTINGS_TTL_MS) return Promise.resolve(cached.registry);
  return loading ?? freshRegistry(db);
}

/** After an admin change: this isolate reads D1 again on its next OAuth request. */
export function invalidateRegistry(): void {
  cached = undefined;
  loading = undefined;
}
