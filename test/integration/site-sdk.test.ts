import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createReplica, EVENT_TYPES as SDK_EVENT_TYPES, verify, WebhookVerificationError } from "../../site-sdk/src/index.js";
import { getDb } from "../../src/db/client";
import { EVENT_TYPES } from "../../src/events/catalog";
import { newEventId, outboxInsert } from "../../src/events/outbox";
import type { EventType } from "../../src/events/types";
import worker from "../../src/index";
import { DEFAULT_SETTINGS } from "../../src/settings/model";
import { sampleData } from "../event-fixtures";
import { checkDelivery } from "../site-double";

/**
 * The site SDK (site-sdk/) against the service itself: the consumer signs real deliveries (real D1,
 * real MessageBatches), and the SDK, `standardwebhooks` and `svix` verify them; a rotation of the
 * signing secret (MAIN_SITE_SIGNING_SECRET_NEXT set, then swapped) loses no event. The site is the
 * only double.
 */

const SITE = env.MAIN_SITE_URL ?? "";
const CURRENT = env.MAIN_SITE_SIGNING_SECRET ?? "";
const NEXT = "whsec_bmV4dC1zaWduaW5nLXNlY3JldC10ZXN0";
const THIRD = "whsec_dGhpcmQtc2lnbmluZy1zZWNyZXQtMDEyMzQ1Ng==";

interface Captured {
  headers: Record<string, string>;
  body: string;
}
let calls: Captured[] = [];
/** The site's answer to one delivery; by default it accepts. */
let answer: (c: Captured) => Promise<Response> = async () => new Response(null, { status: 204 });

