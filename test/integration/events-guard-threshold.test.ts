import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import { DEFAULT_SETTINGS, type Settings } from "../../src/settings/model";

/**
 * The guard's threshold (SPEC §9): deactivations and deletions are held once the hour's count
 * reaches max(deprovisionGuard.maxPerHour, 10% of the active users created before the hour),
 * decided in SQL by outboxInsert. Users created within the hour never raise it.
 * Its own file, so its D1 holds exactly the users and events each case writes.
 */

const MAX = 3;
const GUARD: Settings = { ...DEFAULT_SETTINGS, deprovisionGuard: { maxPerHour: MAX } };

interface Directory {
  /** Active users created before the hour. */
  active: number;
  inactive: number;
  /** Active users created within the hour: never counted. */
  newActive?: number;
  /** Deprovisioning events this hour, and older ones. */
  recent: number;
  old?: number;
}

async function reset({ active, inactive, newActive = 0, recent, old = 0 }: Directory): Promise<void> {
  // The guard's base starts from nothing (the users of the last case were deleted long ago, as it were).
  await env.DB.batch([
    env.DB.prepare("DELETE FROM users"),
    env.DB.prepare("DELETE FROM events"),
    env.DB.prepare("UPDATE guard_active SET n = 0"),
    env.DB.prepare("DELETE FROM guard_active_changes"),
  ]);
  const now = new Date().toISOString();
  const hourAgo = new Date(Date.now() - 3_700_000).toISOString();
  const insertUsers = (prefix: string, count: number, isActive: boolean, createdAt: string) =>
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO users (id, user_name, user_name_norm, active, data, version, created_at, updated_at)
       SELECT ?2 || i, ?2 || i, ?2 || i, ?3, '{}', 1, ?4, ?4 FROM n WHERE ?1 > 0`,
    ).bind(count, prefix, isActive ? 1 : 0, createdAt);
  await env.DB.batch([
    insertUsers("a", active, true, hourAgo),
    insertUsers("i", inactive, false, hourAgo),
    insertUsers("n", newActive, true, now),
  ]);
  // `recent` deprovisioning events this hour (one of them discarded by an admin, not counted),
  // `old` ones from before the hour.
  const rows = [
    ...Array.from({ length: recent }, (_, i) => ({ type: i % 2 ? "user.deleted" : "user.deactivated", at: now, state: "delivered" })),
    { type: "user.deactivated", at: now, state: "discarded" },
    ...Array.from({ length: old }, () => ({ type: "user.deactivated", at: hourAgo, state: "delivered" })),
  ];
  await env.DB.batch(
    rows.map((r, i) =>
      env.DB.prepare(
        `INSERT INTO events (id, type, resource_type, resource_id, resource_version, payload, state, attempts, created_at, updated_at)
         VALUES (?, ?, 'User', ?, 2, '{}', ?, 0, ?, ?)`,
      ).bind(newEventId(), r.type, `r${i}`, r.state, r.at, r.at),
    ),
  );
}

async function deactivationState(): Promise<string> {
  const db = getDb(env.DB);
  const id = newEventId();
  await db.batch([
    outboxInsert(
      db,
      { id, type: "user.deactivated", resourceType: "User", resourceId: crypto.randomUUID(), resourceVersion: 2, data: {} },
      GUARD,
      new Date(),
    ),
  ]);
  const row = await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(id).first<{ state: string }>();
  return row?.state ?? "missing";
}

describe("deprovisioning guard threshold: max(maxPerHour, 10% of the active users created before the hour)", () => {
  const cases: { name: string; directory: Directory; want: "queued" | "held" }[] = [
    { name: "below maxPerHour: sent whatever the directory", directory: { active: 0, inactive: 0, recent: MAX - 1 }, want: "queued" },
    { name: "at maxPerHour", directory: { active: 0, inactive: 0, recent: MAX }, want: "held" },
    { name: "10% of 10 is 1, below maxPerHour", directory: { active: 10, inactive: 0, recent: MAX }, want: "held" },
    { name: "older deprovisionings do not count", directory: { active: 10, inactive: 0, recent: MAX - 1, old: 50 }, want: "queued" },
    { name: "10% of 100 is 10: nine is below", directory: { active: 100, inactive: 0, recent: 9 }, want: "queued" },
    { name: "10% of 100 is 10: ten is held", directory: { active: 100, inactive: 0, recent: 10 }, want: "held" },
    { name: "10% of 109 is 10 (integer): nine is below", directory: { active: 109, inactive: 0, recent: 9 }, want: "queued" },
    { name: "10% of 109 is 10 (integer): ten is held", directory: { active: 109, inactive: 0, recent: 10 }, want: "held" },
    { name: "10% of 110 is 11: ten is below", directory: { active: 110, inactive: 0, recent: 10 }, want: "queued" },
    { name: "10% of 110 is 11: eleven is held", directory: { active: 110, inactive: 0, recent: 11 }, want: "held" },
    { name: "inactive users are not counted", directory: { active: 100, inactive: 500, recent: 10 }, want: "held" },
    { name: "1,000 active: 99 is below", directory: { active: 1000, inactive: 0, recent: 99 }, want: "queued" },
    { name: "1,000 active: 100 is held", directory: { active: 1000, inactive: 0, recent: 100 }, want: "held" },
    {
      name: "users created within the hour do not raise the threshold",
      directory: { active: 10, inactive: 0, newActive: 1000, recent: MAX },
      want: "held",
    },
    {
      name: "only users older than the hour count, even when many are new",
      directory: { active: 100, inactive: 0, newActive: 900, recent: 10 },
      want: "held",
    },
  ];
  it.each(cases)("$name", async ({ directory, want }) => {
    await reset(directory);
    expect(await deactivationState()).toBe(want);
  });

  // Issue: 240 dormant users reactivated within the hour lifted the threshold from 30 to 54.
  const reactivated: { name: string; reactivate: number; recent: number; want: "queued" | "held" }[] = [
    {
      name: "users reactivated within the hour do not raise it (300 active before: 30 is held)",
      reactivate: 240,
      recent: 30,
      want: "held",
    },
    { name: "without the reactivations the same 29 are below it", reactivate: 0, recent: 29, want: "queued" },
    { name: "with them, 29 stays below it: the base is 300, not 540", reactivate: 240, recent: 29, want: "queued" },
  ];
  it.each(reactivated)("$name", async ({ reactivate, recent, want }) => {
    await reset({ active: 300, inactive: 300, recent });
    // Reactivated now, by a write (the trigger dates it by the row's updated_at).
    await env.DB.prepare("UPDATE users SET active = 1, updated_at = ? WHERE id IN (SELECT id FROM users WHERE active = 0 LIMIT ?)")
      .bind(new Date().toISOString(), reactivate)
      .run();
    expect(await deactivationState()).toBe(want);
  });

  it("users deactivated within the hour still count in the base (they were active when it began)", async () => {
    await reset({ active: 300, inactive: 0, recent: 29 });
    await env.DB.prepare("UPDATE users SET active = 0, updated_at = ? WHERE id IN (SELECT id FROM users LIMIT 29)")
      .bind(new Date().toISOString())
      .run();
    expect(await deactivationState()).toBe("queued");
  });
});

describe("the guard's counts are read once per event", () => {
  /** How many times SQLite's plan for one outbox insert searches each index. */
  async function searches(type: "user.deactivated" | "user.updated", settings: Settings): Promise<Record<string, number>> {
    const db = getDb(env.DB);
    const event = { id: newEventId(), type, resourceType: "User" as const, resourceId: "u1", resourceVersion: 2, data: {} };
    const query = outboxInsert(db, event, settings, new Date()).toSQL();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .bind(...query.params)
      .all<{ detail: string }>();
    const counts: Record<string, number> = {};
    for (const { detail } of plan.results) {
      const index = /USING (?:COVERING )?INDEX (\w+)/.exec(detail)?.[1];
      if (index) counts[index] = (counts[index] ?? 0) + 1;
    }
    return counts;
  }

  // The rule reads the hour's count three times and the whole hold decision sets two columns:
  // written inline, SQLite planned the hour's count six times and the active users twice. The
  // base is no count at all: the active users now (a one-row table) less the hour's changes (at
  // most 60 rows of guard_active_changes, over its primary key).
  it.each([
    {
      name: "a deactivation",
      type: "user.deactivated" as const,
      settings: GUARD,
      want: { events_type_created_idx: 1, sqlite_autoindex_guard_active_changes_1: 1, events_held_idx: 1 },
    },
    { name: "another change", type: "user.updated" as const, settings: GUARD, want: { events_held_idx: 1 } },
    { name: "a deactivation in a dry run", type: "user.deactivated" as const, settings: { ...GUARD, dryRun: true }, want: {} },
  ])("$name", async ({ type, settings, want }) => {
    expect(await searches(type, settings)).toEqual(want);
  });
});
