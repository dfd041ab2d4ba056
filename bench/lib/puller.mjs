// The site that pulls, as the benches run it: a poller in the bench's own process, built on the
// site SDK (site-sdk/dist, `npm run build:sdk`): `pull()` reads the service's feed
// (GET /api/site/v1/events with SITE_API_TOKEN) to its end, waits `intervalMs`, and reads again;
// the replica applies every event by the ordering rules. Each event's receipt time is the moment
// the page that carries it was read (performance.now(), this process's clock).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./wrangler.mjs";

/**
 * Starts polling `serviceUrl` every `intervalMs` once caught up. `onEvent(event, receivedAt)` is told
 * of every event. Returns { replica, seen: { events, pages, polls, retries }, stop }.
 */
export async function startPuller(serviceUrl, token, { intervalMs = 1000, onEvent } = {}) {
  const dist = join(ROOT, "site-sdk", "dist");
  if (!existsSync(join(dist, "index.js"))) throw new Error("site-sdk/dist is missing: run `npm run build:sdk` first.");
  const { createReplica, pull } = await import(join(dist, "index.js"));
  const replica = createReplica();
  const seen = { events: 0, pages: 0, polls: 0, retries: 0 };
  const controller = new AbortController();
  // Counts every request the poller makes (a poll that finds nothing yields no page).
  const counting = (input, init) => {
    seen.polls++;
    return fetch(input, { ...init, signal: AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)]) });
  };
  const running = (async () => {
    const pages = pull({
      url: serviceUrl,
      token,
      limit: 500,
      intervalMs,
      retryMs: 250,
      fetch: counting,
      signal: controller.signal,
      onRetry: () => {
        seen.retries++;
      },
    });
    for await (const page of pages) {
      const at = performance.now();
      seen.pages++;
      for (const pulled of page.events) {
        seen.events++;
        if (pulled.event) onEvent?.(pulled.event, at);
        replica.apply(pulled);
      }
    }
  })();
  return {
    replica,
    seen,
    stop: async () => {
      controller.abort();
      await running.catch(() => undefined);
    },
  };
}
