import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import worker from "../../src/index";
import { DEFAULT_SETTINGS } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import { type Fault, type FaultRule, FaultyD1, touches } from "../fault-d1";
import {
  ADMIN_TOKEN,
  BASE,
  createUser,
  expectScimError,
  expectStatus,
  type Json,
  json,
  ORIGIN,
  oktaUser,
  ops,
  SCIM_TOKEN,
  scim,
  setSettings,
  uniqueName,
} from "../helpers";
import { checkDelivery } from "../site-double";

/**
 * Faults around the real things: D1 failing mid-request (a real D1 error inside a real batch,
 * or the connection lost before or after commit), the queue refusing a send after commit, and
 * the consumer dying mid-batch. The main site is the only stand-in (fetch to MAIN_SITE_URL).
 */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";

interface Delivery {
  id: string;
  headers: Record<string, string>;
  body: string;
}
let deliveries: Delivery[] = [];

beforeAll(async () => {
  await setSettings();
});
beforeEach(() => {
  deliveries = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    const headers = Object.fromEntries(req.headers);
    const body = await req.text();
    checkDelivery(body);
    deliveries.push({ id: headers["webhook-id"] ?? "", headers, body });
    return new Response(null, { status: 204 });
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** One request through the Worker's fetch with D1 wrapped by `rule`; waits for its waitUntil work. */
async function faultyFetch(rule: FaultRule, method: string, path: string, body?: unknown): Promise<{ res: Response; db: FaultyD1 }> {
  const db = new FaultyD1(env.DB, rule);
  const headers: Record<string, string> = { Authorization: `Bearer ${SCIM_TOKEN}` };
  if (body !== undefined) headers["Content-Type"] = "application/scim+json";
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    { ...env, DB: db },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { res, db };
}

/** A 5xx SCIM error that tells the client what to do and nothing about the inside. */
async function expectOpaque5xx(res: Response): Promise<Json> {
  expect([500, 503], await res.clone().text()).toContain(res.status);
  const body = await expectScimError(res, res.status);
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/D1_ERROR|SQLITE|no such table|fault_injected|insert into|update "|select |Error:|\bat .+:\d+/i);
  expect(body.detail).toMatch(/request id/);
  return body;
}

const count = async (sql: string, ...binds: unknown[]): Promise<number> =>
  (
    await env.DB.prepare(sql)
      .bind(...binds)
      .first<{ n: number }>()
  )?.n ?? 0;

async function logStatuses(requestId: string): Promise<number[]> {
  const { results } = await env.DB.prepare("SELECT status FROM provisioning_log WHERE request_id = ?")
    .bind(requestId)
    .all<{ status: number }>();
  return results.map((r) => r.status);
}

async function runCron(at: Date): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const stateOf = async (eventId: string) =>
  (await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(eventId).first<{ state: string }>())?.state;

/** The write batch of a request: the one that changes `table`. */
const writeBatchOf =
  (table: string, fault: Fault): FaultRule =>
  (call) =>
    call.kind === "batch" && touches(call, new RegExp(`^(insert into|update|delete from) "${table}"`, "i")) ? fault : undefined;

describe("a D1 error mid-request: a SCIM 5xx and nothing half-written", () => {
  // Positions inside the write batch [log row, change, outbox rows..., queued stamp].
  for (const at of [1, 2, 3]) {
    it(`POST /Users, batch failing after statement ${at}: no user, no event, no success in the log`, async () => {
      const userName = uniqueName("Fault");
      const { res, db } = await faultyFetch(writeBatchOf("users", { kind: "midBatch", at }), "POST", "/Users", oktaUser(userName));
      await expectOpaque5xx(res);
      expect(db.calls.some((c) => c.fault !== undefined)).toBe(true);
      expect(await count("SELECT count(*) AS n FROM users WHERE user_name_norm = ?", userName.toLowerCase())).toBe(0);
      expect(await count("SELECT count(*) AS n FROM events WHERE payload LIKE ?", `%${userName}%`)).toBe(0);
      const requestId = res.headers.get("x-request-id") ?? "";
      expect(await logStatuses(requestId)).toEqual([res.status]);
      // The IdP's retry then creates the user normally.
      await expectStatus(await scim("POST", "/Users", oktaUser(userName)), 201);
    });
  }

  it("PATCH (deactivate + title) failing mid-batch: the user, its version and its events are as before", async () => {
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const events = await count("SELECT count(*) AS n FROM events WHERE resource_id = ?", id);
    const { res } = await faultyFetch(
      writeBatchOf("users", { kind: "midBatch", at: 2 }),
      "PATCH",
      `/Users/${id}`,
      ops({ op: "replace", value: { active: false } }, { op: "replace", path: "title", value: "Half?" }),
    );
    await expectOpaque5xx(res);
    expect(await json(await scim("GET", `/Users/${id}`))).toEqual(u);
    expect(await count("SELECT count(*) AS n FROM events WHERE resource_id = ?", id)).toBe(events);
  });

  it("Group membership PATCH failing mid-batch: members, version and events unchanged", async () => {
    const [a, b] = [await createUser(oktaUser(uniqueName())), await createUser(oktaUser(uniqueName()))];
    const g = await expectStatus(await scim("POST", "/Groups", { displayName: uniqueName("G"), members: [{ value: a.id }] }), 201);
    const gid = g.id as string;
    const before = await json(await scim("GET", `/Groups/${gid}`));
    const { res } = await faultyFetch(
      writeBatchOf("group_members", { kind: "midBatch", at: 2 }),
      "PATCH",
      `/Groups/${gid}`,
      ops({ op: "add", path: "members", value: [{ value: b.id }] }, { op: "remove", path: `members[value eq "${a.id as string}"]` }),
    );
    await expectOpaque5xx(res);
    expect(await json(await scim("GET", `/Groups/${gid}`))).toEqual(before);
    expect(await count("SELECT count(*) AS n FROM events WHERE resource_id = ?", gid)).toBe(1);
  });

  it("DELETE failing mid-batch: the user and its memberships are still there", async () => {
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const g = await expectStatus(await scim("POST", "/Groups", { displayName: uniqueName("G"), members: [{ value: id }] }), 201);
    const before = await json(await scim("GET", `/Users/${id}`));
    const { res } = await faultyFetch(writeBatchOf("users", { kind: "midBatch", at: 3 }), "DELETE", `/Users/${id}`);
    await expectOpaque5xx(res);
    expect(await json(await scim("GET", `/Users/${id}`))).toEqual(before);
    expect(((await json(await scim("GET", `/Groups/${g.id as string}`))).members as Json[]).map((m) => m.value)).toEqual([id]);
    expect(await count("SELECT count(*) AS n FROM events WHERE resource_id = ? AND type = 'user.deleted'", id)).toBe(0);
  });

  it("D1 unreachable for the whole request: a SCIM 5xx, a log line, nothing written", async () => {
    const userName = uniqueName("Down");
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    };
    let res: Response;
    try {
      ({ res } = await faultyFetch(() => ({ kind: "unavailable" }), "POST", "/Users", oktaUser(userName)));
    } finally {
      console.error = original;
    }
    await expectOpaque5xx(res);
    expect(lines.join("\n")).toMatch(/Network connection lost/);
    expect(await count("SELECT count(*) AS n FROM users WHERE user_name_norm = ?", userName.toLowerCase())).toBe(0);
  });

  it("the answer lost after commit: 5xx, yet the change and its event are whole; the writer finds and sends its event; the retry is 409; delivered once", async () => {
    const userName = uniqueName("Lost");
    const { res } = await faultyFetch(writeBatchOf("users", { kind: "afterCommit" }), "POST", "/Users", oktaUser(userName));
    const body = await expectOpaque5xx(res);
    // The client can't know whether the write happened, so the answer must not claim it did not.
    expect(body.detail).not.toMatch(/nothing was changed/i);
    const row = await env.DB.prepare("SELECT id FROM users WHERE user_name_norm = ?").bind(userName.toLowerCase()).first<{ id: string }>();
    if (!row) throw new Error("the committed user is missing");
    const event = await env.DB.prepare("SELECT id FROM events WHERE resource_id = ?").bind(row.id).first<{ id: string }>();
    const eventId = event?.id ?? "";
    await expectScimError(await scim("POST", "/Users", oktaUser(userName)), 409, "uniqueness");

    await vi.waitUntil(async () => (await stateOf(eventId)) === "delivered", { timeout: 15_000, interval: 100 });
    await runCron(new Date(Date.now() + 16 * 60_000));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(deliveries.filter((d) => d.id === eventId)).toHaveLength(1);
  });

  it("a failed batch is explained by one read: not committed sends nothing; a taken userName is 409, found by that read", async () => {
    const send = vi.spyOn(env.EVENTS, "sendBatch");
    const { res, db } = await faultyFetch(
      writeBatchOf("users", { kind: "midBatch", at: 2 }),
      "POST",
      "/Users",
      oktaUser(uniqueName("Gone")),
    );
    await expectOpaque5xx(res);
    // The one look after the failed batch (one read batch): this batch's events by id, none exist, so no send.
    const looks = db.calls.filter(
      (c) => c.kind === "batch" && c.sql.length > 0 && c.sql.every((q) => /^select /i.test(q)) && touches(c, /^select .* from "events"/i),
    );
    expect(looks).toHaveLength(1);
    expect(send).not.toHaveBeenCalled();

    const taken = uniqueName("Taken");
    await createUser(oktaUser(taken));
    send.mockClear();
    const dup = await faultyFetch(() => undefined, "POST", "/Users", oktaUser(taken));
    await expectScimError(dup.res, 409, "uniqueness");
    // The refused insert is explained by the same one read (whose claim check finds the name taken), not by D1's error text.
    const explained = dup.db.calls.filter(
      (c) => c.kind === "batch" && c.sql.every((q) => /^select /i.test(q)) && touches(c, /user_name_norm/),
    );
    expect(explained).toHaveLength(1);
    expect(send).not.toHaveBeenCalled();
  });
});

describe("queue send failure after commit", () => {
  afterEach(async () => {
    await setSettings({ allowModeratorPromotion: false });
  });

  it("a PATCH writing three events while the queue refuses sends: the sweeper delivers each once, in order", async () => {
    await setSettings({ allowModeratorPromotion: true });
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const refused = vi.spyOn(env.EVENTS, "sendBatch").mockRejectedValue(new Error("Queue send failed: queue unavailable"));
    await expectStatus(
      await scim(
        "PATCH",
        `/Users/${id}`,
        ops(
          { op: "replace", path: "title", value: "T" },
          { op: "replace", path: "userType", value: "Moderator" },
          { op: "replace", path: "active", value: false },
        ),
      ),
      200,
    );
    // waitUntil runs the send after the answer; once refused, the rows go back to pending.
    const written = async () =>
      (
        await env.DB.prepare("SELECT id, type, state FROM events WHERE resource_id = ? AND resource_version > 1 ORDER BY resource_version")
          .bind(id)
          .all<{ id: string; type: string; state: string }>()
      ).results;
    await vi.waitUntil(async () => (await written()).every((r) => r.state === "pending"), { timeout: 5_000, interval: 50 });
    expect(refused).toHaveBeenCalled();
    refused.mockRestore();
    const results = await written();
    expect(results.map((r) => r.type)).toEqual(["user.deactivated", "user.updated", "user.role_changed"]);
    expect(results.map((r) => r.state)).toEqual(["pending", "pending", "pending"]);

    await runCron(new Date(Date.now() + 61_000));
    const ids = results.map((r) => r.id);
    await vi.waitUntil(async () => (await Promise.all(ids.map(stateOf))).every((s) => s === "delivered"), {
      timeout: 15_000,
      interval: 100,
    });
    const mine = deliveries.filter((d) => ids.includes(d.id));
    expect(mine.map((d) => d.id)).toEqual(ids);
    for (const d of mine) expect(new Webhook(SECRET).verify(d.body, d.headers)).toBeTruthy();
    const versions = mine.map((d) => (JSON.parse(d.body) as { data: { version: number } }).data.version);
    expect(versions).toEqual([2, 3, 4]);
  });

  it("the queue refused the send and D1 refused setting the row back to pending: the sweeper reclaims it after 15 minutes, delivered once", async () => {
    const refused = vi.spyOn(env.EVENTS, "sendBatch").mockRejectedValueOnce(new Error("Queue send failed: queue unavailable"));
    const backToPending: FaultRule = (call) =>
      call.kind === "statement" && touches(call, /^update "events"/i) && call.values.some((v) => v.includes("pending"))
        ? { kind: "unavailable" }
        : undefined;
    const { res, db } = await faultyFetch(backToPending, "POST", "/Users", oktaUser(uniqueName("Stuck")));
    const created = await expectStatus(res, 201);
    expect(refused).toHaveBeenCalledTimes(1);
    expect(db.calls.some((c) => c.fault !== undefined)).toBe(true);
    const event = await env.DB.prepare("SELECT id, state FROM events WHERE resource_id = ?")
      .bind(created.id)
      .first<{ id: string; state: string }>();
    const eventId = event?.id ?? "";
    expect(event?.state).toBe("queued");

    // Not yet: a queued row may just be waiting in a backlog.
    await runCron(new Date(Date.now() + 61_000));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await stateOf(eventId)).toBe("queued");
    expect(deliveries.filter((d) => d.id === eventId)).toHaveLength(0);

    await runCron(new Date(Date.now() + 16 * 60_000));
    await vi.waitUntil(async () => (await stateOf(eventId)) === "delivered", { timeout: 15_000, interval: 100 });
    expect(deliveries.filter((d) => d.id === eventId)).toHaveLength(1);
  });
});

