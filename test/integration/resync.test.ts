import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createReplica, type Delivery, verify } from "../../site-sdk/src/index.js";
import { getDb } from "../../src/db/client";
import { insertResync, newJobId } from "../../src/db/jobs";
import worker from "../../src/index";
import { runJobChunk } from "../../src/jobs/runner";
import { FaultyD1 } from "../fault-d1";
import { admin, BASE, expectStatus, type Json, setSettings, settleJobs } from "../helpers";
import { checkDelivery } from "../site-double";

/**
 * A full resync (src/jobs/resync.ts) through the real queue to a stand-in site: the site
 * verifies every delivery with the site SDK (site-sdk/), checks it against its published schema,
 * and keeps a replica of the directory with the contract's rules (the SDK's, the reference receiver's
 * own). D1 and the queues are real; the site is the only double. Its own file, so its D1 holds
 * only what these tests put there.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";
const replica = createReplica();
/** Every webhook-id the site was sent, per resource: a resource under two ids would be a duplicate. */
const idsPerResource = new Map<string, Set<string>>();
let deliveries = 0;
let badSignatures = 0;
/** Users the site keeps as admins whatever it is told (a local override): it disagrees on them. */
const siteOverrides = new Map<string, string>();

const realFetch = globalThis.fetch;
beforeAll(() => {
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    const body = await req.text();
    checkDelivery(body);
    let delivery: Delivery;
    try {
      delivery = await verify(body, req.headers, SECRET);
    } catch {
      badSignatures++;
      return new Response("bad signature", { status: 400 });
    }
    deliveries++;
    const { id: webhookId, event } = delivery;
    if (!event) throw new Error(`a delivery of a type the SDK does not know: ${body.slice(0, 200)}`);
    const key = `${event.type.split(".")[0]}:${event.data.id}:${event.type}`;
    idsPerResource.set(key, (idsPerResource.get(key) ?? new Set()).add(webhookId));
    const { view } = replica.apply(delivery);
    if (!view) return new Response(null, { status: 204 });
    const role = siteOverrides.get(event.data.id);
    return Response.json(role ? { ...view, role } : view);
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
});

/** `n` users straight into D1, every tenth inactive, every seventh a moderator. */
async function seedUsers(n: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);
  const now = new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO users (id, user_name, user_name_norm, active, role, data, version, created_at, updated_at)
     SELECT value, value || '@example.com', value || '@example.com', (key % 10) <> 0,
            CASE WHEN key % 7 = 0 THEN 'moderator' ELSE 'registered' END,
            json_object('userName', value || '@example.com', 'displayName', 'User ' || key), 1 + key % 3, ?1, ?1
     FROM json_each(?2)`,
  )
    .bind(now, JSON.stringify(ids))
    .run();
  return ids;
}

async function seedGroup(name: string, members: string[]): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO groups (id, display_name, display_name_norm, data, version, created_at, updated_at)
       VALUES (?1, ?2, lower(?2), json_object('displayName', ?2), 4, ?3, ?3)`,
    ).bind(id, name, now),
    env.DB.prepare("INSERT INTO group_members (group_id, user_id, added_at) SELECT ?1, value, ?2 FROM json_each(?3)").bind(
      id,
      now,
      JSON.stringify(members),
    ),
  ]);
  return id;
}

type Report = Json & { id: string; state: string; total: number; visited: number; emitted: number; events: Record<string, number> };

async function resyncState(): Promise<{ current: Report | null; last: Report | null }> {
  return (await expectStatus(await admin("GET", "/resync"), 200)) as { current: Report | null; last: Report | null };
}

/** How many of a resync's events are on the queue now. */
async function queuedOf(jobId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE job_id = ? AND state = 'queued'")
    .bind(jobId)
    .first<{ n: number }>();
  return Number(row?.n ?? 0);
}

