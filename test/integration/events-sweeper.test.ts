import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import type { QueueMessage } from "../../src/env";
import { newEventId, outboxInsert, sendCommitted } from "../../src/events/outbox";
import { SWEEP_MAX_PER_RUN } from "../../src/events/sweeper";
import worker from "../../src/index";
import { DEFAULT_SETTINGS } from "../../src/settings/model";
import { invalidateSettingsCache, saveSettingsStatement } from "../../src/settings/store";
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

/** Outbox rows as a write records them (queued), sent nowhere. */
async function writeQueued(at: Date, n = 1): Promise<string[]> {
  const db = getDb(env.DB);
  const ids: string[] = [];
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
  return ids;
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

  it("re-sends queued rows untouched for 15 minutes and retrying rows untouched for 6 h, not recent ones", async () => {
    const [lostQueued, recentQueued, lostRetrying, recentRetrying] = await writeQueued(new Date(Date.now() - 8 * 3_600_000), 4);
    if (!lostQueued || !recentQueued || !lostRetrying || !recentRetrying) throw new Error("setup");
    const set = (id: string, s: string, minutesAgo: number) =>
      env.DB.prepare("UPDATE events SET state = ?, updated_at = ? WHERE id = ?")
        .bind(s, new Date(Date.now() - minutesAgo * 60_000).toISOString(), id)
        .run();
    // A writer that died between commit and send leaves its rows queued and untouched.
    await set(lostQueued, "queued", 16);
    await set(recentQueued, "queued", 10);
    await set(lostRetrying, "retrying", 7 * 60);
    await set(recentRetrying, "retrying", 60);
    const send = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    const sent = send.mock.calls.flatMap((c) => Array.from(c[0], (m) => (m.body as Extract<QueueMessage, { eventId: string }>).eventId));
    expect(sent).toEqual(expect.arrayContaining([lostQueued, lostRetrying]));
    expect(sent).not.toContain(recentQueued);
    expect(sent).not.toContain(recentRetrying);
    expect((await state(lostQueued)).state).toBe("queued");
    expect((await state(lostRetrying)).state).toBe("queued");
    expect((await state(recentRetrying)).state).toBe("retrying");
    // Re-sent once: the rows are fresh now, so the next run leaves them alone.
    send.mockClear();
    await runCron();
    expect(
      send.mock.calls.flatMap((c) => Array.from(c[0], (m) => (m.body as Extract<QueueMessage, { eventId: string }>).eventId)),
    ).not.toContain(lostQueued);
  });

  it("end to end: a SCIM create whose queue send failed is swept, then delivered", async () => {
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
    const db = getDb(env.DB);
    await db.batch([saveSettingsStatement(db, { ...DEFAULT_SETTINGS, logRetentionDays: 30 }, new Date().toISOString())]);
    invalidateSettingsCache();
    const old = await logRow(31);
    const recent = await logRow(29);
    vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue(sendOk);
    await runCron();
    expect(await exists(old)).toBe(false);
    expect(await exists(recent)).toBe(true);

    await db.batch([saveSettingsStatement(db, { ...DEFAULT_SETTINGS, logRetentionDays: 7 }, new Date().toISOString())]);
    invalidateSettingsCache();
    await runCron();
    expect(await exists(recent)).toBe(false);
  });
});
