import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import worker from "../../src/index";
import { LogEntry } from "../../src/log/entry";
import { readSettings } from "../../src/settings/store";
import { patchUser } from "../../src/users/service";
import type { WriteContext } from "../../src/write/kernel";
import {
  admin,
  BASE,
  createUser,
  expectScimError,
  expectStatus,
  type Json,
  json,
  oktaUser,
  ops,
  scim,
  setSettings,
  settleJobs,
  siteRole,
  uniqueName,
} from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * Integrity under concurrency and faults, by construction (the write kernel's compare-and-set,
 * src/write/): each case races real requests through the Worker against real D1 and asserts the
 * final state, not only the answers.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const calls = acceptingSite(SITE);

async function newGroup(displayName: string, members: string[] = []): Promise<Json> {
  return expectStatus(await scim("POST", "/Groups", { displayName, members: members.map((value) => ({ value })) }), 201);
}

async function role(userId: string): Promise<string | undefined> {
  const user = await expectStatus(await scim("GET", `/Users/${userId}`), 200);
  return siteRole(user);
}

async function runCron(at: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled?.(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

beforeAll(async () => {
  await setSettings();
});

describe("roles are decided from committed sources, whatever races", () => {
  afterEach(async () => {
    await setSettings({ adminGroup: null, moderatorGroup: null, allowAdminPromotion: false, allowModeratorPromotion: false });
    await settleJobs();
  });

  it("userType Registered racing removal from the mapped admin group: never admin with no source granting it (20 races)", {
    timeout: 120_000,
  }, async () => {
    await setSettings({ allowAdminPromotion: true, allowModeratorPromotion: true });
    const admins = await newGroup(uniqueName("Admins"));
    await setSettings({ adminGroup: admins.id });
    await settleJobs();
    const wrong: string[] = [];
    for (let race = 0; race < 20; race++) {
      const u = await createUser(oktaUser(uniqueName("Skew"), { userType: "Admin" }));
      const id = u.id as string;
      await expectStatus(await scim("PATCH", `/Groups/${admins.id}`, ops({ op: "add", path: "members", value: [{ value: id }] })), 204);
      expect(await role(id)).toBe("admin");
      const [user, group] = await Promise.all([
        scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "userType", value: "Registered" })),
        scim("PATCH", `/Groups/${admins.id}`, ops({ op: "remove", path: `members[value eq "${id}"]` })),
      ]);
      expect(user.status, await user.clone().text()).toBe(200);
      expect(group.status, await group.clone().text()).toBe(204);
      // Both applied: userType Registered, in no mapped group, so registered (admin promotion is on).
      const now = await role(id);
      if (now !== "registered") wrong.push(`race ${race}: ${now}`);
    }
    expect(wrong).toEqual([]);
  });

  it("two sources granting moderator at once, then both taken away at once: never a role no source grants (10 races)", {
    timeout: 120_000,
  }, async () => {
    await setSettings({ allowAdminPromotion: false, allowModeratorPromotion: true });
    const mods = await newGroup(uniqueName("Mods"));
    await setSettings({ moderatorGroup: mods.id });
    await settleJobs();
    for (let race = 0; race < 10; race++) {
      const u = await createUser(oktaUser(uniqueName("Both")));
      const id = u.id as string;
      const [user, group] = await Promise.all([
        scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "userType", value: "Moderator" })),
        scim("PATCH", `/Groups/${mods.id}`, ops({ op: "add", path: "members", value: [{ value: id }] })),
      ]);
      expect(user.status).toBe(200);
      expect(group.status).toBe(204);
      expect(await role(id)).toBe("moderator");
      // And taking both sources away again, at once, leaves no role behind.
      const [u2, g2] = await Promise.all([
        scim("PATCH", `/Users/${id}`, ops({ op: "remove", path: "userType" })),
        scim("PATCH", `/Groups/${mods.id}`, ops({ op: "remove", path: `members[value eq "${id}"]` })),
      ]);
      expect(u2.status).toBe(200);
      expect(g2.status).toBe(204);
      expect(await role(id), `race ${race}`).toBe("registered");
    }
  });
});

