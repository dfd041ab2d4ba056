import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { newEventId, outboxInsert, stampQueued } from "../../src/events/outbox";
import worker from "../../src/index";
import { DEFAULT_SETTINGS, type Settings } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import { admin, expectStatus, type Json } from "../helpers";
import { acceptingSite } from "../site-double";

/**
 * The mass-deprovisioning guard (SPEC §9): outboxInsert holds deactivations past the hourly
 * threshold; an admin releases them (they are then delivered) or discards them (never delivered).
 * Its own file, so its D1 starts empty and the hourly count is exactly what this file writes.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";
const GUARD: Settings = { ...DEFAULT_SETTINGS, deprovisionGuard: { maxPerHour: 2 } };

const calls = acceptingSite(SITE);

async function deactivate(): Promise<string> {
  const db = getDb(env.DB);
  const id = newEventId();
  const resourceId = crypto.randomUUID();
  await db.batch([
    outboxInsert(
      db,
      {
        id,
        type: "user.deactivated",
        resourceType: "User",
        resourceId,
        resourceVersion: 2,
        data: sampleData("user.deactivated", resourceId, 2),
      },
      GUARD,
      new Date(),
    ),
    // As a SCIM write's batch ends (users/service.ts commit): stamp the ones to be sent.
    stampQueued(db, [id], new Date().toISOString()),
  ]);
  return id;
}

async function stateOf(id: string): Promise<string | undefined> {
  return (await env.DB.prepare("SELECT state FROM events WHERE id = ?").bind(id).first<{ state: string }>())?.state;
}

async function waitDelivered(id: string): Promise<void> {
  await vi.waitUntil(async () => (await stateOf(id)) === "delivered", { timeout: 15_000, interval: 100 });
}

describe("mass-deprovisioning guard", () => {
  const ids: string[] = [];

  it("holds deactivations past maxPerHour; the consumer never sends a held event", async () => {
    for (let i = 0; i < 4; i++) ids.push(await deactivate());
    expect(await Promise.all(ids.map(stateOf))).toEqual(["queued", "queued", "held", "held"]);
    // Only the sent ones say when they went on the queue.
    const queuedAt = await Promise.all(
      ids.map(
        async (id) =>
          (await env.DB.prepare("SELECT queued_at FROM events WHERE id = ?").bind(id).first<{ queued_at: string | null }>())?.queued_at ??
          null,
      ),
    );
    expect(queuedAt.map((q) => q !== null)).toEqual([true, true, false, false]);

    const batch = createMessageBatch(
      "scim-events",
      ids.slice(2).map((eventId) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { v: 1, eventId } })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(2);
    expect(calls).toHaveLength(0);

    const held = await expectStatus(await admin("GET", "/events?state=held"), 200);
    expect((held.events as Json[]).map((e) => e.id)).toEqual([ids[3], ids[2]]);
    expect((held.counts as Record<string, number>).held).toBe(2);
  });

  it("release-held with ids sends exactly those, through the queue, to the site", async () => {
    const [, , first, second] = ids;
    if (!first || !second) throw new Error("setup");
    const body = await expectStatus(await admin("POST", "/events/release-held", { ids: [first, "evt_unknown"] }), 200);
    expect(body).toMatchObject({ released: 1, sentNow: 1, skipped: ["evt_unknown"] });
    await waitDelivered(first);
    expect(await stateOf(second)).toBe("held");
    const sent = calls.filter((c) => c.headers["webhook-id"] === first);
    expect(sent).toHaveLength(1);
    const call = sent[0];
    if (!call) throw new Error("not delivered");
    expect(new Webhook(SECRET).verify(call.body, call.headers)).toMatchObject({ type: "user.deactivated" });
    const log = await env.DB.prepare("SELECT decisions FROM provisioning_log WHERE path = '/admin/api/events/release-held'").first<{
      decisions: string;
    }>();
    expect(log?.decisions).toContain("held events released: 1");
  });

  it("discard-held (all) drops the rest: discarded, never delivered, not redeliverable, not releasable", async () => {
    const second = ids[3] ?? "";
    const body = await expectStatus(await admin("POST", "/events/discard-held"), 200);
    expect(body.discarded).toBe(1);
    expect(await stateOf(second)).toBe("discarded");

    const batch = createMessageBatch("scim-events", [{ id: "m1", timestamp: new Date(), attempts: 1, body: { v: 1, eventId: second } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m1"]);

    await expectStatus(await admin("POST", `/events/${second}/redeliver`), 409);
    const again = await expectStatus(await admin("POST", "/events/release-held", { ids: [second] }), 200);
    expect(again).toMatchObject({ released: 0, skipped: [second] });
    expect(calls.filter((c) => c.headers["webhook-id"] === second)).toHaveLength(0);
    expect(await stateOf(second)).toBe("discarded");
  });

  it("release-held with no body releases every held event", async () => {
    // Discarded events do not count toward the hour, released ones do: 3 counted, so both are held.
    const more = [await deactivate(), await deactivate()];
    expect(await Promise.all(more.map(stateOf))).toEqual(["held", "held"]);
    const body = await expectStatus(await admin("POST", "/events/release-held"), 200);
    expect(body).toMatchObject({ released: 2, sentNow: 2 });
    for (const id of more) await waitDelivered(id);
    for (const id of more) expect(calls.filter((c) => c.headers["webhook-id"] === id)).toHaveLength(1);
  });

  it.each([
    { name: "an empty id list", path: "release-held", payload: { ids: [] } },
    { name: "ids not a list", path: "release-held", payload: { ids: "evt_1" } },
    { name: "an unknown key", path: "release-held", payload: { all: true } },
    { name: "ids that are not strings", path: "discard-held", payload: { ids: [1, 2] } },
  ])("$path: 400 for $name", async ({ path, payload }) => {
    expect((await expectStatus(await admin("POST", `/events/${path}`, payload), 400)).error).toBe("invalid_body");
  });

  it("400 for a body that is not JSON", async () => {
    const res = await worker.fetch(
      new Request("https://scim.test/admin/api/events/discard-held", {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
        body: "{not json",
      }),
      env,
      createExecutionContext(),
    );
    expect((await expectStatus(res, 400)).error).toBe("invalid_json");
  });
});
