import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { BASE, expectScimError, expectStatus, SCIM_TOKEN, setSettings } from "../helpers";

/**
 * Rate limiting with real miniflare rate-limit bindings (Workers `ratelimits`). The Worker is
 * called with SCIM_RATE_LIMITER swapped for TEST_TINY_RATE_LIMITER (3 requests per 10 s,
 * vitest.config.ts), which is reachable in a test; the production binding from wrangler.toml
 * (6,000 per 60 s per client) is checked on its own.
 */

const TINY_LIMIT = 3;
const TINY_PERIOD_MS = 10_000;

function tinyLimiter(): RateLimit {
  const limiter = (env as unknown as { TEST_TINY_RATE_LIMITER?: RateLimit }).TEST_TINY_RATE_LIMITER;
  if (!limiter) throw new Error("TEST_TINY_RATE_LIMITER is not bound (vitest.config.ts miniflare.ratelimits)");
  return limiter;
}

/** The limiter counts in fixed windows: start where the next few requests fall in one window. */
async function startOfWindow(): Promise<void> {
  const left = TINY_PERIOD_MS - (Date.now() % TINY_PERIOD_MS);
  if (left < 4_000) await new Promise((r) => setTimeout(r, left + 50));
}

let clientSeq = 0;
const newClient = () => `198.51.100.${++clientSeq}-${crypto.randomUUID().slice(0, 6)}`;

async function call(
  client: string,
  opts: { token?: string; limiter?: RateLimit; requestId?: string; path?: string; wait?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? SCIM_TOKEN}`, "cf-connecting-ip": client };
  if (opts.requestId) headers["cf-ray"] = opts.requestId;
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${BASE}${opts.path ?? "/Users?count=1"}`, { headers }),
    { ...env, SCIM_RATE_LIMITER: opts.limiter ?? tinyLimiter() },
    ctx,
  );
  // Refused requests schedule a trailing log write a second later: a flood need not wait for it.
  if (opts.wait !== false) await waitOnExecutionContext(ctx);
  return res;
}

beforeAll(async () => {
  await setSettings();
});