describe("group writes are compare-and-set", () => {
  it("five PATCHes with one If-Match: exactly one 204, the rest 412, and only the winner's name is stored", async () => {
    const g = await newGroup(uniqueName("Etag"));
    const etag = (g.meta as Json).version as string;
    const names = Array.from({ length: 5 }, (_, i) => `${g.displayName as string} ${i}`);
    const results = await Promise.all(
      names.map((value) =>
        scim("PATCH", `/Groups/${g.id}`, ops({ op: "replace", path: "displayName", value }), { headers: { "If-Match": etag } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    for (const r of results) if (r.status !== 204) await expectScimError(r, 412);
    const now = await json(await scim("GET", `/Groups/${g.id}`));
    expect(now.displayName).toBe(names[statuses.indexOf(204)]);
    expect((now.meta as Json).version).toBe('W/"2"');
  });

  it("a rename racing six member adds survives, and every event after it carries the new name", async () => {
    const users: string[] = [];
    for (let i = 0; i < 6; i++) users.push((await createUser(oktaUser(uniqueName("Add")))).id as string);
    const g = await newGroup(uniqueName("Old"));
    const renamed = uniqueName("New");
    const results = await Promise.all([
      scim("PATCH", `/Groups/${g.id}`, ops({ op: "replace", path: "displayName", value: renamed })),
      ...users.map((id) => scim("PATCH", `/Groups/${g.id}`, ops({ op: "add", path: "members", value: [{ value: id }] }))),
    ]);
    for (const r of results) expect(r.status, await r.clone().text()).toBe(204);
    const now = await json(await scim("GET", `/Groups/${g.id}`));
    expect(now.displayName).toBe(renamed);
    expect(((now.members as Json[]) ?? []).map((m) => m.value).sort()).toEqual([...users].sort());
    // The site applies the group's attributes from the highest version: that one carries the new name.
    const { results: events } = await env.DB.prepare(
      "SELECT resource_version AS v, json_extract(payload, '$.data.group.displayName') AS name FROM events WHERE resource_id = ? ORDER BY resource_version",
    )
      .bind(g.id)
      .all<{ v: number; name: string }>();
    expect(events.map((e) => e.v)).toEqual(events.map((_, i) => i + 1));
    const renameAt = events.findIndex((e) => e.name === renamed);
    expect(renameAt).toBeGreaterThan(0);
    expect(events.slice(renameAt).every((e) => e.name === renamed)).toBe(true);
    expect(events.at(-1)?.name).toBe(renamed);
  });
});

describe("a membership names an existing user, whatever races", () => {
  it("member adds racing the deletion of those users leave no membership of a deleted user (30 races)", { timeout: 120_000 }, async () => {
    const g = await newGroup(uniqueName("Orphans"));
    for (let race = 0; race < 30; race++) {
      const u = await createUser(oktaUser(uniqueName("Doomed")));
      const id = u.id as string;
      const [add, del] = await Promise.all([
        scim("PATCH", `/Groups/${g.id}`, ops({ op: "add", path: "members", value: [{ value: id }] })),
        scim("DELETE", `/Users/${id}`),
      ]);
      expect(del.status, await del.clone().text()).toBe(204);
      // Either the add landed first (and the deletion removed it again) or it found no user.
      if (add.status !== 204) await expectScimError(add, 400, "invalidValue");
    }
    const orphans = await env.DB.prepare("SELECT count(*) AS n FROM group_members WHERE user_id NOT IN (SELECT id FROM users)").first<{
      n: number;
    }>();
    expect(orphans?.n).toBe(0);
    // The site is told: every add that landed is followed by its removal for the deleted user.
    const { results } = await env.DB.prepare(
      "SELECT type, json_extract(payload, '$.data.changes.members') AS members FROM events WHERE resource_id = ? ORDER BY resource_version",
    )
      .bind(g.id)
      .all<{ type: string; members: string }>();
    const members = new Set<string>();
    for (const e of results) {
      for (const m of JSON.parse(e.members ?? "[]") as string[]) {
        if (e.type === "group.members_added") members.add(m);
        if (e.type === "group.members_removed") members.delete(m);
      }
    }
    expect([...members]).toEqual([]);
  });

  it("the database itself refuses a membership of no user", async () => {
    const g = await newGroup(uniqueName("Refuses"));
    await expect(
      env.DB.prepare("INSERT INTO group_members (group_id, user_id, added_at) VALUES (?, 'no-such-user', ?)")
        .bind(g.id, new Date().toISOString())
        .run(),
    ).rejects.toThrow(/not an existing user/);
  });

  it("a membership change moves the member's version (its groups changed): a user write that read before it reads again", async () => {
    const u = await createUser(oktaUser(uniqueName("Moved")));
    const etag = (u.meta as Json).version as string;
    const g = await newGroup(uniqueName("Mover"));
    await expectStatus(await scim("PATCH", `/Groups/${g.id}`, ops({ op: "add", path: "members", value: [{ value: u.id }] })), 204);
    const now = await json(await scim("GET", `/Users/${u.id as string}`));
    expect((now.meta as Json).version).not.toBe(etag);
    expect((now.groups as Json[]).map((x) => x.value)).toEqual([g.id]);
    // A client holding the old ETag did not see the user's groups change: 412.
    await expectScimError(
      await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "replace", path: "title", value: "x" }), { headers: { "If-Match": etag } }),
      412,
    );
  });
});

describe("versions are JSON integers on the wire", () => {
  it("every delivered body's data.version is an integer, never 2.0", { timeout: 60_000 }, async () => {
    // This file's deletions have used up the guard's hour: lift it, so the deletion below goes out.
    await setSettings({ deprovisionGuard: { maxPerHour: 1_000_000 } });
    const u = await createUser(oktaUser(uniqueName("Int")));
    await expectStatus(await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "replace", path: "title", value: "T" })), 200);
    const g = await newGroup(uniqueName("IntGroup"), [u.id as string]);
    await expectStatus(await scim("PATCH", `/Groups/${g.id}`, ops({ op: "replace", path: "displayName", value: uniqueName("R") })), 204);
    await expectStatus(await scim("DELETE", `/Users/${u.id as string}`), 204);
    const ids = async () =>
      (await env.DB.prepare("SELECT id FROM events WHERE resource_id IN (?, ?)").bind(u.id, g.id).all<{ id: string }>()).results.map(
        (r) => r.id,
      );
    const mine = await ids();
    expect(mine).toHaveLength(6);
    await vi.waitUntil(() => mine.every((id) => calls.some((c) => c.headers["webhook-id"] === id)), { timeout: 20_000, interval: 50 });
    const bodies = calls.filter((c) => mine.includes(c.headers["webhook-id"] ?? "")).map((c) => c.body);
    await setSettings({ deprovisionGuard: { maxPerHour: 25 } });
    for (const body of bodies) {
      expect(body).toMatch(/"version":[1-9][0-9]*[,}]/);
      expect(body).not.toMatch(/"version":[0-9]+\./);
      const parsed = JSON.parse(body) as { data: { version: unknown } };
      expect(Number.isInteger(parsed.data.version)).toBe(true);
    }
  });
});

