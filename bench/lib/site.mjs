// The site, as the benches run it: a receiver in the bench's own process, built on the site SDK
// (site-sdk/dist, `npm run build:sdk`): its node:http handler verifies every delivery, its replica
// applies it by the ordering rules, and synced events are answered with the site's view. Each
// delivery's receipt time is kept (performance.now(), this process's clock) for latency figures.
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { ROOT } from "./wrangler.mjs";

async function sdk() {
  const dist = join(ROOT, "site-sdk", "dist");
  if (!existsSync(join(dist, "index.js"))) throw new Error("site-sdk/dist is missing: run `npm run build:sdk` first.");
  const [main, node] = await Promise.all([import(join(dist, "index.js")), import(join(dist, "node.js"))]);
  return { createReplica: main.createReplica, webhookHandler: node.webhookHandler };
}

/**
 * Starts the site on 127.0.0.1 (a free port). `onEvent(event, receivedAt)` is told of every
 * verified delivery. Returns { url, replica, seen: { deliveries, bad, first, last }, stop }.
 */
export async function startSite(secrets, { onEvent } = {}) {
  const { createReplica, webhookHandler } = await sdk();
  const replica = createReplica();
  const seen = { deliveries: 0, bad: 0, first: 0, last: 0 };
  const handler = webhookHandler({
    secrets,
    onRefused: () => {
      seen.bad++;
    },
    onDelivery: (delivery) => {
      const at = performance.now();
      seen.deliveries++;
      seen.first ||= at;
      seen.last = at;
      if (delivery.event) onEvent?.(delivery.event, at);
      return replica.apply(delivery).view;
    },
  });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/webhooks/scim`, replica, seen, stop: () => new Promise((r) => server.close(r)) };
}
