import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createReplica, sign } from "../../src/index.js";
import { webhookHandler } from "../../src/node.js";
import { events } from "../fixtures.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
let server: Server | undefined;

afterEach(async () => {
  server?.close();
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/scim`;
}

async function deliver(url: string, body: string, init: { secret?: string; id?: string; ts?: number; method?: string } = {}) {
  const ts = init.ts ?? Math.floor(Date.now() / 1000);
  const id = init.id ?? "evt_1";
  return fetch(url, {
    method: init.method ?? "POST",
    body: init.method === "GET" ? undefined : body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": await sign(init.secret ?? SECRET, id, ts, body),
    },
  });
}

describe("webhookHandler (node:http)", () => {
  it("verifies the raw body, applies the delivery and answers what onDelivery returns", async () => {
    const replica = createReplica();
    const url = await listen(webhookHandler({ secrets: SECRET, onDelivery: (d) => replica.apply(d).view }));
    const created = await deliver(url, JSON.stringify(events.created("u1", 1)));
    expect(created.status, await created.clone().text()).toBe(204);
    const synced = await deliver(url, JSON.stringify(events.userSynced("u1", 1)), { id: "evt_2" });
    expect(synced.status).toBe(200);
    expect(await synced.json()).toEqual({ version: 1, active: true, role: "registered" });
    expect(replica.user("u1")?.active).toBe(true);
  });

  it("401 for the wrong secret or an old timestamp, 405 for GET, 413 for a body over the limit, 500 when applying fails", async () => {
    const refused: string[] = [];
    const url = await listen(
      webhookHandler({
        secrets: [SECRET],
        maxBodyBytes: 4096,
        onRefused: (err) => refused.push(err.reason),
        onDelivery: (d) => {
          if (d.event?.data.id === "boom") throw new Error("database down");
        },
      }),
    );
    const body = JSON.stringify(events.created("u1", 1));
    expect((await deliver(url, body, { secret: "whsec_ZGV2LXNpZ25pbmctc2VjcmV0LWNoYW5nZS1tZQ==" })).status).toBe(401);
    expect((await deliver(url, body, { ts: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
    expect((await deliver(url, body, { method: "GET" })).status).toBe(405);
    const big = JSON.stringify({ ...events.created("u1", 1), padding: "x".repeat(5000) });
    expect((await deliver(url, big)).status).toBe(413);
    expect((await deliver(url, JSON.stringify(events.created("boom", 1)))).status).toBe(500);
    expect(refused).toEqual(["no-matching-signature", "timestamp-too-old"]);
  });
});
