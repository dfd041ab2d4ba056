import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import { EVENT_TYPES, type EventType } from "../../src/events/types";
import worker from "../../src/index";
import { DEFAULT_SETTINGS, type Settings } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import { FaultyD1, touches } from "../fault-d1";
import { checkDelivery } from "../site-double";

/**
 * The consumer against real local D1, driven with real MessageBatches. Only the main site is a
 * test double: globalThis.fetch is intercepted for MAIN_SITE_URL (an external HTTP endpoint).
 */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: string;
}
let calls: Captured[] = [];
let reply: (c: Captured) => Response | Promise<Response> = () => new Response(null, { status: 204 });

beforeEach(() => {
  calls = [];
  reply = () => new Response(null, { status: 204 });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    const c: Captured = { url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() };
    checkDelivery(c.body);
    calls.push(c);
    return reply(c);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

let versionSeq = 0;
async function writeEvent(
  type: EventType,
  opts: { resourceId?: string; data?: Record<string, unknown>; settings?: Settings } = {},
): Promise<string> {
  const db = getDb(env.DB);
  const id = newEventId();
  const resourceId = opts.resourceId ?? crypto.randomUUID();
  versionSeq += 1;
  await db.batch([
    outboxInsert(
      db,
      {
        id,
        type,
        resourceType: type.startsWith("group.") ? "Group" : "User",
        resourceId,
        resourceVersion: versionSeq,
        data: opts.data ?? sampleData(type, resourceId, versionSeq),
      },
      opts.settings ?? DEFAULT_SETTINGS,
      new Date(),
    ),
  ]);
  return id;
}

interface Row {
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
  payload: string;
}
async function row(id: string): Promise<Row> {
  const r = await env.DB.prepare("SELECT state, attempts, last_status, last_error, delivered_at, payload FROM events WHERE id = ?")
    .bind(id)
    .first<Row>();
  if (!r) throw new Error(`no event ${id}`);
  return r;
}

async function runQueue(queue: string, bodies: unknown[], attempts = 1, bindings: Cloudflare.Env = env) {
  const messages = bodies.map((body) => ({ id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body }));
  const batch = createMessageBatch(queue, messages);
  // getQueueResult reports which messages were retried but not their delay: spy on retry() for it.
  const delays = new Map<string, number | undefined>();
  for (const m of batch.messages) {
    const original = m.retry.bind(m);
    vi.spyOn(m, "retry").mockImplementation((options?: QueueRetryOptions) => {
      delays.set(m.id, options?.delaySeconds);
      original(options);
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  const result = await getQueueResult(batch, ctx);
  const retried = result.retryMessages.map((r: { msgId: string }) => ({ msgId: r.msgId, delaySeconds: delays.get(r.msgId) }));
  return { result: { ...result, retryMessages: retried }, ids: messages.map((m) => m.id) };
}

const msg = (eventId: string) => ({ v: 1, eventId });

function verified(c: Captured): { type: string; timestamp: string; data: Record<string, unknown> } {
  // The standardwebhooks package, not our signing code, decides whether the signature is right.
  return new Webhook(SECRET).verify(c.body, c.headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}

describe("delivery: one signed Standard Webhooks POST per event", () => {
  it.each(EVENT_TYPES.map((type) => ({ type })))("$type: body, headers and signature", async ({ type }) => {
    const resourceId = crypto.randomUUID();
    const data = sampleData(type, resourceId);
    const id = await writeEvent(type, { resourceId, data });
    const { result, ids } = await runQueue("scim-events", [msg(id)]);

    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(calls).toHaveLength(1);
    const call = calls[0];
    if (!call) throw new Error("no delivery");
    expect(call.headers["webhook-id"]).toBe(id);
    expect(call.headers["content-type"]).toBe("application/json");
    expect(call.headers["user-agent"]).toMatch(/^scim-edge-webhooks\//);
    expect(Number(call.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    expect(call.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);

    const body = verified(call);
    expect(body.type).toBe(type);
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.data).toEqual({ ...data, id: resourceId, version: versionSeq });
    // The POSTed bytes are the stored payload, exactly.
    const r = await row(id);
    expect(call.body).toBe(r.payload);
    expect(r).toMatchObject({ state: "delivered", attempts: 1, last_status: 204, last_error: null });
    expect(r.delivered_at).not.toBeNull();
  });

  it("a second copy of a delivered event is acked without a POST", async () => {
    const id = await writeEvent("user.updated");
    await runQueue("scim-events", [msg(id)]);
    expect(calls).toHaveLength(1);
    const again = await runQueue("scim-events", [msg(id), msg(id)]);
    expect(again.result.explicitAcks).toEqual(again.ids);
    expect(calls).toHaveLength(1);
    expect((await row(id)).attempts).toBe(1);
  });

  it("poison messages and unknown events are acked and never sent", async () => {
    const { result, ids } = await runQueue("scim-events", [{ v: 2, eventId: "x" }, "garbage", { v: 1 }, msg("evt_nope")]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    expect(calls).toHaveLength(0);
  });
});

describe("delivery failures", () => {
  it("503 is retried with backoff, then delivered with the same webhook-id", async () => {
    const id = await writeEvent("user.deactivated");
    reply = () => new Response("maintenance", { status: 503 });
    const first = await runQueue("scim-events", [msg(id)], 1);
    expect(first.result.explicitAcks).toEqual([]);
    expect(first.result.retryMessages).toEqual([{ msgId: first.ids[0], delaySeconds: 30 }]);
    let r = await row(id);
    expect(r).toMatchObject({ state: "retrying", attempts: 1, last_status: 503 });
    expect(r.last_error).toContain("HTTP 503: maintenance");

    const second = await runQueue("scim-events", [msg(id)], 2);
    expect(second.result.retryMessages).toEqual([{ msgId: second.ids[0], delaySeconds: 60 }]);

    reply = () => new Response("ok", { status: 200 });
    const third = await runQueue("scim-events", [msg(id)], 3);
    expect(third.result.explicitAcks).toEqual(third.ids);
    r = await row(id);
    expect(r).toMatchObject({ state: "delivered", attempts: 3, last_status: 200, last_error: null });

    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers["webhook-id"]))).toEqual(new Set([id]));
    expect(new Set(calls.map((c) => c.body)).size).toBe(1);
    for (const c of calls) expect(verified(c).type).toBe("user.deactivated");
  });

  it("honours Retry-After (seconds and HTTP date) when it is longer than the backoff, capped at 1 h", async () => {
    const id = await writeEvent("user.updated");
    reply = () => new Response(null, { status: 429, headers: { "Retry-After": "300" } });
    const a = await runQueue("scim-events", [msg(id)], 1);
    expect(a.result.retryMessages).toEqual([{ msgId: a.ids[0], delaySeconds: 300 }]);

    const inTenMinutes = new Date(Date.now() + 600_000).toUTCString();
    reply = () => new Response(null, { status: 503, headers: { "Retry-After": inTenMinutes } });
    const b = await runQueue("scim-events", [msg(id)], 2);
    const delay = b.result.retryMessages[0]?.delaySeconds ?? 0;
    expect(delay).toBeGreaterThanOrEqual(598);
    expect(delay).toBeLessThanOrEqual(601);

    reply = () => new Response(null, { status: 503, headers: { "Retry-After": "999999" } });
    const c = await runQueue("scim-events", [msg(id)], 2);
    expect(c.result.retryMessages).toEqual([{ msgId: c.ids[0], delaySeconds: 3600 }]);
  });

  it("a network error is retried", async () => {
    const id = await writeEvent("user.updated");
    reply = () => {
      throw new TypeError("connection refused");
    };
    const { result, ids } = await runQueue("scim-events", [msg(id)], 1);
    expect(result.retryMessages).toEqual([{ msgId: ids[0], delaySeconds: 30 }]);
    const r = await row(id);
    expect(r).toMatchObject({ state: "retrying", attempts: 1, last_status: null });
    expect(r.last_error).toContain("connection refused");
  });

  it("400 is rejected: recorded, acked, not retried, and a later copy is not sent", async () => {
    const id = await writeEvent("user.role_changed");
    reply = () => new Response('{"error":"unknown role"}', { status: 400 });
    const { result, ids } = await runQueue("scim-events", [msg(id)]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    const r = await row(id);
    expect(r).toMatchObject({ state: "rejected", attempts: 1, last_status: 400 });
    expect(r.last_error).toContain("unknown role");

    await runQueue("scim-events", [msg(id)]);
    expect(calls).toHaveLength(1);
  });

  it("a redirect is not followed and counts as rejected", async () => {
    const id = await writeEvent("user.updated");
    reply = () => new Response(null, { status: 301, headers: { Location: "https://elsewhere.test/" } });
    await runQueue("scim-events", [msg(id)]);
    const r = await row(id);
    expect(r).toMatchObject({ state: "rejected", last_status: 301 });
    expect(r.last_error).toContain("not followed");
  });

  it("the last attempt says it moves to the DLQ, and the DLQ consumer marks the event dead", async () => {
    const id = await writeEvent("user.deleted");
    reply = () => new Response(null, { status: 500 });
    const last = await runQueue("scim-events", [msg(id)], 9);
    expect(last.result.retryMessages).toHaveLength(1);
    expect((await row(id)).last_error).toContain("scim-events-dlq");

    const dlq = await runQueue("scim-events-dlq", [msg(id), "poison"]);
    expect(dlq.result.explicitAcks.sort()).toEqual([...dlq.ids].sort());
    const r = await row(id);
    expect(r.state).toBe("dead");
    expect(r.last_error).toContain("HTTP 500");
    expect(calls).toHaveLength(1);
  });

  it("the DLQ never turns a delivered event dead", async () => {
    const id = await writeEvent("user.updated");
    await runQueue("scim-events", [msg(id)]);
    await runQueue("scim-events-dlq", [msg(id)]);
    expect((await row(id)).state).toBe("delivered");
  });
});

describe("events that are never sent by the consumer", () => {
  it("dry run: recorded as dry_run, acked without a POST", async () => {
    const id = await writeEvent("user.updated", { settings: { ...DEFAULT_SETTINGS, dryRun: true } });
    expect((await row(id)).state).toBe("dry_run");
    const { result, ids } = await runQueue("scim-events", [msg(id)]);
    expect(result.explicitAcks).toEqual(ids);
    expect(calls).toHaveLength(0);
    expect((await row(id)).state).toBe("dry_run");
  });

  it("MAIN_SITE_URL unset: the event is kept as undeliverable, nothing is sent", async () => {
    const id = await writeEvent("user.created");
    const { result, ids } = await runQueue("scim-events", [msg(id)], 1, { ...env, MAIN_SITE_URL: "" });
    expect(result.explicitAcks).toEqual(ids);
    expect(calls).toHaveLength(0);
    const r = await row(id);
    expect(r).toMatchObject({ state: "undeliverable", attempts: 0 });
    expect(r.last_error).toContain("MAIN_SITE_URL is not set");
  });

  it("MAIN_SITE_URL unset, a batch of ten: one read (with the consumer's progress) and one UPDATE for the batch; delivered and unknown events are only acked", async () => {
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await writeEvent("user.updated"));
    const done = await writeEvent("user.updated");
    await env.DB.prepare("UPDATE events SET state = 'delivered' WHERE id = ?").bind(done).run();
    const db = new FaultyD1(env.DB, () => undefined);
    const { result } = await runQueue("scim-events", [...ids, done, "evt_unknown"].map(msg), 1, { ...env, DB: db, MAIN_SITE_URL: "" });
    expect(result.explicitAcks).toHaveLength(10);
    expect(result.retryMessages).toEqual([]);
    expect(db.calls.map((c) => c.kind)).toEqual(["batch", "statement"]);
    expect(calls).toHaveLength(0);
    for (const id of ids) expect((await row(id)).state).toBe("undeliverable");
    expect((await row(done)).state).toBe("delivered");
  });

  it("MAIN_SITE_URL unset and D1 refuses the UPDATE: the sendable messages are retried, nothing is marked", async () => {
    const ids = [await writeEvent("user.updated"), await writeEvent("user.updated")];
    const db = new FaultyD1(env.DB, (call) => (touches(call, /^update "events"/i) ? { kind: "unavailable" } : undefined));
    const { result, ids: msgIds } = await runQueue("scim-events", ids.map(msg), 1, { ...env, DB: db, MAIN_SITE_URL: "" });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r: { msgId: string }) => r.msgId).sort()).toEqual([...msgIds].sort());
    for (const id of ids) expect((await row(id)).state).toBe("queued");
  });

  it("a bad signing secret also leaves the event undeliverable, never dropped", async () => {
    const id = await writeEvent("user.created");
    await runQueue("scim-events", [msg(id)], 1, { ...env, MAIN_SITE_SIGNING_SECRET: "whsec_***" });
    expect(calls).toHaveLength(0);
    const r = await row(id);
    expect(r.state).toBe("undeliverable");
    expect(r.last_error).toContain("MAIN_SITE_SIGNING_SECRET");
    expect(r.last_error).not.toContain("***");
  });
});