describe("a client over the rate", () => {
  it("gets 429 with Retry-After and an RFC 7644 error body; other clients are still served", async () => {
    await startOfWindow();
    const client = newClient();
    for (let i = 0; i < TINY_LIMIT; i++) await expectStatus(await call(client), 200);
    const res = await call(client);
    const body = await expectScimError(res, 429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers.get("retry-after")}`).toBe(true);
    expect(body.detail).toMatch(new RegExp(`retry after ${retryAfter} seconds`));
    expect(res.headers.get("x-request-id")).toBeTruthy();
    // Per client: someone else is not throttled by this one.
    await expectStatus(await call(newClient()), 200);
  });

  it("is throttled on every SCIM route, writes included, and nothing is written while throttled", async () => {
    await startOfWindow();
    const client = newClient();
    for (let i = 0; i < TINY_LIMIT; i++) await call(client);
    for (const path of ["/Users", "/Groups", "/ServiceProviderConfig", "/Users/some-id", "/Bulk", "/Me"]) {
      await expectScimError(await call(client, { path, wait: false }), 429);
    }
    const post = await worker.fetch(
      new Request(`${BASE}/Users`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "cf-connecting-ip": client, "Content-Type": "application/scim+json" },
        body: JSON.stringify({ userName: `throttled-${client}@example.com` }),
      }),
      { ...env, SCIM_RATE_LIMITER: tinyLimiter() },
      createExecutionContext(),
    );
    await expectScimError(post, 429);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE user_name_norm = ?")
      .bind(`throttled-${client}@example.com`.toLowerCase())
      .first<{ n: number }>();
    expect(n?.n).toBe(0);
  });

  it("a flood of bad tokens is throttled too, and logged as two counted rows (bad token, throttled), not one per request", async () => {
    await startOfWindow();
    const client = newClient();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(client, { token: `guess-${i}`, wait: false })).status);
    expect(statuses.slice(0, TINY_LIMIT)).toEqual(Array.from({ length: TINY_LIMIT }, () => 401));
    expect(statuses.slice(TINY_LIMIT)).toEqual(Array.from({ length: 20 - TINY_LIMIT }, () => 429));
    // The refused guesses and the throttling are each one row, with the exact count.
    const rows = async () =>
      (
        await env.DB.prepare("SELECT status, detail FROM provisioning_log WHERE method = 'REFUSED' AND detail LIKE ? ORDER BY status")
          .bind(`% from ${client} %`)
          .all<{ status: number; detail: string }>()
      ).results;
    await vi.waitUntil(async () => (await rows()).some((r) => r.detail.startsWith(`${20 - TINY_LIMIT} requests`)), { timeout: 5_000 });
    expect((await rows()).map((r) => [r.status, r.detail.split(" from ")[0]])).toEqual([
      [401, `${TINY_LIMIT} requests with a bad token`],
      [429, `${20 - TINY_LIMIT} requests over the rate limit`],
    ]);
  });

  it("counts an IPv6 client by its /64: addresses of one /64 share one limit, another /64 has its own", async () => {
    await startOfWindow();
    const prefix = `2001:db8:${(++clientSeq).toString(16)}:1`;
    for (let i = 0; i < TINY_LIMIT; i++) await expectStatus(await call(`${prefix}::${(i + 1).toString(16)}`), 200);
    await expectScimError(await call(`${prefix}:ffff:ffff:ffff:fff0`), 429);
    await expectStatus(await call(`2001:db8:${clientSeq.toString(16)}:2::1`), 200);
  });
});

describe("an IPv4 client seen through an IPv6 listener (::ffff:a.b.c.d)", () => {
  it("is counted as its IPv4 address: two mapped clients do not share one bucket, and a mapped client shares the IPv4 one", async () => {
    await startOfWindow();
    const n = ++clientSeq;
    const v4 = `198.18.${n % 250}.${(n * 7) % 250}`;
    const other = `198.18.${n % 250}.${((n * 7) % 250) + 1}`;
    for (let i = 0; i < TINY_LIMIT; i++) await expectStatus(await call(`::ffff:${v4}`), 200);
    await expectScimError(await call(`::ffff:${v4}`), 429);
    // The same client in its plain IPv4 form is over the limit too; another mapped client is not.
    await expectScimError(await call(v4), 429);
    await expectStatus(await call(`::ffff:${other}`), 200);
  });
});

describe("production limits (SCIM_RATE_LIMITER from wrangler.toml) let an Okta import through", () => {
  /**
   * Okta does not publish the rate at which it calls a SCIM app. A 100,000-user import from the
   * app reads 1,000 pages of 100; a push to the app costs about two requests per user (lookup,
   * then POST): 200,000 requests. 6,000 per minute per client address is 100 per second
   * sustained, so that push takes at least 33 minutes at the limit; Okta's provisioning engine
   * runs well below it (its own org-wide concurrency limit is 75 requests in flight).
   */
  const REQUIRED_PER_MINUTE = 6_000;

  function productionLimiter(): RateLimit {
    const limiter = env.SCIM_RATE_LIMITER;
    if (!limiter) throw new Error("SCIM_RATE_LIMITER is not bound (wrangler.toml [[ratelimits]])");
    return limiter;
  }

  it(`admits at least ${REQUIRED_PER_MINUTE} requests per minute from one client`, async () => {
    const limiter = productionLimiter();
    const key = newClient();
    let admitted = 0;
    for (let i = 0; i < REQUIRED_PER_MINUTE; i++) if ((await limiter.limit({ key })).success) admitted++;
    expect(admitted).toBe(REQUIRED_PER_MINUTE);
  }, 60_000);

  it("an Okta-like burst (10 parallel connections, 300 list and lookup requests) sees no 429", async () => {
    const limiter = productionLimiter();
    const client = newClient();
    const paths = Array.from({ length: 300 }, (_, i) =>
      i % 2 === 0 ? `/Users?startIndex=${i + 1}&count=100` : `/Users?filter=${encodeURIComponent(`userName eq "okta-${i}@example.com"`)}`,
    );
    const statuses: number[] = [];
    const worker10 = async () => {
      for (let path = paths.shift(); path !== undefined; path = paths.shift())
        statuses.push((await call(client, { limiter, path })).status);
    };
    await Promise.all(Array.from({ length: 10 }, worker10));
    expect(statuses).toHaveLength(300);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