beforeEach(() => {
  calls = [];
  answer = async () => new Response(null, { status: 204 });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    const c = { headers: Object.fromEntries(req.headers), body: await req.text() };
    checkDelivery(c.body);
    calls.push(c);
    return answer(c);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

let version = 0;
async function writeEvent(type: EventType): Promise<string> {
  const db = getDb(env.DB);
  const id = newEventId();
  const resourceId = crypto.randomUUID();
  version += 1;
  await db.batch([
    outboxInsert(
      db,
      {
        id,
        type,
        resourceType: type.startsWith("group.") ? "Group" : "User",
        resourceId,
        resourceVersion: version,
        data: sampleData(type, resourceId, version),
      },
      DEFAULT_SETTINGS,
      new Date(),
    ),
  ]);
  return id;
}

/** The consumer delivers these events once, with the service's secrets as `bindings` say. */
async function consume(ids: string[], bindings: Cloudflare.Env): Promise<void> {
  const batch = createMessageBatch(
    "scim-events",
    ids.map((eventId) => ({ id: `m-${eventId}`, timestamp: new Date(), attempts: 1, body: { v: 1, eventId } })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  await getQueueResult(batch, ctx);
}

async function stateOf(id: string): Promise<{ state: string; last_error: string | null } | null> {
  return env.DB.prepare("SELECT state, last_error FROM events WHERE id = ?").bind(id).first();
}

describe("the SDK agrees with the service", () => {
  it("knows the same event types, in the same order", () => {
    expect([...SDK_EVENT_TYPES]).toEqual(EVENT_TYPES);
  });

  it.each(EVENT_TYPES.map((type) => ({ type })))("$type, signed by the consumer: the SDK reads it as the event it is", async ({ type }) => {
    const id = await writeEvent(type);
    await consume([id], env);
    const [call] = calls;
    if (!call) throw new Error("no delivery");
    const delivery = await verify(call.body, call.headers, CURRENT);
    expect(delivery.id).toBe(id);
    expect(delivery.event?.type).toBe(type);
    expect(delivery.event).toEqual(JSON.parse(call.body));
  });

  it("with MAIN_SITE_SIGNING_SECRET_NEXT set, a delivery carries two signatures: each secret alone verifies it with the SDK, standardwebhooks and svix", async () => {
    const id = await writeEvent("user.deactivated");
    await consume([id], { ...env, MAIN_SITE_SIGNING_SECRET_NEXT: NEXT });
    const [call] = calls;
    if (!call) throw new Error("no delivery");
    expect(call.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    for (const secret of [CURRENT, NEXT]) {
      expect((await verify(call.body, call.headers, secret)).id).toBe(id);
      expect(new StandardWebhook(secret).verify(call.body, call.headers)).toEqual(JSON.parse(call.body));
      expect(() => new SvixWebhook(secret).verify(call.body, call.headers)).not.toThrow();
    }
    // A secret that is neither is refused by all three.
    await expect(verify(call.body, call.headers, THIRD)).rejects.toBeInstanceOf(WebhookVerificationError);
    expect(() => new StandardWebhook(THIRD).verify(call.body, call.headers)).toThrow();
    expect(() => new SvixWebhook(THIRD).verify(call.body, call.headers)).toThrow();
    // Tampered: refused whatever the secret.
    const tampered = call.body.replace('"active":false', '"active":true');
    expect(tampered).not.toBe(call.body);
    await expect(verify(tampered, call.headers, [CURRENT, NEXT])).rejects.toMatchObject({ reason: "no-matching-signature" });
  });

  it("an unusable MAIN_SITE_SIGNING_SECRET_NEXT stops deliveries as undeliverable, naming it; nothing is sent, nothing lost", async () => {
    const id = await writeEvent("user.updated");
    await consume([id], { ...env, MAIN_SITE_SIGNING_SECRET_NEXT: "whsec_***" });
    expect(calls).toEqual([]);
    const row = await stateOf(id);
    expect(row?.state).toBe("undeliverable");
    expect(row?.last_error).toContain("MAIN_SITE_SIGNING_SECRET_NEXT");
  });
});

describe("a rotation of the signing secret, step by step (docs/webhooks.md)", () => {
  it("loses no event: every one is delivered and applied, none rejected", async () => {
    const replica = createReplica();
    let siteSecrets: string[] = [CURRENT];
    // The site: verifies with the secrets it has at that moment, 401 (rejected, not retried) otherwise.
    answer = async (c) => {
      try {
        replica.apply(await verify(c.body, c.headers, siteSecrets));
        return new Response(null, { status: 204 });
      } catch (err) {
        if (err instanceof WebhookVerificationError) return new Response(err.reason, { status: 401 });
        throw err;
      }
    };
    const steps: { step: string; service: Partial<Cloudflare.Env>; site: string[] }[] = [
      { step: "before", service: {}, site: [CURRENT] },
      { step: "1. wrangler secret put MAIN_SITE_SIGNING_SECRET_NEXT", service: { MAIN_SITE_SIGNING_SECRET_NEXT: NEXT }, site: [CURRENT] },
      { step: "2. the site accepts both", service: { MAIN_SITE_SIGNING_SECRET_NEXT: NEXT }, site: [CURRENT, NEXT] },
      // Mid-swap (secrets reach isolates one by one): both names may hold the new secret for a while.
      {
        step: "3. wrangler secret put MAIN_SITE_SIGNING_SECRET (the new one)",
        service: { MAIN_SITE_SIGNING_SECRET: NEXT, MAIN_SITE_SIGNING_SECRET_NEXT: NEXT },
        site: [CURRENT, NEXT],
      },
      {
        step: "4. wrangler secret delete MAIN_SITE_SIGNING_SECRET_NEXT",
        service: { MAIN_SITE_SIGNING_SECRET: NEXT },
        site: [CURRENT, NEXT],
      },
      { step: "5. the site drops the old secret", service: { MAIN_SITE_SIGNING_SECRET: NEXT }, site: [NEXT] },
    ];
    const written: string[] = [];
    for (const { step, service, site } of steps) {
      siteSecrets = site;
      const ids = [await writeEvent("user.created"), await writeEvent("user.deactivated")];
      written.push(...ids);
      await consume(ids, { ...env, MAIN_SITE_SIGNING_SECRET_NEXT: "", ...service });
      for (const id of ids) expect((await stateOf(id))?.state, `${step}: ${id}`).toBe("delivered");
    }
    expect(calls).toHaveLength(written.length);
    expect(Object.keys(replica.snapshot().users)).toHaveLength(written.length);

    // The one mistake the procedure prevents: swapping before the site has the new secret.
    siteSecrets = [CURRENT];
    const early = await writeEvent("user.created");
    await consume([early], { ...env, MAIN_SITE_SIGNING_SECRET: NEXT });
    expect((await stateOf(early))?.state).toBe("rejected");
  });
});
