import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type WebhookVariables, webhookVerifier } from "../src/hono.js";
import { createReplica, sign } from "../src/index.js";
import { events } from "./fixtures.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEXT = "whsec_bmV4dC1zaWduaW5nLXNlY3JldC10ZXN0";

type Env = { Bindings: { SIGNING_SECRET: string; SIGNING_SECRET_NEXT?: string }; Variables: WebhookVariables };

/** A site on Hono, as a Worker would be: the secrets come from its bindings. */
function site() {
  const replica = createReplica();
  const app = new Hono<Env>();
  app.post("/webhooks/scim", webhookVerifier<Env>({ secrets: (c) => [c.env.SIGNING_SECRET, c.env.SIGNING_SECRET_NEXT ?? ""] }), (c) => {
    const { view } = replica.apply(c.get("webhook"));
    return view ? c.json(view) : c.body(null, 204);
  });
  return { app, replica };
}

async function post(
  app: Hono<Env>,
  body: string,
  secrets: string[],
  bindings: Env["Bindings"],
  id = "evt_1",
  ts = Math.floor(Date.now() / 1000),
) {
  const signature = (await Promise.all(secrets.map((s) => sign(s, id, ts, body)))).join(" ");
  return app.request(
    "/webhooks/scim",
    {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature },
    },
    bindings,
  );
}

describe("webhookVerifier (Hono)", () => {
  it("hands the verified delivery to the handler, which applies it", async () => {
    const { app, replica } = site();
    const res = await post(app, JSON.stringify(events.created("u1", 1)), [SECRET], { SIGNING_SECRET: SECRET });
    expect(res.status, await res.clone().text()).toBe(204);
    expect(replica.user("u1")?.userName).toBe("u1@example.com");
    const synced = await post(app, JSON.stringify(events.userSynced("u1", 1)), [SECRET], { SIGNING_SECRET: SECRET }, "evt_2");
    expect(await synced.json()).toEqual({ version: 1, active: true, role: "registered" });
  });

  it("401 for a wrong secret, a tampered body or an old timestamp; the handler never runs", async () => {
    const { app, replica } = site();
    const body = JSON.stringify(events.created("u1", 1));
    const wrong = await post(app, body, [NEXT], { SIGNING_SECRET: SECRET });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: "no-matching-signature" });
    const ts = Math.floor(Date.now() / 1000);
    const signature = await sign(SECRET, "evt_1", ts, body);
    const tampered = await app.request(
      "/webhooks/scim",
      {
        method: "POST",
        body: body.replace("u1@", "u2@"),
        headers: { "webhook-id": "evt_1", "webhook-timestamp": String(ts), "webhook-signature": signature },
      },
      { SIGNING_SECRET: SECRET },
    );
    expect(tampered.status).toBe(401);
    const old = await post(app, body, [SECRET], { SIGNING_SECRET: SECRET }, "evt_1", ts - 600);
    expect(await old.json()).toMatchObject({ error: "timestamp-too-old" });
    expect(replica.snapshot().users).toEqual({});
  });

  it("500 (the service retries) while the site's secret is unusable", async () => {
    const { app } = site();
    const res = await post(app, JSON.stringify(events.created("u1", 1)), [SECRET], { SIGNING_SECRET: "whsec_!!!" });
    expect(res.status).toBe(500);
  });

  it("a rotation: the site takes the next secret while deliveries carry both, then only it", async () => {
    const { app, replica } = site();
    const steps: { service: string[]; site: Env["Bindings"] }[] = [
      { service: [SECRET], site: { SIGNING_SECRET: SECRET } },
      { service: [SECRET, NEXT], site: { SIGNING_SECRET: SECRET } },
      { service: [SECRET, NEXT], site: { SIGNING_SECRET: SECRET, SIGNING_SECRET_NEXT: NEXT } },
      { service: [SECRET, NEXT], site: { SIGNING_SECRET: NEXT } },
      { service: [NEXT], site: { SIGNING_SECRET: NEXT } },
    ];
    for (const [i, step] of steps.entries()) {
      const res = await post(app, JSON.stringify(events.created(`u${i}`, 1)), step.service, step.site, `evt_${i}`);
      expect(res.status, `step ${i}: ${await res.clone().text()}`).toBe(204);
    }
    expect(Object.keys(replica.snapshot().users)).toHaveLength(steps.length);
  });
});