describe("a held deletion and a new account with the same userName", () => {
  afterEach(async () => {
    await admin("POST", "/events/discard-held", {});
    await setSettings({ deprovisionGuard: { maxPerHour: 25 } });
  });

  async function heldState(userId: string): Promise<{ type: string; state: string; hold: string | null }[]> {
    const { results } = await env.DB.prepare("SELECT type, state, hold FROM events WHERE resource_id = ? ORDER BY seq")
      .bind(userId)
      .all<{ type: string; state: string; hold: string | null }>();
    return results;
  }

  for (const action of ["release", "discard"] as const) {
    it(`the new account waits while the deletion is held; after ${action}, it goes out${action === "release" ? " after the deletion" : ""}`, async () => {
      await setSettings({ deprovisionGuard: { maxPerHour: 1 } });
      // One deprovisioning this hour reaches maxPerHour 1: the deletion is held.
      const first = await createUser(oktaUser(uniqueName("Spent")));
      await expectStatus(await scim("PATCH", `/Users/${first.id as string}`, ops({ op: "replace", path: "active", value: false })), 200);
      const name = uniqueName("Reused");
      const old = await createUser(oktaUser(name));
      await expectStatus(await scim("DELETE", `/Users/${old.id as string}`), 204);
      expect((await heldState(old.id as string)).at(-1)).toMatchObject({ type: "user.deleted", state: "held", hold: "guard" });
      // A new user with the same userName (any case) is created at once in the directory...
      const fresh = await createUser(oktaUser(name.toUpperCase()));
      await expectStatus(await scim("PATCH", `/Users/${fresh.id as string}`, ops({ op: "replace", path: "title", value: "New" })), 200);
      // ...but the site hears nothing of it while it still holds the old account.
      expect(await heldState(fresh.id as string)).toEqual([
        { type: "user.created", state: "held", hold: "name" },
        { type: "user.updated", state: "held", hold: "name" },
      ]);
      expect(calls.some((c) => c.body.includes(fresh.id as string))).toBe(false);

      const res = await admin("POST", `/events/${action}-held`, { ids: [(await rootOf(old.id as string)) ?? ""] });
      expect(res.status, await res.clone().text()).toBe(200);
      await vi.waitUntil(() => calls.filter((c) => c.body.includes(fresh.id as string)).length === 2, { timeout: 15_000, interval: 50 });
      const order = calls.map((c) => JSON.parse(c.body) as { type: string; data: { id: string } });
      const deletedAt = order.findIndex((e) => e.type === "user.deleted" && e.data.id === old.id);
      const createdAt = order.findIndex((e) => e.type === "user.created" && e.data.id === fresh.id);
      if (action === "release") expect(deletedAt).toBeGreaterThanOrEqual(0);
      if (action === "release") expect(deletedAt).toBeLessThan(createdAt);
      if (action === "discard") expect(deletedAt).toBe(-1);
      expect((await heldState(fresh.id as string)).map((e) => e.state)).toEqual(["delivered", "delivered"]);
    });
  }

  async function rootOf(userId: string): Promise<string | undefined> {
    const row = await env.DB.prepare("SELECT id FROM events WHERE resource_id = ? AND hold = 'guard' AND state = 'held'")
      .bind(userId)
      .first<{ id: string }>();
    return row?.id;
  }
});

