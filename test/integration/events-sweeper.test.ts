import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import type { QueueMessage } from "../../src/env";
import { newEventId, outboxInsert, sendCommitted } from "../../src/events/outbox";
import { SWEEP_MAX_PER_RUN } from "../../src/events/sweeper";
import worker from "../../src/index";
import { DEFAULT_SETTINGS } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import { createUser, oktaUser, setSettings, uniqueName } from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * The outbox sweeper (cron) against real D1 and the real scim-events queue, whose real consumer
 * (this Worker's queue handler) then delivers to the main site, the one test double here.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";

const calls = acceptingSite(SITE);

const sendOk = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: new Date(0) } } };

/** Every row written by writeQueued: sent nowhere (the queue is mocked), so dropped after each test. */
const written: string[] = [];
afterEach(async () => {
  await env.DB.prepare("UPDATE events SET state = 'discarded' WHERE id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(written.splice(0)))
    .run();
});

/** Outbox rows as a write records them (queued), sent nowhere. */
async function writeQueued(at: Date, n = 1): Promise<string[]> {
  const db = getDb(env.DB);
  const ids: string[] = written;
  const start = written.length;
  const statements = [];
  for (let i = 0; i < n; i++) {
    const id = newEventId();
    ids.push(id);
    const resourceId = crypto.randomUUID();
    statements.push(
      outboxInsert(
        db,
        { id, type: "user.updated", resourceType: "User", resourceId, resourceVersion: 2, data: sampleData("user.updated", resourceId, 2) },
        DEFAULT_SETTINGS,
        new Date(at.getTime() + i),
      ),
    );
  }
  for (let i = 0; i < statements.length; i += 50) {
    const chunk = statements.slice(i, i + 50);
    const [first, ...rest] = chunk;
    if (first) await db.batch([first, ...rest]);
  }
  return ids.slice(start);
}

/** Rows whose writer's queue send failed: pending, for the sweeper. */
async function writePending(at: Date, n = 1): Promise<string[]> {
  const ids = await writeQueued(at, n);
  await env.DB.prepare("UPDATE events SET state = 'pending', queued_at = NULL WHERE id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(ids))
    .run();
  return ids;
}

async function state(id: string): Promise<{ state: string; queued_at: string | null }> {
  const r = await env.DB.prepare("SELECT state, queued_at FROM events WHERE id = ?")
    .bind(id)
    .first<{ state: string; queued_at: string | null }>();
  if (!r) throw new Error(`no event ${id}`);
  return r;
}

async function runCron(at = new Date()): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("sweeper: nothing is lost between D1 and the queue", () => {
  it("re-sends a committed event whose queue send failed, marks it queued, and it is delivered", async () => {
    const [id] = await writeQueued(new Date(Date.now() - 120_000));
    if (!id) throw new Error("no id");
    expect((await state(id)).state).toBe("queued");
    // The writer's own send after commit fails (queue unavailable): the row goes back to pending.
    const failing = vi.spyOn(env.EVENTS, "sendBatch").mockRejectedValueOnce(new Error("queue unavailable"));
    await sendCommitted(getDb(env.DB), env.EVENTS, [id]);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(await state(id)).toEqual({ state: "pending", queued_at: null });
    failing.mockRestore();

    const send = vi.spyOn(env.EVENTS, "sendBatch");
    await runCron();
    expect(send).toHaveBeenCalledWith([{ body: { v: 1, eventId: id } }]);
    const after = await state(id);
    expect(after.state === "queued" || after.state === "delivered", after.state).toBe(true);
    expect(after.queued_at).not.toBeNull();

    // The real queue hands it to the real consumer, which POSTs it once, signed, with its id.
    await vi.waitUntil(async () => (await state(id)).state === "delivered", { timeout: 15_000, interval: 100 });
    const mine = calls.filter((c) => c.headers["webhook-id"] === id);
    expect(mine).toHaveLength(1);
    const first = mine[0];
    if (!first) throw new Error("no delivery");
    expect(new Webhook(SECRET).verify(first.body, first.headers)).toMatchObject({ type: "user.updated" });
  });

  it("leaves a pending event younger than the grace period to its writer", async () => {
    const [fresh] = await writePending(new Date());
    if (!fresh) throw new Error("no id");
    const send = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    const sent = send.mock.calls.flatMap((c) => Array.from(c[0], (m) => (m.body as Extract<QueueMessage, { eventId: string }>).eventId));
    expect(sent).not.toContain(fresh);
    expect((await state(fresh)).state).toBe("pending");
    // A minute later it is the sweeper's.
    await runCron(new Date(Date.now() + 61_000));
    expect((await state(fresh)).state).toBe("queued");
  });

  it(`re-sends at most ${SWEEP_MAX_PER_RUN} per run, oldest first, in queue batches of ≤ 100`, async () => {
    const ids = await writePending(new Date(Date.now() - 3_600_000), SWEEP_MAX_PER_RUN + 20);
    const send = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    for (const call of send.mock.calls) expect(Array.from(call[0]).length).toBeLessThanOrEqual(100);
    const { results } = await env.DB.prepare(`SELECT id, state FROM events WHERE id IN (SELECT value FROM json_each(?))`)
      .bind(JSON.stringify(ids))
      .all<{ id: string; state: string }>();
    const byId = new Map(results.map((r) => [r.id, r.state]));
    const states = ids.map((id) => byId.get(id));
    expect(states.slice(0, SWEEP_MAX_PER_RUN).every((s) => s === "queued")).toBe(true);
    expect(states.slice(SWEEP_MAX_PER_RUN).every((s) => s === "pending")).toBe(true);
    // The next run takes the rest.
    await runCron();
    const left = await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE state = 'pending' AND id IN (SELECT value FROM json_each(?))`)
      .bind(JSON.stringify(ids))
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  /** Events as left by a writer that died between commit and send, or a queue that lost their messages. */
  async function inFlight(id: string, state: "queued" | "retrying", dueMsAgo: number) {
    await env.DB.prepare("UPDATE events SET state = ?, due_at = ?, updated_at = ? WHERE id = ?")
      .bind(state, new Date(Date.now() - dueMsAgo).toISOString(), new Date(Date.now() - dueMsAgo - 60_000).toISOString(), id)
      .run();
  }
  async function progress(reachedMsAgo: number, lastBatchMsAgo: number) {
    await env.DB.prepare(
      "INSERT INTO delivery_progress (id, reached, last_batch_at) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET reached = ?1, last_batch_at = ?2",
    )
      .bind(new Date(Date.now() - reachedMsAgo).toISOString(), new Date(Date.now() - lastBatchMsAgo).toISOString())
      .run();
  }
  const sentIds = (send: { mock: { calls: unknown[][] } }) =>
    send.mock.calls.flatMap((c) =>
      Array.from(c[0] as { body: unknown }[], (m) => (m.body as Extract<QueueMessage, { eventId: string }>).eventId),
    );

  it("an in-flight event overdue by a minute while the consumer is idle lost its message: re-sent, once", async () => {
    const [lostQueued, recentQueued, lostRetrying, notDueRetrying] = await writeQueued(new Date(Date.now() - 10 * 60_000), 4);
    if (!lostQueued || !recentQueued || !lostRetrying || !notDueRetrying) throw new Error("setup");
    await inFlight(lostQueued, "queued", 90_000);
    await inFlight(recentQueued, "queued", 20_000);
    await inFlight(lostRetrying, "retrying", 70_000);
    await inFlight(notDueRetrying, "retrying", -240_000); // its next attempt is 4 minutes away
    await progress(10 * 60_000, 5 * 60_000); // the consumer took its last batch 5 minutes ago
    const send = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    const sent = sentIds(send);
    expect(sent).toEqual(expect.arrayContaining([lostQueued, lostRetrying]));
    expect(sent).not.toContain(recentQueued);
    expect(sent).not.toContain(notDueRetrying);
    expect((await state(lostQueued)).state).toBe("queued");
    expect((await state(lostRetrying)).state).toBe("queued");
    expect((await state(notDueRetrying)).state).toBe("retrying");
    // Re-sent once: due again from now, so the next run leaves them alone.
    send.mockClear();
    await runCron();
    expect(sentIds(send)).not.toContain(lostQueued);
  });

  it("a busy consumer that has taken messages sent after an event was due: the event's message is lost; a backlog is not", async () => {
    const [overtaken, inBacklog] = await writeQueued(new Date(Date.now() - 10 * 60_000), 2);
    if (!overtaken || !inBacklog) throw new Error("setup");
    await inFlight(overtaken, "queued", 5 * 60_000);
    await inFlight(inBacklog, "queued", 2 * 60_000);
    // Busy (a batch a second ago), and it has taken messages sent up to 3 minutes ago: past the
    // first event (due 5 minutes ago), not yet the second (due 2 minutes ago, still in the backlog).
    await progress(3 * 60_000, 1_000);
    const send = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    const sent = sentIds(send);
    expect(sent).toContain(overtaken);
    expect(sent).not.toContain(inBacklog);
    expect((await state(inBacklog)).state).toBe("queued");
  });

  it("the consumer records how far it got with each batch it takes (in its one read)", async () => {
    await setSettings();
    await env.DB.prepare("DELETE FROM delivery_progress").run();
    const before = Date.now();
    await createUser(oktaUser(uniqueName("Progress")));
    await vi.waitUntil(async () => (await env.DB.prepare("SELECT 1 AS one FROM delivery_progress").first()) !== null, {
      timeout: 10_000,
      interval: 50,
    });
    const row = await env.DB.prepare("SELECT reached, last_batch_at FROM delivery_progress").first<{
      reached: string;
      last_batch_at: string;
    }>();
    expect(Date.parse(row?.reached ?? "")).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(row?.last_batch_at ?? "")).toBeGreaterThanOrEqual(before);
  });

  it("end to end: a SCIM create whose queue send failed is swept, then delivered", { timeout: 30_000 }, async () => {
    await setSettings();
    const failing = vi.spyOn(env.EVENTS, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    const user = await createUser(oktaUser(uniqueName("Swept")));
    const userId = String(user.id);
    const row = await env.DB.prepare("SELECT id FROM events WHERE resource_id = ? AND type = 'user.created'")
      .bind(userId)
      .first<{ id: string }>();
    const eventId = row?.id ?? "";
    // The refused send turns the row (recorded queued by the write) back to pending.
    await vi.waitUntil(async () => (await state(eventId)).state === "pending", { timeout: 5_000, interval: 50 });
    expect(failing).toHaveBeenCalled();
    failing.mockRestore();

    await runCron(new Date(Date.now() + 61_000));
    await vi.waitUntil(async () => (await state(eventId)).state === "delivered", { timeout: 15_000, interval: 100 });
    const mine = calls.filter((c) => c.headers["webhook-id"] === eventId);
    expect(mine).toHaveLength(1);
    const first = mine[0];
    if (!first) throw new Error("no delivery");
    const body = new Webhook(SECRET).verify(first.body, first.headers) as { type: string; data: { id: string; version: number } };
    expect(body.type).toBe("user.created");
    expect(body.data.id).toBe(userId);
    expect(body.data.version).toBeGreaterThanOrEqual(1);
  });
});

describe("sweeper: provisioning-log retention", () => {
  async function logRow(daysAgo: number): Promise<number> {
    const at = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    const res = await env.DB.prepare(
      "INSERT INTO provisioning_log (at, request_id, method, path, status) VALUES (?, ?, 'GET', '/api/scim/v2/Users', 200) RETURNING seq",
    )
      .bind(at, crypto.randomUUID())
      .first<{ seq: number }>();
    return res?.seq ?? -1;
  }
  async function exists(seq: number): Promise<boolean> {
    return (await env.DB.prepare("SELECT 1 AS one FROM provisioning_log WHERE seq = ?").bind(seq).first()) !== null;
  }

  it("deletes rows older than logRetentionDays and keeps the rest", async () => {
    await setSettings({ logRetentionDays: 30 });
    const old = await logRow(31);
    const recent = await logRow(29);
    vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    expect(await exists(old)).toBe(false);
    expect(await exists(recent)).toBe(true);

    await setSettings({ logRetentionDays: 7 });
    await runCron();
    expect(await exists(recent)).toBe(false);
  });
});
