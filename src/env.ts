import type { JobKind } from "./lifecycle/jobs";
import type { LogEntry } from "./log/entry";
import type { Settings } from "./settings/model";

/**
 * What travels on the scim-events queue (validated by src/events/messages.ts): an outbox event to
 * deliver, or the next chunk of a background job (with its kind, so the runner needs no read to
 * choose; a message without one, sent before kinds travelled, is looked up).
 */
export type QueueMessage = { v: 1; eventId: string } | { v: 1; type: "job"; jobId: string; kind?: JobKind };

/**
 * The Worker's bindings, as declared in wrangler.toml and set with `wrangler secret put`;
 * test/types/bindings.ts checks them against what `wrangler types` generates.
 */
export interface Bindings {
  DB: D1Database;
  EVENTS: Queue<QueueMessage>;
  SCIM_RATE_LIMITER?: RateLimit;
  /** POST /oauth/token, per client address and per OAuth client (src/oauth/token-endpoint.ts). */
  OAUTH_TOKEN_RATE_LIMITER?: RateLimit;
  SCIM_BEARER_TOKEN?: string;
  SCIM_BEARER_TOKEN_NEXT?: string;
  ADMIN_TOKEN?: string;
  MAIN_SITE_SIGNING_SECRET?: string;
  /** Optional: while set, every delivery is signed with it too, for a rotation without a gap. */
  MAIN_SITE_SIGNING_SECRET_NEXT?: string;
  MAIN_SITE_URL?: string;
  /** The site's bearer token for the pull feed, GET /api/site/v1/events (src/site/). Unset: the feed refuses every request. */
  SITE_API_TOKEN?: string;
  /** The admin page's built files (wrangler.toml [assets]), served by src/admin/page.ts. */
  ASSETS: Fetcher;
  /** Admin sign-in through Cloudflare Access (src/admin/access.ts): both or neither. */
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
}

/** Request-scoped values, set once by middleware (src/middleware/context.ts, scim-enabled.ts). */
interface Variables {
  requestId: string;
  /** Absolute base URL of the SCIM API, e.g. https://scim.example.com/api/scim/v2 */
  baseUrl: string;
  /** This request's provisioning-log entry (src/log/): what it touched and decided. */
  log: LogEntry;
  /** The settings, read once for a SCIM request (cached per isolate, src/settings/store.ts). */
  settings: Settings;
  /** Their version: every write's batch checks it (src/write/cas.ts settingsUnchanged). */
  settingsVersion: number;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