/** Waits until the resync `id` is done and none of its events is still on its way. */
async function waitForResync(id: string, ms = 120_000): Promise<Report> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { current, last } = await resyncState();
    if (!current && last?.id === id && last.state !== "running" && last.events.waiting === 0) return last;
    if (Date.now() > deadline) throw new Error(`resync ${id} not settled after ${ms} ms: ${JSON.stringify(current ?? last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The directory as the site should now have it: every user's state and every group's members. */
async function expectReplicaEqualsDirectory(): Promise<void> {
  const { results: users } = await env.DB.prepare("SELECT id, user_name, active, role, version FROM users").all<{
    id: string;
    user_name: string;
    active: number;
    role: string;
    version: number;
  }>();
  const { results: groups } = await env.DB.prepare(
    "SELECT g.id, g.version, (SELECT json_group_array(user_id) FROM group_members m WHERE m.group_id = g.id) AS members FROM groups g",
  ).all<{ id: string; version: number; members: string }>();
  const wrong: string[] = [];
  for (const u of users) {
    const got = replica.view("user", u.id);
    const user = replica.user(u.id);
    const same = got.version === u.version && user?.userName === u.user_name && got.active === (u.active === 1) && got.role === u.role;
    if (!same) wrong.push(`user ${u.id}: site has ${JSON.stringify({ ...got, userName: user?.userName })}`);
  }
  for (const g of groups) {
    const got = replica.view("group", g.id);
    const want = (JSON.parse(g.members) as string[]).sort();
    const have = replica.members(g.id);
    if (got.version !== g.version || have.join() !== want.join()) {
      wrong.push(`group ${g.id}: site has v${got.version} with ${have.length} members, directory v${g.version} with ${want.length}`);
    }
  }
  expect(wrong.slice(0, 5)).toEqual([]);
  expect(Object.keys(replica.snapshot().users).length).toBeGreaterThanOrEqual(users.length);
}

const eventsOf = async (jobId: string) =>
  (
    await env.DB.prepare("SELECT id, type, resource_id, state FROM events WHERE job_id = ? ORDER BY seq")
      .bind(jobId)
      .all<{ id: string; type: string; resource_id: string; state: string }>()
  ).results;

async function cron(at: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled?.(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("full resync to the site", () => {
  it("1,000 users reach the site, every delivery verified; the site's replica equals the directory; its disagreement is listed", {
    timeout: 120_000,
  }, async () => {
    await setSettings({ dryRun: false });
    const people = await seedUsers(1_000, "p");
    await seedGroup("Small", people.slice(0, 3));
    await seedGroup("Empty", []);
    // The site keeps one user as an admin whatever it is told: the report must name that user.
    siteOverrides.set("p-00001", "admin");

    const started = await expectStatus(await admin("POST", "/resync"), 202);
    expect(started).toMatchObject({ state: "running", stage: "users", total: 1_002, visited: 0, dryRun: false });
    const report = await waitForResync(started.id as string);

    expect(badSignatures).toBe(0);
    expect(report).toMatchObject({ state: "done", total: 1_002, visited: 1_002, emitted: 1_002 });
    expect(report.events).toEqual({ delivered: 1_002, failed: 0, waiting: 0, recorded: 0, discarded: 0 });
    await expectReplicaEqualsDirectory();

    // Reconcile: the site answered each synced event with its view; the one it keeps as admin is listed.
    expect(report.disagreements).toEqual({
      count: 1,
      listed: [
        expect.objectContaining({
          resourceType: "User",
          resourceId: "p-00001",
          name: "p-00001@example.com",
          fields: ["role"],
          site: expect.objectContaining({ role: "admin" }),
          directory: expect.objectContaining({ role: "registered" }),
        }),
      ],
    });
    siteOverrides.clear();
  });

  it("a user whose deactivation is held gets its synced event held with it; discarding the hold drops both", {
    timeout: 120_000,
  }, async () => {
    const now = new Date().toISOString();
    const payload = JSON.stringify({ type: "user.deactivated", timestamp: now, data: { id: "p-00002", version: 99 } });
    await env.DB.prepare(
      "INSERT INTO events (id, type, resource_type, resource_id, resource_version, payload, state, hold, attempts, created_at, updated_at) VALUES ('evt_held_root', 'user.deactivated', 'User', 'p-00002', 99, ?1, 'held', 'guard', 0, ?2, ?2)",
    )
      .bind(payload, now)
      .run();
    const started = await expectStatus(await admin("POST", "/resync"), 202);
    const deadline = Date.now() + 100_000;
    let report: Report | null = null;
    while (Date.now() < deadline) {
      const { current, last } = await resyncState();
      if (!current && last && last.id === started.id && last.events.waiting === 1) {
        report = last;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(report?.state).toBe("done");
    const held = await env.DB.prepare("SELECT state, hold, held_by FROM events WHERE job_id = ? AND resource_id = 'p-00002'")
      .bind(started.id)
      .first();
    expect(held).toEqual({ state: "held", hold: "user", held_by: "evt_held_root" });
    expect(idsPerResource.get("user:p-00002:user.synced")?.size).toBe(1);
    await expectStatus(await admin("POST", "/events/discard-held", { ids: ["evt_held_root"] }), 200);
    const after = await waitForResync(started.id as string);
    expect(after.events).toMatchObject({ discarded: 1, waiting: 0, failed: 0 });
  });

  it("a second start while one runs answers 409 with the running one's id", { timeout: 60_000 }, async () => {
    const db = getDb(env.DB);
    const id = newJobId("resync");
    await insertResync(db, { id, actor: null, baseUrl: BASE, dryRun: false }, new Date().toISOString()).run();
    const res = await admin("POST", "/resync");
    const body = await expectStatus(res, 409);
    expect(body).toMatchObject({ error: "resync_running", running: id });
    expect(body.detail).toContain(id);
    expect((await resyncState()).current).toMatchObject({ id, state: "running" });
    await settleJobs();
    await waitForResync(id);
    // Once it is done, a new one starts.
    const next = await expectStatus(await admin("POST", "/resync"), 202);
    await waitForResync(next.id as string);
  });

  it("a Worker restarted midway resumes: every resource is sent once, under one webhook-id", { timeout: 120_000 }, async () => {
    const db = getDb(env.DB);
    const id = newJobId("resync");
    await insertResync(db, { id, actor: null, baseUrl: BASE, dryRun: false }, new Date().toISOString()).run();
    expect(await runJobChunk(env, id)).toBe("more");
    // The second chunk's batch commits and then the isolate dies: nothing is sent, no next message.
    let writes = 0;
    const dying = new FaultyD1(env.DB, (call) => (call.kind === "batch" && ++writes === 2 ? { kind: "afterCommit" } : undefined));
    await expect(runJobChunk({ ...env, DB: dying }, id)).rejects.toThrow();
    const midway = await env.DB.prepare("SELECT state, processed FROM jobs WHERE id = ?")
      .bind(id)
      .first<{ state: string; processed: number }>();
    expect(midway).toEqual({ state: "running", processed: 400 });
    // Two runners race on the next chunk (a redelivered message beside the cron's): it is applied once.
    await Promise.all([runJobChunk(env, id), runJobChunk(env, id)]);
    // Later the cron resumes the stalled job and re-sends the events the dead isolate never sent.
    await cron(Date.now() + 16 * 60_000);
    const report = await waitForResync(id, 100_000);
    expect(report).toMatchObject({ state: "done", visited: report.total });

    const events = await eventsOf(id);
    const users = events.filter((e) => e.type === "user.synced");
    expect(new Set(users.map((e) => e.resource_id)).size).toBe(users.length);
    expect(users.length).toBe(1_000);
    expect(events.every((e) => e.state === "delivered")).toBe(true);
    // Across all the resyncs of this file, the site saw each resource's synced event of this one once.
    for (const e of users) expect(idsPerResource.get(`user:${e.resource_id}:user.synced`)?.has(e.id)).toBe(true);
    const sentTwice = [...idsPerResource.values()].filter((ids) => [...ids].filter((x) => x.includes(id.slice(7))).length > 1);
    expect(sentTwice).toEqual([]);
    await expectReplicaEqualsDirectory();
  });

  it("in dry run a resync records and delivers nothing; after dryRun is off, redelivering its events delivers them", {
    timeout: 180_000,
  }, async () => {
    await setSettings({ dryRun: true });
    const before = deliveries;
    const started = await expectStatus(await admin("POST", "/resync"), 202);
    expect(started.dryRun).toBe(true);
    const report = await waitForResync(started.id as string);
    expect(report.events).toMatchObject({ recorded: report.emitted, delivered: 0, waiting: 0 });
    expect(deliveries).toBe(before);

    // While dryRun is on, sending them would contradict the setting.
    const refused = await expectStatus(await admin("POST", "/events/redeliver", { state: "dry_run", jobId: report.id }), 409);
    expect(refused).toMatchObject({ error: "dry_run_on" });
    await setSettings({ dryRun: false });
    const sent = await expectStatus(await admin("POST", "/events/redeliver", { state: "dry_run", jobId: report.id }), 202);
    expect(sent.redelivered).toBe(report.emitted);
    // The first 500 go now; the sweeper sends the rest, 500 a run (its grace passed: a cron a minute
    // on). Each cron comes once the queue has taken what is on it, as a minute of real time would.
    for (let i = 1; i <= 3; i++) {
      await vi.waitUntil(async () => (await queuedOf(report.id)) === 0, { timeout: 60_000, interval: 100 });
      await cron(Date.now() + i * 61_000);
    }
    const after = await waitForResync(report.id);
    expect(after.events).toMatchObject({ delivered: report.emitted, recorded: 0, failed: 0 });
    expect(deliveries - before).toBeGreaterThanOrEqual(report.emitted);
    await expectReplicaEqualsDirectory();
  });
  it("a 10,000-member group reaches the site in 10 parts of one version; the site's replica equals the directory", {
    timeout: 300_000,
  }, async () => {
    await setSettings({ dryRun: false });
    const people = (await env.DB.prepare("SELECT id FROM users").all<{ id: string }>()).results.map((r) => r.id);
    const crowd = await seedUsers(10_000 - people.length, "c");
    const everyone = await seedGroup("Everyone", [...people, ...crowd]);

    const started = await expectStatus(await admin("POST", "/resync"), 202);
    const groupsBefore = Number((await env.DB.prepare("SELECT count(*) AS n FROM groups").first<{ n: number }>())?.n);
    expect(started).toMatchObject({ state: "running", total: 10_000 + groupsBefore });
    const report = await waitForResync(started.id as string, 240_000);

    expect(badSignatures).toBe(0);
    expect(people.length + crowd.length).toBe(10_000);
    // 10,000 users, then the groups: Everyone in 10 parts of 1,000 ids, every other group in one.
    const emitted = 10_000 + 10 + (groupsBefore - 1);
    expect(report).toMatchObject({ state: "done", total: 10_000 + groupsBefore, visited: 10_000 + groupsBefore, emitted });
    expect(report.events).toEqual({ delivered: emitted, failed: 0, waiting: 0, recorded: 0, discarded: 0 });
    const parts = (await eventsOf(report.id)).filter((e) => e.resource_id === everyone);
    expect(parts.map((e) => e.id.split("_").at(-1))).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 1)));
    const versions = await env.DB.prepare("SELECT DISTINCT resource_version AS v FROM events WHERE job_id = ? AND resource_id = ?")
      .bind(report.id, everyone)
      .all<{ v: number }>();
    expect(versions.results).toEqual([{ v: 4 }]);
    await expectReplicaEqualsDirectory();

    expect(report.disagreements).toEqual({ count: 0, listed: [] });
  });
});
