import { createExecutionContext, createMessageBatch, env, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { FaultyD1 } from "../fault-d1";
import {
  ADMIN_TOKEN,
  BASE,
  createUser,
  expectStatus,
  fetchWorker,
  ORIGIN,
  oktaUser,
  PATCH_OP,
  SCIM_TOKEN,
  setSettings,
  uniqueName,
} from "../helpers";
import { checkDelivery } from "../site-double";

/**
 * Secrets never leave the Worker: not in any response (body or header), not in any console
 * line, not in the provisioning log, not in an event payload, whether the credential presented
 * was right, wrong, or a near miss, and whether the request succeeded, failed or crashed.
 */

const NEXT_TOKEN = "test-scim-token-next";
const SIGNING_SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";
const SIGNING_KEY = SIGNING_SECRET.replace(/^whsec_/, "");
/** MAIN_SITE_SIGNING_SECRET_NEXT, set for part of the session (a rotation under way). */
const NEXT_SIGNING_SECRET = "whsec_bmV4dC1zaWduaW5nLXNlY3JldC10ZXN0";
const NEXT_SIGNING_KEY = NEXT_SIGNING_SECRET.replace(/^whsec_/, "");
const ROTATING = { ...env, MAIN_SITE_SIGNING_SECRET_NEXT: NEXT_SIGNING_SECRET };
/** Wrong credentials a client might send: they are secrets too (a typo'd token is nearly the token). */
const NEAR_MISSES = [SCIM_TOKEN.slice(0, -1), `${SCIM_TOKEN}x`, `x${ADMIN_TOKEN}`, "guess-7f1c9e2a"];
const SECRETS = [
  SCIM_TOKEN,
  NEXT_TOKEN,
  ADMIN_TOKEN,
  SIGNING_SECRET,
  SIGNING_KEY,
  NEXT_SIGNING_SECRET,
  NEXT_SIGNING_KEY,
  ...NEAR_MISSES,
  btoa(`okta:${SCIM_TOKEN}`),
];

const lines: string[] = [];
const seen: string[] = [];

/** Records everything a response shows: status line, every header, the whole body. */
async function record(res: Response): Promise<Response> {
  const headers: string[] = [];
  res.headers.forEach((v, k) => headers.push(`${k}: ${v}`));
  seen.push(`${res.status}\n${headers.join("\n")}\n${await res.clone().text()}`);
  return res;
}

async function send(path: string, init: RequestInit = {}): Promise<Response> {
  return record(await fetchWorker(path.startsWith("http") ? path : `${BASE}${path}`, init));
}

const bearer = (token: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...extra });
const json = { "Content-Type": "application/scim+json" };

function expectNoSecret(where: string, texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) {
      if (text.includes(secret)) throw new Error(`${where} contains a secret (${secret.slice(0, 4)}…): ${text.slice(0, 300)}`);
    }
  }
}

