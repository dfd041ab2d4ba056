import type { QueueMessage } from "./events/messages";

/** The Worker's bindings, as declared in wrangler.toml and set with `wrangler secret put`. */
export interface Bindings {
  DB: D1Database;
  EVENTS: Queue<QueueMessage>;
  SCIM_RATE_LIMITER?: RateLimit;
  SCIM_BEARER_TOKEN?: string;
  SCIM_BEARER_TOKEN_NEXT?: string;
  ADMIN_TOKEN?: string;
  MAIN_SITE_SIGNING_SECRET?: string;
  MAIN_SITE_URL?: string;
}

/** Request-scoped values set by middleware. */
interface Variables {
  requestId: string;
  /** Absolute base URL of the SCIM API, e.g. https://scim.example.com/api/scim/v2 */
  baseUrl: string;
  audit: import("./http/audit").Audit;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
