import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import { DEFAULT_SETTINGS, type Settings } from "../../src/settings/model";

/**
 * The guard's threshold (SPEC §9): deactivations and deletions are held once the hour's count
 * reaches max(deprovisionGuard.maxPerHour, 10% of active users), decided in SQL by outboxInsert.
 * Its own file, so its D1 holds exactly the users and events each case writes.
 */

const MAX = 3;
const GUARD: Settings = { ...DEFAULT_SETTINGS, deprovisionGuard: { maxPerHour: MAX } };

async function reset(active: number, inactive: number, recent: number, old = 0): Promise<void> {
  await env.DB.batch([env.DB.prepare("DELETE FROM users"), env.DB.prepare("DELETE FROM events")]);
  const now = new Date().toISOString();
  const hourAgo = new Date(Date.now() - 3_700_000).toISOString();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2)
     INSERT INTO users (id, user_name, user_name_norm, active, data, version, created_at, updated_at)
     SELECT 'u' || i, 'user' || i, 'user' || i, i <= ?1, '{}', 1, ?3, ?3 FROM n WHERE ?1 + ?2 > 0`,
  )
    .bind(active, inactive, now)
    .run();
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

describe("deprovisioning guard threshold: max(maxPerHour, 10% of active users)", () => {
  // [active users, inactive users, deprovisionings this hour, older ones, expected state]
  const cases: [number, number, number, number, "queued" | "held"][] = [
    [0, 0, MAX - 1, 0, "queued"], // below maxPerHour: sent whatever the directory
    [0, 0, MAX, 0, "held"],
    [10, 0, MAX, 0, "held"], // 10% of 10 is 1 < maxPerHour
    [10, 0, MAX - 1, 50, "queued"], // deprovisionings older than an hour do not count
    [100, 0, 9, 0, "queued"], // 10% of 100 = 10: nine is below
    [100, 0, 10, 0, "held"],
    [109, 0, 9, 0, "queued"], // 10% of 109 = 10 (integer): nine is below
    [109, 0, 10, 0, "held"],
    [110, 0, 10, 0, "queued"], // 10% of 110 = 11
    [110, 0, 11, 0, "held"],
    [100, 500, 10, 0, "held"], // inactive users are not counted
    [1000, 0, 99, 0, "queued"],
    [1000, 0, 100, 0, "held"],
  ];
  it.each(cases)("%i active, %i inactive, %i this hour (%i older): %s", async (active, inactive, recent, old, expected) => {
    await reset(active, inactive, recent, old);
    expect(await deactivationState()).toBe(expected);
  });
});