beforeAll(() => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : (JSON.stringify(a) ?? String(a)))).join(" "));
    });
  }
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe("secrets in responses, logs, the provisioning log and events", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("a mixed session of good, wrong and near-miss credentials, successes, errors and a crash leaks nothing", async () => {
    // Good token: the whole CRUD cycle, Bulk (which forwards the Authorization header), .search.
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    await send(`/Users/${id}`, { headers: bearer(SCIM_TOKEN) });
    await send(`/Users/${id}`, {
      method: "PATCH",
      headers: bearer(NEXT_TOKEN, json),
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false, password: SCIM_TOKEN } }] }),
    });
    await send("/Bulk", {
      method: "POST",
      headers: bearer(SCIM_TOKEN, json),
      body: JSON.stringify({
        Operations: [
          { method: "POST", path: "/Users", bulkId: "b", data: { userName: uniqueName() } },
          { method: "GET", path: "/nope" },
        ],
      }),
    });
    await send("/.search", {
      method: "POST",
      headers: bearer(SCIM_TOKEN, json),
      body: JSON.stringify({ filter: "userName pr", count: 2 }),
    });
    await send("/Users?filter=bogus", { headers: bearer(SCIM_TOKEN) });
    await send("/Users", { method: "POST", headers: bearer(SCIM_TOKEN, json), body: "{not json" });

    // Wrong and near-miss credentials, every scheme, on SCIM and on the admin API.
    for (const token of [...NEAR_MISSES, ADMIN_TOKEN]) {
      await send("/Users", { headers: bearer(token) });
      await send("/Users", { method: "POST", headers: bearer(token, json), body: JSON.stringify({ userName: uniqueName() }) });
    }
    await send("/Users", { headers: { Authorization: `Basic ${btoa(`okta:${SCIM_TOKEN}`)}` } });
    await send("/Users", { headers: { Authorization: SCIM_TOKEN.slice(0, -1) } });
    for (const token of [SCIM_TOKEN, NEXT_TOKEN, ...NEAR_MISSES]) await send(`${ORIGIN}/admin/api/settings`, { headers: bearer(token) });

    // The admin side with the admin token: settings, events, the log, the page, health.
    for (const path of [
      "/admin/api/settings",
      "/admin/api/events",
      "/admin/api/log?limit=200",
      `/admin/api/users/${id}/timeline`,
      "/admin",
      "/healthz",
    ]) {
      await send(`${ORIGIN}${path}`, { headers: bearer(ADMIN_TOKEN) });
    }

    // A crash mid-request (D1 lost): the 500 and its log line.
    const ctx = createExecutionContext();
    await record(
      await worker.fetch(
        new Request(`${BASE}/Users`, { method: "POST", headers: bearer(SCIM_TOKEN, json), body: JSON.stringify(oktaUser(uniqueName())) }),
        { ...env, DB: new FaultyD1(env.DB, (call) => (call.kind === "batch" ? { kind: "unavailable" } : undefined)) },
        ctx,
      ),
    );

    // A rotation of the signing secret under way: the next secret pasted into a URL (with and
    // without its prefix) must not reach the provisioning log.
    for (const leaked of [NEXT_SIGNING_SECRET, NEXT_SIGNING_KEY]) {
      const lctx = createExecutionContext();
      const url = `${BASE}/Users?count=1&q=${encodeURIComponent(leaked)}`;
      await record(await worker.fetch(new Request(url, { headers: bearer(SCIM_TOKEN) }), ROTATING, lctx));
      await waitOnExecutionContext(lctx);
    }

    // The consumer signing (with both secrets) and delivering, and a site answering an error that echoes what it got.
    const event = await env.DB.prepare("SELECT id FROM events WHERE resource_id = ? ORDER BY resource_version DESC")
      .bind(id)
      .first<{ id: string }>();
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input, init);
      checkDelivery(await req.clone().text());
      const echoed = [...req.headers].map(([k, v]) => `${k}=${v}`).join("; ");
      return new Response(`rejected: ${echoed}`, { status: 400 });
    });
    const batch = createMessageBatch("scim-events", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { v: 1, eventId: event?.id ?? "" } },
    ]);
    const qctx = createExecutionContext();
    await worker.queue(batch, ROTATING, qctx);
    await getQueueResult(batch, qctx);

    expect(seen.length).toBeGreaterThan(30);
    expectNoSecret("a response", seen);
    expectNoSecret("a console line", lines);
    expect(lines.some((l) => l.includes("Network connection lost"))).toBe(true);

    const log = await env.DB.prepare("SELECT * FROM provisioning_log").all<Record<string, unknown>>();
    // The session's requests, the refused ones counted per client and reason (src/log/refused.ts).
    expect(log.results.length).toBeGreaterThan(10);
    expect(log.results.some((r) => r.method === "REFUSED")).toBe(true);
    expectNoSecret(
      "the provisioning log",
      log.results.map((r) => JSON.stringify(r)),
    );
    const events = await env.DB.prepare("SELECT payload, last_error FROM events").all<Record<string, unknown>>();
    expectNoSecret(
      "an event",
      events.results.map((r) => JSON.stringify(r)),
    );
    const users = await env.DB.prepare("SELECT data, password_hash FROM users").all<Record<string, unknown>>();
    expectNoSecret(
      "a stored user",
      users.results.map((r) => JSON.stringify(r)),
    );
  });

  it("401 answers never echo the credential that was sent", async () => {
    for (const token of NEAR_MISSES) {
      const res = await send("/Users", { headers: bearer(token) });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain(token);
    }
    await expectStatus(await send("/Users?count=1", { headers: bearer(SCIM_TOKEN) }), 200);
  });
});
