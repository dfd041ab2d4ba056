import { buildApp } from "./app";
import type { Bindings } from "./env";
import { handleScheduled } from "./worker/cron";
import { handleQueue } from "./worker/queue";

const app = buildApp();

/** The Worker: the HTTP app (SCIM, admin), the queue consumers, the cron. */
export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings, unknown>;