describe("a decision made with settings that changed meanwhile is made again", () => {
  afterEach(async () => {
    await setSettings({ allowAdminPromotion: false });
  });

  it("a userType Admin written with admin promotion still off in the writer's settings, after it was turned on: admin", async () => {
    await setSettings({ allowAdminPromotion: false });
    const u = await createUser(oktaUser(uniqueName("Stale")));
    const stale = await readSettings(getDb(env.DB));
    // An isolate whose cached settings are older than a save (up to 5 s in production).
    await setSettings({ allowAdminPromotion: true });
    const log = new LogEntry(crypto.randomUUID(), "PATCH", `/api/scim/v2/Users/${u.id as string}`);
    const ctx: WriteContext = {
      db: getDb(env.DB),
      queue: env.EVENTS,
      settings: stale.value,
      settingsVersion: stale.version,
      baseUrl: BASE,
      log,
      ifMatch: undefined,
      waitUntil: () => undefined,
    };
    const result = await patchUser(ctx, u.id as string, ops({ op: "replace", path: "userType", value: "Admin" }));
    expect(result.state.role).toBe("admin");
    expect(await role(u.id as string)).toBe("admin");
    expect(log.decisions).toContain("decided again: the settings changed meanwhile");
  });
});

describe("the guard's count of active users follows every write", () => {
  it("after creates, deactivations, reactivations and deletions through SCIM it equals the users that are active", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await createUser(oktaUser(uniqueName("Count"), { active: i % 3 !== 0 }))).id as string);
    await expectStatus(await scim("PATCH", `/Users/${ids[1]}`, ops({ op: "replace", path: "active", value: false })), 200);
    await expectStatus(await scim("PATCH", `/Users/${ids[0]}`, ops({ op: "replace", value: { active: "True" } })), 200);
    await expectStatus(await scim("DELETE", `/Users/${ids[2]}`), 204);
    await expectStatus(await scim("DELETE", `/Users/${ids[3]}`), 204);
    const row = await env.DB.prepare(
      "SELECT (SELECT n FROM guard_active WHERE id = 1) AS kept, (SELECT count(*) FROM users WHERE active = 1) AS counted",
    ).first<{ kept: number; counted: number }>();
    expect(row?.kept).toBe(row?.counted);
  });
});

