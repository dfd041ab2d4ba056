import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import type { EventType } from "../../src/events/types";
import worker from "../../src/index";
import { DEFAULT_SETTINGS, type Settings } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import { admin, expectStatus, type Json, setSettings } from "../helpers";
import { checkDelivery } from "../site-double";

/** /admin/api/events through the Worker's fetch, with real D1 and the real scim-events queue. */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";

interface Captured {
  headers: Record<string, string>;
  body: string;
}
let calls: Captured[] = [];
let status = 204;

beforeEach(() => {
  calls = [];
  status = 204;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    const body = await req.text();
    checkDelivery(body);
    calls.push({ headers: Object.fromEntries(req.headers), body });
    return new Response(null, { status });
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

let version = 100;
async function writeEvent(type: EventType, resourceId: string, settings: Settings = DEFAULT_SETTINGS): Promise<string> {
  const db = getDb(env.DB);
  const id = newEventId();
  version += 1;
  await db.batch([
    outboxInsert(
      db,
      { id, type, resourceType: "User", resourceId, resourceVersion: version, data: sampleData(type, resourceId, version) },
      settings,
      new Date(),
    ),
  ]);
  return id;
}

async function stateOf(id: string): Promise<string | undefined> {
  const r = await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(id).first<{ state: string }>();
  return r?.state;
}

async function consume(ids: string[], bindings: Cloudflare.Env = env, attempts = 1): Promise<void> {
  const batch = createMessageBatch(
    "scim-events",
    ids.map((eventId) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts, body: { v: 1, eventId } })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  await getQueueResult(batch, ctx);
}

async function waitDelivered(id: string): Promise<void> {
  await vi.waitUntil(async () => (await stateOf(id)) === "delivered", { timeout: 15_000, interval: 100 });
}

function deliveriesOf(id: string): Captured[] {
  return calls.filter((c) => c.headers["webhook-id"] === id);
}

describe("admin events API: auth", () => {
  it("401 without or with a wrong admin token, and the SCIM token does not open it", async () => {
    for (const token of [null, "wrong", "test-scim-token"]) {
      const res = await admin("GET", "/events", undefined, token);
      const body = await expectStatus(res, 401);
      expect(body.error).toBe("unauthorized");
    }
    expect((await admin("POST", "/events/release-held", undefined, null)).status).toBe(401);
  });
});

describe("GET /admin/api/events", () => {
  it("lists newest first with a seq cursor, filters by resource id and state, and counts per state", async () => {
    const resourceId = crypto.randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await writeEvent("user.updated", resourceId));
    await consume([ids[0] ?? ""]); // one delivered

    const page1 = await expectStatus(await admin("GET", `/events?resourceId=${resourceId}&limit=2`), 200);
    const events1 = page1.events as Json[];
    expect(events1.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(typeof page1.nextCursor).toBe("string");
    const page2 = await expectStatus(
      await admin("GET", `/events?resourceId=${resourceId}&limit=2&cursor=${String(page1.nextCursor)}`),
      200,
    );
    expect((page2.events as Json[]).map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const page3 = await expectStatus(await admin("GET", `/events?userId=${resourceId}&limit=2&cursor=${String(page2.nextCursor)}`), 200);
    expect((page3.events as Json[]).map((e) => e.id)).toEqual([ids[0]]);
    expect(page3.nextCursor).toBeNull();

    const first = (page3.events as Json[])[0] ?? {};
    expect(first).toMatchObject({
      id: ids[0],
      type: "user.updated",
      resourceType: "User",
      resourceId,
      state: "delivered",
      attempts: 1,
      lastStatus: 204,
    });
    expect(first.payload).toMatchObject({ type: "user.updated", data: { id: resourceId } });

    const delivered = await expectStatus(await admin("GET", `/events?resourceId=${resourceId}&state=delivered`), 200);
    expect((delivered.events as Json[]).map((e) => e.id)).toEqual([ids[0]]);
    const both = await expectStatus(await admin("GET", `/events?resourceId=${resourceId}&state=queued,delivered&type=user.updated`), 200);
    expect(both.events as Json[]).toHaveLength(5);

    const counts = page1.counts as Record<string, number>;
    for (const s of ["pending", "queued", "retrying", "delivered", "rejected", "dead", "held", "undeliverable", "dry_run", "discarded"]) {
      expect(typeof counts[s], s).toBe("number");
    }
    expect(counts.queued).toBeGreaterThanOrEqual(4);
    expect(counts.delivered).toBeGreaterThanOrEqual(1);
  });

  it("an empty parameter means it was not given, as in the log API (the page sends every field)", async () => {
    const all = await expectStatus(await admin("GET", "/events?limit=5"), 200);
    const blank = await expectStatus(await admin("GET", "/events?state=&type=&userId=&limit=5"), 200);
    expect(blank.events).toEqual(all.events);
  });

  it.each([
    { name: "an unknown state", query: "state=bogus" },
    { name: "limit below 1", query: "limit=0" },
    { name: "limit above 200", query: "limit=201" },
    { name: "a limit that is not a number", query: "limit=abc" },
    { name: "a cursor that is not a number", query: "cursor=abc" },
    { name: "a negative cursor", query: "cursor=-1" },
    { name: "an unknown type", query: "type=user.exploded" },
    { name: "both resourceId and userId", query: "resourceId=a&userId=b" },
  ])("400 with {error, detail} for $name ($query)", async ({ query }) => {
    const body = await expectStatus(await admin("GET", `/events?${query}`), 400);
    expect(body.error).toBe("invalid_query");
    expect(typeof body.detail).toBe("string");
  });

  it("GET /events/{id} answers the event, or 404 with {error, detail}", async () => {
    const id = await writeEvent("user.created", crypto.randomUUID());
    expect((await expectStatus(await admin("GET", `/events/${id}`), 200)).id).toBe(id);
    const missing = await expectStatus(await admin("GET", "/events/evt_missing"), 404);
    expect(missing).toMatchObject({ error: "not_found" });
  });
});

describe("POST /admin/api/events/{id}/redeliver", () => {
  it("MAIN_SITE_URL unset: undeliverable, then once it is set, redeliver sends it with the same id", async () => {
    const id = await writeEvent("user.created", crypto.randomUUID());
    await consume([id], { ...env, MAIN_SITE_URL: "" });
    expect(await stateOf(id)).toBe("undeliverable");
    const listed = await expectStatus(await admin("GET", "/events?state=undeliverable"), 200);
    expect((listed.events as Json[]).map((e) => e.id)).toContain(id);
    expect(calls).toHaveLength(0);

    // The test Worker has MAIN_SITE_URL set: the redelivered message goes through the real queue.
    const res = await admin("POST", `/events/${id}/redeliver`);
    const body = await expectStatus(res, 202);
    expect(body.id).toBe(id);
    expect(["queued", "delivered"]).toContain(body.state);
    await waitDelivered(id);
    const sent = deliveriesOf(id);
    expect(sent).toHaveLength(1);
    const call = sent[0];
    if (!call) throw new Error("not delivered");
    expect(new Webhook(SECRET).verify(call.body, call.headers)).toMatchObject({ type: "user.created" });
  });

  it("redelivers rejected and dead events; every delivery carries the event's one id", async () => {
    const rejected = await writeEvent("user.updated", crypto.randomUUID());
    status = 400;
    await consume([rejected]);
    expect(await stateOf(rejected)).toBe("rejected");
    status = 204;
    await expectStatus(await admin("POST", `/events/${rejected}/redeliver`), 202);
    await waitDelivered(rejected);
    expect(new Set(deliveriesOf(rejected).map((c) => c.headers["webhook-id"]))).toEqual(new Set([rejected]));
    expect(deliveriesOf(rejected)).toHaveLength(2);

    const dead = await writeEvent("user.deleted", crypto.randomUUID());
    await env.DB.prepare("UPDATE events SET state = 'dead', last_error = 'HTTP 503' WHERE id = ?").bind(dead).run();
    await expectStatus(await admin("POST", `/events/${dead}/redeliver`), 202);
    await waitDelivered(dead);
    expect(deliveriesOf(dead)).toHaveLength(1);

    const log = await env.DB.prepare("SELECT decisions FROM provisioning_log WHERE decisions LIKE ?")
      .bind(`%${dead}%`)
      .first<{ decisions: string }>();
    expect(log?.decisions).toContain("redelivered, was dead");
  });

  it("a queued event whose message was lost can be pushed again", async () => {
    const id = await writeEvent("user.updated", crypto.randomUUID());
    await env.DB.prepare("UPDATE events SET state = 'queued' WHERE id = ?").bind(id).run();
    await expectStatus(await admin("POST", `/events/${id}/redeliver`), 202);
    await waitDelivered(id);
    expect(deliveriesOf(id)).toHaveLength(1);
  });

  it("404 for an unknown id; 409 for held, pending and discarded events, and for dry_run ones while dryRun is on", async () => {
    expect(await expectStatus(await admin("POST", "/events/evt_missing/redeliver"), 404)).toMatchObject({ error: "not_found" });

    const dry = await writeEvent("user.updated", crypto.randomUUID(), { ...DEFAULT_SETTINGS, dryRun: true });
    expect(await stateOf(dry)).toBe("dry_run");
    await setSettings({ dryRun: true });
    const a = await expectStatus(await admin("POST", `/events/${dry}/redeliver`), 409);
    expect(a).toMatchObject({ error: "dry_run_on" });
    expect(String(a.detail)).toContain("turn dryRun off");
    const bulk = await expectStatus(await admin("POST", "/events/redeliver", { state: "dry_run" }), 409);
    expect(bulk).toMatchObject({ error: "dry_run_on" });
    expect(await stateOf(dry)).toBe("dry_run");
    await setSettings({ dryRun: false });

    // pending: its queue send failed and the sweeper will send it.
    const pending = await writeEvent("user.updated", crypto.randomUUID());
    await env.DB.prepare("UPDATE events SET state = 'pending' WHERE id = ?").bind(pending).run();
    expect(String((await expectStatus(await admin("POST", `/events/${pending}/redeliver`), 409)).detail)).toContain("on its way");

    for (const s of ["held", "discarded"]) {
      const id = await writeEvent("user.updated", crypto.randomUUID());
      await env.DB.prepare("UPDATE events SET state = ? WHERE id = ?").bind(s, id).run();
      await expectStatus(await admin("POST", `/events/${id}/redeliver`), 409);
      expect(await stateOf(id)).toBe(s);
    }
    expect(calls).toHaveLength(0);
  });
});

describe("dry run", () => {
  it("a dry_run event is sent once dryRun is off and an admin redelivers it", async () => {
    await setSettings({ dryRun: false });
    const id = await writeEvent("user.updated", crypto.randomUUID(), { ...DEFAULT_SETTINGS, dryRun: true });
    const moved = await expectStatus(await admin("POST", `/events/${id}/redeliver`), 202);
    expect(moved).toMatchObject({ id, state: "queued" });
    await consume([id]);
    expect(await stateOf(id)).toBe("delivered");
    expect(calls.map((c) => c.headers["webhook-id"])).toEqual([id]);
  });

  it("records events as dry_run, lists them, and never delivers them", async () => {
    const resourceId = crypto.randomUUID();
    const id = await writeEvent("user.deactivated", resourceId, { ...DEFAULT_SETTINGS, dryRun: true });
    await consume([id]);
    const listed = await expectStatus(await admin("GET", `/events?resourceId=${resourceId}&state=dry_run`), 200);
    expect((listed.events as Json[]).map((e) => e.id)).toEqual([id]);
    expect(await stateOf(id)).toBe("dry_run");
    expect(calls).toHaveLength(0);
  });
});

describe("redelivering what a dry run recorded never goes past the guard", () => {
  const row = async (id: string) =>
    env.DB.prepare("SELECT state, hold, held_by FROM events WHERE id = ?")
      .bind(id)
      .first<{ state: string; hold: string | null; held_by: string | null }>();

  it("deactivations and deletions become held, and what follows them for that user waits behind them", async () => {
    await setSettings({ dryRun: false });
    const dry = { ...DEFAULT_SETTINGS, dryRun: true };
    const leaving = crypto.randomUUID();
    const staying = crypto.randomUUID();
    const deactivated = await writeEvent("user.deactivated", leaving, dry);
    const after = await writeEvent("user.updated", leaving, dry);
    const other = await writeEvent("user.updated", staying, dry);
    const body = await expectStatus(await admin("POST", "/events/redeliver", { ids: [deactivated, after, other] }), 202);
    expect(body).toMatchObject({ redelivered: 1, held: 2 });
    expect(await row(deactivated)).toEqual({ state: "held", hold: "guard", held_by: null });
    expect(await row(after)).toEqual({ state: "held", hold: "user", held_by: deactivated });
    expect((await row(other))?.state).not.toBe("dry_run");
    await waitDelivered(other);
    expect(calls.map((c) => c.headers["webhook-id"])).toEqual([other]);
    // Released deliberately, they go in version order.
    await expectStatus(await admin("POST", "/events/release-held", { ids: [deactivated] }), 200);
    await waitDelivered(after);
    expect(calls.map((c) => c.headers["webhook-id"])).toEqual([other, deactivated, after]);
  });

  it("one by one too: a recorded deactivation redelivered alone is held, not sent", async () => {
    await setSettings({ dryRun: false });
    const id = await writeEvent("user.deleted", crypto.randomUUID(), { ...DEFAULT_SETTINGS, dryRun: true });
    const body = await expectStatus(await admin("POST", `/events/${id}/redeliver`), 202);
    expect(body).toMatchObject({ id, state: "held", hold: "guard" });
    expect(calls).toHaveLength(0);
  });

  it("while dryRun is on, redelivering failed events by id still works; recorded ones among them are skipped", async () => {
    const dead = await writeEvent("user.updated", crypto.randomUUID());
    await env.DB.prepare("UPDATE events SET state = 'dead' WHERE id = ?").bind(dead).run();
    const recorded = await writeEvent("user.updated", crypto.randomUUID(), { ...DEFAULT_SETTINGS, dryRun: true });
    await setSettings({ dryRun: true });
    const body = await expectStatus(await admin("POST", "/events/redeliver", { ids: [dead, recorded] }), 202);
    expect(body).toMatchObject({ redelivered: 1, skipped: [recorded] });
    expect(await stateOf(recorded)).toBe("dry_run");
    await setSettings({ dryRun: false });
    await waitDelivered(dead);
  });
});

describe("POST /admin/api/events/redeliver (bulk)", () => {
  it("redelivers every dead event after a long outage", async () => {
    const ids = [await writeEvent("user.updated", crypto.randomUUID()), await writeEvent("user.updated", crypto.randomUUID())];
    for (const id of ids) await env.DB.prepare("UPDATE events SET state = 'dead' WHERE id = ?").bind(id).run();
    const body = await expectStatus(await admin("POST", "/events/redeliver", { state: "dead" }), 202);
    expect(body.redelivered).toBeGreaterThanOrEqual(2);
    for (const id of ids) await waitDelivered(id);
    for (const id of ids) expect(deliveriesOf(id)).toHaveLength(1);
  });

  it.each([
    { name: "an empty body", payload: {} },
    { name: "state held", payload: { state: "held" } },
    { name: "state delivered", payload: { state: "delivered" } },
    { name: "both state and ids", payload: { state: "dead", ids: ["x"] } },
    { name: "an empty id list", payload: { ids: [] } },
    { name: "an unknown key", payload: { bogus: 1 } },
  ])("400 for $name", async ({ payload }) => {
    expect((await expectStatus(await admin("POST", "/events/redeliver", payload), 400)).error).toBe("invalid_body");
  });
});
