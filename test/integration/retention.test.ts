import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newEventId } from "../../src/events/outbox";
import worker from "../../src/index";
import type { EventState } from "../../src/lifecycle/events";
import { admin, expectStatus, setSettings } from "../helpers";

/**
 * Retention (settings logRetentionDays, eventRetentionDays), pruned by the cron in bounded
 * chunks: delivered and discarded events past the retention go; an event in any other state
 * (not delivered yet, or never to be: pending, held, dead, rejected, undeliverable, awaiting_pull, dry run...)
 * stays whatever its age. Its own file: its D1 holds only these events.
 */

const DAY = 86_400_000;
const STATES: EventState[] = [
  "pending",
  "queued",
  "retrying",
  "delivered",
  "rejected",
  "dead",
  "awaiting_pull",
  "held",
  "undeliverable",
  "dry_run",
  "discarded",
];

async function seed(state: EventState, ageDays: number, n = 1): Promise<string[]> {
  const at = new Date(Date.now() - ageDays * DAY).toISOString();
  const ids = Array.from({ length: n }, () => newEventId());
  await env.DB.prepare(
    `INSERT INTO events (id, type, resource_type, resource_id, resource_version, payload, state, attempts, created_at, updated_at)
     SELECT value, 'user.updated', 'User', value, 1, '{}', ?1, 0, ?2, ?2 FROM json_each(?3)`,
  )
    .bind(state, at, JSON.stringify(ids))
    .run();
  return ids;
}

async function cron(now = Date.now()): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled?.(createScheduledController({ scheduledTime: now, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const exists = async (id: string) => (await env.DB.prepare("SELECT 1 AS x FROM events WHERE id = ?").bind(id).first()) !== null;

describe("event retention", () => {
  it("is a setting with a 30-day default, validated like the log's", async () => {
    await setSettings();
    expect((await expectStatus(await admin("GET", "/settings"), 200)).eventRetentionDays).toBe(30);
    await expectStatus(await admin("PUT", "/settings", { eventRetentionDays: 0 }), 400);
    await expectStatus(await admin("PUT", "/settings", { eventRetentionDays: 3651 }), 400);
  });

  it("prunes only delivered and discarded events older than the retention; every other state stays", async () => {
    await setSettings({ eventRetentionDays: 7 });
    const old = new Map<EventState, string>();
    const recent = new Map<EventState, string>();
    for (const state of STATES) {
      old.set(state, (await seed(state, 8))[0] ?? "");
      recent.set(state, (await seed(state, 6))[0] ?? "");
    }
    await cron();
    for (const state of STATES) {
      expect(await exists(old.get(state) ?? ""), `old ${state}`).toBe(state !== "delivered" && state !== "discarded");
      expect(await exists(recent.get(state) ?? ""), `recent ${state}`).toBe(true);
    }
  });

  it("works in bounded chunks: 12,000 old delivered events take two cron runs", async () => {
    await setSettings({ eventRetentionDays: 1 });
    await env.DB.prepare("DELETE FROM events").run();
    for (let i = 0; i < 12; i++) await seed("delivered", 2, 1000);
    const count = async () => (await env.DB.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>())?.n;
    await cron();
    expect(await count()).toBe(2000);
    await cron();
    expect(await count()).toBe(0);
  });
});
