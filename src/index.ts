import { buildApp } from "./app";
import type { Bindings } from "./env";
import { handleQueue } from "./events/consumer";
import { handleScheduled } from "./events/sweeper";

const app = buildApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings, unknown>;
