import { buildApp } from "./app";
import { type DebugBindings, fetchWithD1Stats } from "./debug/d1-stats";
import type { Bindings } from "./env";
import { handleQueue } from "./events/consumer";
import { handleScheduled } from "./events/sweeper";

const app = buildApp();

export default {
  // D1_STATS=1 only under the bench (`wrangler dev --var D1_STATS:1`): count D1 round trips per request.
  fetch: (request, env, ctx) => (env.D1_STATS === "1" ? fetchWithD1Stats(request, env, ctx, app.fetch) : app.fetch(request, env, ctx)),
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings & DebugBindings, unknown>;
