import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { newJobId, startJobStatements } from "../../src/db/jobs";
import worker from "../../src/index";
import { runJobChunk } from "../../src/jobs/runner";
import { FaultyD1 } from "../fault-d1";
import { admin, BASE, expectStatus, type Json, ops, scim, setSettings, settleJobs, uniqueName, waitForRoleJob } from "../helpers";

/**
 * Background role re-evaluation (src/jobs/): chunks of 200 users through the real queue,
 * resumed by the cron after a lost message, safe with two runners at once, started by a big
 * membership change of a mapped group. Its own file, so its D1 holds only its users. Dry run is
 * on throughout: the role_changed events are recorded, not delivered, so the queue carries only
 * the job's own messages and the chunks follow each other without waiting behind deliveries.
 */

/** `n` users seeded straight into D1 (the job reads rows; how they got there does not matter). */
async function seedUsers(n: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const now = new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO users (id, user_name, user_name_norm, active, role, data, version, created_at, updated_at)
     SELECT value, value || '@example.com', value || '@example.com', 1, 'registered', json_object('userName', value || '@example.com'), 1, ?1, ?1
     FROM json_each(?2)`,
  )
    .bind(now, JSON.stringify(ids))
    .run();
  return ids;
}

async function group(name: string, members: string[]): Promise<string> {
  const g = await expectStatus(await scim("POST", "/Groups", { displayName: name, members: members.map((value) => ({ value })) }), 201);
  return g.id as string;
}

async function roleEventsPerUser(ids: string[]): Promise<Map<string, number>> {
  const { results } = await env.DB.prepare(
    "SELECT resource_id AS id, count(*) AS n FROM events WHERE type = 'user.role_changed' AND resource_id IN (SELECT value FROM json_each(?)) GROUP BY resource_id",
  )
    .bind(JSON.stringify(ids))
    .all<{ id: string; n: number }>();
  return new Map(results.map((r) => [r.id, r.n]));
}

async function roles(ids: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT role FROM users WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id")
    .bind(JSON.stringify(ids))
    .all<{ role: string }>();
  return [...new Set(results.map((r) => r.role))];
}

/**
 * Maps `gid` as the moderator group straight in D1 and starts a role job with no queue message
 * (as if the Worker died right after the settings write): the test runs the chunks itself.
 */
async function mapWithoutMessage(gid: string, reason: string): Promise<string> {
  const settings = JSON.parse((await env.DB.prepare("SELECT data FROM settings").first<{ data: string }>())?.data ?? "{}");
  await env.DB.prepare("UPDATE settings SET data = ?")
    .bind(JSON.stringify({ ...settings, moderatorGroup: gid }))
    .run();
  const db = getDb(env.DB);
  const id = newJobId();
  await db.batch([...startJobStatements(db, { id, kind: "roles", reason, actor: null, baseUrl: BASE }, new Date().toISOString())]);
  return id;
}

describe("role re-evaluation in the background", () => {
  it("maps a 300-member group over 450 users: three chunks through the real queue, each member promoted once", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: false, dryRun: true });
    await settleJobs();
    const members = await seedUsers(300, uniqueName("m"));
    const others = await seedUsers(150, uniqueName("o"));
    const gid = await group("Chunked Moderators", members);
    await setSettings({ moderatorGroup: gid });
    const job = await waitForRoleJob();
    expect(job).toMatchObject({ state: "done", changed: 300, processed: job.total });
    expect(job.total as number).toBeGreaterThanOrEqual(450);
    const chunks = await env.DB.prepare("SELECT chunks FROM jobs WHERE id = ?").bind(job.id).first<{ chunks: number }>();
    expect(chunks?.chunks).toBe(Math.ceil((job.total as number) / 200) + ((job.total as number) % 200 === 0 ? 1 : 0));
    expect(await roles(members)).toEqual(["moderator"]);
    expect(await roles(others)).toEqual(["registered"]);
    const counts = await roleEventsPerUser(members);
    expect([...counts.values()].every((n) => n === 1) && counts.size === 300).toBe(true);
    await setSettings({ moderatorGroup: null });
    await settleJobs();
  });

  it("a job whose message was lost midway is resumed by the cron and finishes without sending anything twice", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, moderatorGroup: null, dryRun: true });
    await settleJobs();
    const members = await seedUsers(250, uniqueName("r"));
    const gid = await group("Resumed Moderators", members);
    const id = await mapWithoutMessage(gid, "test: lost message");
    expect(await runJobChunk(env, id)).toBe("more");
    // Nothing advances it for three minutes; then the cron runs.
    const later = Date.now() + 3 * 60_000;
    const ctx = createExecutionContext();
    await worker.scheduled?.(createScheduledController({ scheduledTime: later, cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const job = await waitForRoleJob();
    expect(job).toMatchObject({ id, state: "done" });
    expect(await roles(members)).toEqual(["moderator"]);
    const counts = await roleEventsPerUser(members);
    expect(counts.size).toBe(250);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    await setSettings({ moderatorGroup: null });
    await settleJobs();
  });

  it("two runners of one job at once: every chunk is applied once", { timeout: 60_000 }, async () => {
    await setSettings({ allowModeratorPromotion: true, moderatorGroup: null, dryRun: true });
    await settleJobs();
    const members = await seedUsers(420, uniqueName("c"));
    const gid = await group("Raced Moderators", members);
    const id = await mapWithoutMessage(gid, "test: two runners");
    for (let i = 0; i < 20; i++) {
      const outcomes = await Promise.all([runJobChunk(env, id), runJobChunk(env, id)]);
      if (outcomes.includes("done")) break;
    }
    const job = await env.DB.prepare("SELECT state, changed FROM jobs WHERE id = ?").bind(id).first<{ state: string; changed: number }>();
    expect(job).toEqual({ state: "done", changed: 420 });
    const counts = await roleEventsPerUser(members);
    expect(counts.size).toBe(420);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    await setSettings({ moderatorGroup: null });
    await settleJobs();
  });

  it("adding more than 100 members to a mapped group at once re-evaluates in the background; the log says so", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, moderatorGroup: null, dryRun: true });
    await settleJobs();
    const gid = await group("Bulk Moderators", []);
    await setSettings({ moderatorGroup: gid });
    await settleJobs();
    const members = await seedUsers(150, uniqueName("b"));
    const res = await scim("PATCH", `/Groups/${gid}`, ops({ op: "add", path: "members", value: members.map((value) => ({ value })) }));
    expect(res.status, await res.clone().text()).toBe(204);
    const log = await env.DB.prepare("SELECT decisions FROM provisioning_log WHERE resource_id = ? AND method = 'PATCH'")
      .bind(gid)
      .first<{ decisions: string }>();
    expect(log?.decisions).toMatch(
      /more than 100 members of mapped group Bulk Moderators changed: every role is re-evaluated in the background/,
    );
    const job = await waitForRoleJob();
    expect(job).toMatchObject({ state: "done", changed: 150, reason: "membership of mapped group Bulk Moderators changed" });
    expect(await roles(members)).toEqual(["moderator"]);
    await setSettings({ moderatorGroup: null });
    await settleJobs();
  });

  it("a chunk costs two D1 round trips, whatever it changes: one read batch, one write batch (its message names its kind)", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, moderatorGroup: null, dryRun: true });
    await settleJobs();
    const members = await seedUsers(250, uniqueName("t"));
    const gid = await group("Counted Moderators", members);
    const id = await mapWithoutMessage(gid, "test: counted");
    const counted = new FaultyD1(env.DB, () => undefined);
    const outcomes: string[] = [];
    for (let i = 0; i < 10 && !outcomes.includes("done"); i++) outcomes.push(await runJobChunk({ ...env, DB: counted }, id, "roles"));
    const chunks = outcomes.length;
    expect(chunks).toBeGreaterThan(1);
    expect(counted.calls.map((c) => c.kind)).toEqual(Array(2 * chunks).fill("batch"));
    expect(await roles(members)).toEqual(["moderator"]);
    await setSettings({ moderatorGroup: null });
    await settleJobs();
  });

  it("a job message that lands in the dead-letter queue fails its job, with the reason; POST /jobs/roles starts a new one", {
    timeout: 60_000,
  }, async () => {
    const db = getDb(env.DB);
    const id = newJobId();
    await db.batch([
      ...startJobStatements(db, { id, kind: "roles", reason: "test: dlq", actor: null, baseUrl: BASE }, new Date().toISOString()),
    ]);
    const batch = createMessageBatch("scim-events-dlq", [
      { id: "m1", timestamp: new Date(), attempts: 4, body: { v: 1, type: "job", jobId: id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue?.(batch, env, ctx);
    await getQueueResult(batch, ctx);
    const failed = (await expectStatus(await admin("GET", "/jobs"), 200)).jobs as Json[];
    expect(failed[0]).toMatchObject({ id, state: "failed", error: expect.stringMatching(/failed on every retry/) });
    const started = await expectStatus(await admin("POST", "/jobs/roles"), 202);
    expect(started).toMatchObject({ state: "running", reason: "started from the admin page" });
    expect((await waitForRoleJob()).state).toBe("done");
  });
});
