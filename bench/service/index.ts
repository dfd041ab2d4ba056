/**
 * The service as the bench runs it (bench/lib/wrangler.mjs builds this entry, never src/index.ts
 * alone): the production Worker, with every D1 round trip counted when the var D1_STATS is "1"
 * (`wrangler dev --var D1_STATS:1`), and cursors placed deep in the directory for the cursor
 * pages' request types (cursor-at.ts). Neither ships in a deployed bundle.
 */

import type { Bindings } from "../../src/env";
import worker from "../../src/index";
import { CURSOR_AT_PATH, cursorAt } from "./cursor-at";
import { type DebugBindings, fetchWithD1Stats, queueWithD1Stats } from "./d1-stats";

export default {
  ...worker,
  fetch: (request, env, ctx) => {
    if (env.D1_STATS !== "1") return worker.fetch(request, env, ctx);
    if (new URL(request.url).pathname === CURSOR_AT_PATH) return cursorAt(request, env);
    return fetchWithD1Stats(request, env, ctx, worker.fetch);
  },
  queue: (batch, env, ctx) => (env.D1_STATS === "1" ? queueWithD1Stats(batch, env, ctx, worker.queue) : worker.queue(batch, env, ctx)),
} satisfies ExportedHandler<Bindings & DebugBindings, unknown>;
