// Time to the site: from the moment a SCIM deactivation's response is read to the moment the site
// on this machine has the user.deactivated event, while the Okta request mix runs beside it. Both
// instants are read from this process's one clock (performance.now()), so no clock skew enters the
// figure. By push (a verifying receiver, bench/lib/site.mjs) it spans the writer's queue send after
// commit, the queue's batching (max_batch_timeout 1 s in wrangler.toml), the consumer's D1 read and
// signing, the POST, and the receiver's verification; by pull (a poller at 1 s,
// bench/lib/puller.mjs) the wait for the next poll and the feed's read.
import { drive } from "./load.mjs";
import { requestTypes, scimHeaders } from "./mix.mjs";
import { PATCH_SCHEMA, userBody } from "./users.mjs";

/** The background mix, as Okta provisions: mostly lookups and reads, some creates and updates. */
const MIX = ["lookup", "get", "lookup", "post", "lookup", "put", "get", "lookup"];

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(url, init, expect) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${init.method ?? "GET"} ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/**
 * Deactivates `samples` fresh users one at a time, `paceMs` apart, while `background` clients run
 * the Okta mix against the same service; the site tells `received` (user id → receipt time).
 * `settings` are saved with the guard's (siteDelivery "pull" for the pull figures).
 * Returns the latencies (ms, sorted), their p50/p99/max, what did not arrive, and the mix's rate.
 */
export async function deactivationLatency({ ctx, adminToken, received, samples, paceMs, background, settings = {} }) {
  const origin = new URL(ctx.api).origin;
  // The guard would hold deactivations past 25 an hour (and the mix's own): they are measured here, not held.
  await call(
    `${origin}/admin/api/settings`,
    {
      method: "PUT",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ deprovisionGuard: { maxPerHour: 1_000_000 }, ...settings }),
    },
    200,
  );
  const ids = [];
  for (let k = 0; k < samples; k++) {
    const body = userBody(`L${ctx.run}_`, k);
    const text = await call(
      `${ctx.api}/Users`,
      { method: "POST", headers: scimHeaders(ctx.token, k, true), body: JSON.stringify(body) },
      201,
    );
    ids.push(JSON.parse(text).id);
  }
  // The settings cache (5 s per isolate) must have the new guard before the first deactivation.
  await sleep(6_000);

  const types = requestTypes({ ...ctx, posted: [] });
  const mix = MIX.map((key) => types.find((t) => t.key === key)).filter(Boolean);
  let stop = false;
  const load = drive({
    concurrency: background,
    durationMs: samples * paceMs + 120_000,
    next: (i) => (stop ? null : mix[i % mix.length].next(i)),
  });

  const responded = new Map();
  for (const [k, id] of ids.entries()) {
    const t0 = performance.now();
    const patch = { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { active: false } }] };
    await call(
      `${ctx.api}/Users/${id}`,
      { method: "PATCH", headers: scimHeaders(ctx.token, 900 + k, true), body: JSON.stringify(patch) },
      200,
    );
    responded.set(id, performance.now());
    await sleep(Math.max(0, paceMs - (performance.now() - t0)));
  }
  const deadline = performance.now() + 60_000;
  while (ids.some((id) => !received.has(id)) && performance.now() < deadline) await sleep(100);
  stop = true;
  const mixRun = await load;

  const latencies = ids
    .filter((id) => received.has(id))
    .map((id) => received.get(id) - responded.get(id))
    .sort((a, b) => a - b);
  return {
    samples,
    arrived: latencies.length,
    missing: samples - latencies.length,
    min: latencies[0] ?? Number.NaN,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    mixRps: mixRun.rps,
    mixErrors: mixRun.errors,
    mixErrorSamples: mixRun.errorSamples,
  };
}