describe("settings saves are compare-and-set", () => {
  it("two saves of different settings at once both land (15 trials)", async () => {
    for (let trial = 0; trial < 15; trial++) {
      const [a, b] = await Promise.all([
        admin("PUT", "/settings", { logRetentionDays: 40 + trial }),
        admin("PUT", "/settings", { eventRetentionDays: 60 + trial }),
      ]);
      expect(a.status, await a.clone().text()).toBe(200);
      expect(b.status, await b.clone().text()).toBe(200);
      const now = await json(await admin("GET", "/settings"));
      expect(now).toMatchObject({ logRetentionDays: 40 + trial, eventRetentionDays: 60 + trial });
    }
  });

  it("a save made from a stale page (If-Match of an older ETag) is 412 and changes nothing", async () => {
    const before = await admin("GET", "/settings");
    const etag = before.headers.get("etag") ?? "";
    expect(etag).toMatch(/^W\/"\d+"$/);
    await expectStatus(await admin("PUT", "/settings", { logRetentionDays: 31 }), 200);
    const stale = await fetchAdmin("PUT", "/settings", { logRetentionDays: 99 }, { "If-Match": etag });
    expect(stale.status, await stale.clone().text()).toBe(412);
    expect(await stale.json()).toMatchObject({ error: "precondition_failed" });
    expect((await json(await admin("GET", "/settings"))).logRetentionDays).toBe(31);
  });
});

async function fetchAdmin(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  const { fetchWorker, ORIGIN, ADMIN_TOKEN } = await import("../helpers");
  return fetchWorker(`${ORIGIN}/admin/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("nothing waits on a lost message", () => {
  it("after a crash between commit and send, every committed event reaches the site within 2 minutes of sweeper time", {
    timeout: 60_000,
  }, async () => {
    // The queue accepts the writer's sends and loses them: what a crash right after commit leaves.
    const lost = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue({
      metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: new Date(0) } },
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createUser(oktaUser(uniqueName("Crash")))).id as string);
    // (A title: this file's earlier deletions have used up the guard's hour, which would hold a deactivation.)
    await expectStatus(await scim("PATCH", `/Users/${ids[0]}`, ops({ op: "replace", path: "title", value: "After" })), 200);
    lost.mockRestore();
    const undelivered = async () =>
      Number(
        (
          await env.DB.prepare(
            "SELECT count(*) AS n FROM events WHERE resource_id IN (SELECT value FROM json_each(?)) AND state <> 'delivered'",
          )
            .bind(JSON.stringify(ids))
            .first<{ n: number }>()
        )?.n,
      );
    expect(await undelivered()).toBe(6);
    // The consumer is idle: the next two minutely crons find the overdue events and send them.
    await runCron(Date.now() + 61_000);
    await runCron(Date.now() + 121_000);
    await vi.waitUntil(async () => (await undelivered()) === 0, { timeout: 20_000, interval: 100 });
    for (const id of ids) expect(calls.filter((c) => c.body.includes(`"id":"${id}"`)).length).toBeGreaterThanOrEqual(1);
  });

  it("a retrying event whose queue message was lost is sent again once its next attempt is a minute overdue", {
    timeout: 60_000,
  }, async () => {
    const u = await createUser(oktaUser(uniqueName("Retry")));
    const row = await env.DB.prepare("SELECT id FROM events WHERE resource_id = ?").bind(u.id).first<{ id: string }>();
    const id = row?.id ?? "";
    await vi.waitUntil(
      async () =>
        (await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(id).first<{ state: string }>())?.state === "delivered",
      {
        timeout: 10_000,
      },
    );
    // As a failed attempt leaves it, with its message then lost (a purged queue, a restarted dev server).
    const due = new Date(Date.now() - 90_000).toISOString();
    await env.DB.prepare("UPDATE events SET state = 'retrying', due_at = ?, updated_at = ?, last_error = ? WHERE id = ?")
      .bind(due, due, `HTTP 503: down (next attempt at ${due})`, id)
      .run();
    const before = calls.filter((c) => c.headers["webhook-id"] === id).length;
    await runCron(Date.now() + 61_000);
    await vi.waitUntil(
      async () =>
        (await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(id).first<{ state: string }>())?.state === "delivered",
      {
        timeout: 20_000,
        interval: 100,
      },
    );
    expect(calls.filter((c) => c.headers["webhook-id"] === id).length).toBe(before + 1);
  });
});