describe("a consumer crash mid-batch", () => {
  async function writeEvents(n: number): Promise<string[]> {
    const db = getDb(env.DB);
    const ids = Array.from({ length: n }, () => newEventId());
    const [first, ...rest] = ids.map((id, i) => {
      const resourceId = crypto.randomUUID();
      return outboxInsert(
        db,
        {
          id,
          type: "user.updated",
          resourceType: "User",
          resourceId,
          resourceVersion: 2 + i,
          data: sampleData("user.updated", resourceId, 2 + i),
        },
        DEFAULT_SETTINGS,
        new Date(),
      );
    });
    if (first) await db.batch([first, ...rest]);
    return ids;
  }

  async function deliverBatch(eventIds: string[], attempts: number, db: D1Database) {
    const batch = createMessageBatch(
      "scim-events",
      eventIds.map((eventId, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body: { v: 1, eventId } })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: db }, ctx);
    return getQueueResult(batch, ctx);
  }

  it("bookkeeping lost after one POST: that message is retried, the redelivered batch POSTs only it again, with the same webhook-id", async () => {
    const ids = await writeEvents(5);
    const victim = ids[2] ?? "";
    const crashAfterPost: FaultRule = (call) =>
      call.kind === "statement" &&
      touches(call, /^update "events"/i) &&
      call.values.some((v) => v.includes(victim) && v.includes("delivered"))
        ? { kind: "unavailable" }
        : undefined;
    const first = await deliverBatch(ids, 1, new FaultyD1(env.DB, crashAfterPost));
    expect(first.explicitAcks.sort()).toEqual(["m0", "m1", "m3", "m4"]);
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m2"]);
    expect(deliveries.map((d) => d.id)).toEqual(ids);

    // Worst case after a crash: the queue hands the whole batch again.
    const second = await deliverBatch(ids, 2, env.DB);
    expect(second.explicitAcks.sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(deliveries.map((d) => d.id)).toEqual([...ids, victim]);
    const copies = deliveries.filter((d) => d.id === victim);
    expect(copies[0]?.body).toBe(copies[1]?.body);
    for (const c of copies) expect(new Webhook(SECRET).verify(c.body, c.headers)).toBeTruthy();
    expect(await Promise.all(ids.map(stateOf))).toEqual(ids.map(() => "delivered"));
  });

  it("D1 unreachable when the batch starts: every message retried, nothing POSTed; the redelivery sends each once", async () => {
    const ids = await writeEvents(4);
    const first = await deliverBatch(ids, 1, new FaultyD1(env.DB, () => ({ kind: "unavailable" })));
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId).sort()).toEqual(["m0", "m1", "m2", "m3"]);
    expect(deliveries).toEqual([]);
    await deliverBatch(ids, 2, env.DB);
    expect(deliveries.map((d) => d.id)).toEqual(ids);
    expect(await Promise.all(ids.map(stateOf))).toEqual(ids.map(() => "delivered"));
  });
});

describe("a settings save whose answer is lost", () => {
  it("is found by its own log row: 500, yet saved once, with one log row, not saved again as a conflict", async () => {
    const db = new FaultyD1(env.DB, (call) =>
      call.kind === "batch" && touches(call, /^update "settings"|^insert into "settings"/i) ? { kind: "afterCommit" } : undefined,
    );
    const before = Number((await env.DB.prepare("SELECT version FROM settings WHERE id = 1").first<{ version: number }>())?.version ?? 0);
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${ORIGIN}/admin/api/settings`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ logRetentionDays: 44 }),
      }),
      { ...env, DB: db },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status, await res.clone().text()).toBe(500);
    const after = await env.DB.prepare(
      "SELECT version, json_extract(data, '$.logRetentionDays') AS days FROM settings WHERE id = 1",
    ).first<{
      version: number;
      days: number;
    }>();
    expect(after).toEqual({ version: before + 1, days: 44 });
    const rows = await count(
      "SELECT count(*) AS n FROM provisioning_log WHERE method = 'PUT' AND path = '/admin/api/settings' AND decisions LIKE '%logRetentionDays%44%'",
    );
    expect(rows).toBe(1);
  });
});
