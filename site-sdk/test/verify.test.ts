import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { SigningSecretError, sign, verify, WebhookVerificationError } from "../src/index.js";
import { events } from "./fixtures.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEXT = "whsec_bmV4dC1zaWduaW5nLXNlY3JldC10ZXN0";
const OTHER = "whsec_ZGV2LXNpZ25pbmctc2VjcmV0LWNoYW5nZS1tZQ==";
const ID = "evt_0123456789abcdef";
const body = JSON.stringify(events.deactivated("u1", 2));
const now = () => Math.floor(Date.now() / 1000);

async function headersFor(secrets: string[], ts = now(), id = ID, text = body): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((s) => sign(s, id, ts, text)));
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signatures.join(" ") };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  return (err as WebhookVerificationError).reason;
}

describe("sign: the Standard Webhooks scheme", () => {
  it("matches the published example vector", async () => {
    expect(await sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe(
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
  });

  it("agrees with the standardwebhooks and svix packages both ways", async () => {
    const ts = now();
    const headers = await headersFor([SECRET], ts);
    // Ours signs, theirs verify.
    expect(new StandardWebhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new SvixWebhook(SECRET).verify(body, headers)).not.toThrow();
    // Theirs sign, ours verify.
    const theirs = new StandardWebhook(SECRET).sign(ID, new Date(ts * 1000), body);
    const svix = new SvixWebhook(SECRET).sign(ID, new Date(ts * 1000), body);
    expect(theirs).toBe(headers["webhook-signature"]);
    expect(svix).toBe(headers["webhook-signature"]);
    const delivery = await verify(body, { ...headers, "webhook-signature": svix }, SECRET);
    expect(delivery).toMatchObject({ id: ID, timestamp: ts, event: JSON.parse(body) });
  });
});

describe("verify: genuine and fresh, or refused", () => {
  it("accepts a genuine delivery as a string, bytes or an ArrayBuffer, with Headers or a plain object in any case", async () => {
    const headers = await headersFor([SECRET]);
    const bytes = new TextEncoder().encode(body);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    for (const raw of [body, bytes, bytes.buffer]) {
      for (const h of [headers, new Headers(headers), upper]) {
        const d = await verify(raw, h, SECRET);
        expect(d.event?.type).toBe("user.deactivated");
        expect(d.id).toBe(ID);
      }
    }
  });

  it.each([
    { name: "a changed byte of the body", change: (h: Record<string, string>) => ({ h, text: body.replace('"u1"', '"u2"') }) },
    { name: "a space added to the body", change: (h: Record<string, string>) => ({ h, text: `${body} ` }) },
    { name: "another webhook-id", change: (h: Record<string, string>) => ({ h: { ...h, "webhook-id": "evt_other" }, text: body }) },
    {
      name: "another timestamp",
      change: (h: Record<string, string>) => ({ h: { ...h, "webhook-timestamp": String(Number(h["webhook-timestamp"]) - 1) }, text: body }),
    },
    {
      name: "a truncated signature",
      change: (h: Record<string, string>) => ({
        h: { ...h, "webhook-signature": (h["webhook-signature"] ?? "").slice(0, 20) },
        text: body,
      }),
    },
    {
      name: "a v1a signature only",
      change: (h: Record<string, string>) => ({
        h: { ...h, "webhook-signature": (h["webhook-signature"] ?? "").replace("v1,", "v1a,") },
        text: body,
      }),
    },
  ])("refuses $name", async ({ change }) => {
    const { h, text } = change(await headersFor([SECRET]));
    expect(await refusal(verify(text, h, SECRET))).toBe("no-matching-signature");
  });

  it("refuses the wrong secret, and accepts any one of several", async () => {
    const headers = await headersFor([SECRET]);
    expect(await refusal(verify(body, headers, OTHER))).toBe("no-matching-signature");
    expect(await refusal(verify(body, headers, [OTHER, NEXT]))).toBe("no-matching-signature");
    expect((await verify(body, headers, [OTHER, SECRET])).event?.data.id).toBe("u1");
  });

  it("a delivery signed with two secrets verifies with either (a rotation under way)", async () => {
    const headers = await headersFor([SECRET, NEXT]);
    for (const secrets of [SECRET, NEXT, [SECRET, NEXT], [NEXT, OTHER]]) {
      expect((await verify(body, headers, secrets)).id).toBe(ID);
    }
    expect(await refusal(verify(body, headers, OTHER))).toBe("no-matching-signature");
  });

  it.each([
    { name: "5 minutes and 1 second old", offset: -301, reason: "timestamp-too-old", tolerance: undefined },
    { name: "an hour old", offset: -3600, reason: "timestamp-too-old", tolerance: undefined },
    { name: "5 minutes and 1 second ahead", offset: 301, reason: "timestamp-too-new", tolerance: undefined },
    { name: "11 seconds old with a 10 s tolerance", offset: -11, reason: "timestamp-too-old", tolerance: 10 },
  ])("refuses a timestamp $name, even with a good signature", async ({ offset, reason, tolerance }) => {
    const ts = now() + offset;
    const options = tolerance === undefined ? {} : { toleranceSeconds: tolerance };
    expect(await refusal(verify(body, await headersFor([SECRET], ts), SECRET, options))).toBe(reason);
  });

  it("accepts a timestamp within the tolerance either way", async () => {
    for (const offset of [-299, 0, 299]) expect((await verify(body, await headersFor([SECRET], now() + offset), SECRET)).id).toBe(ID);
    const fixed = 1_800_000_000;
    const d = await verify(body, await headersFor([SECRET], fixed), SECRET, { now: () => fixed * 1000 + 100_000 });
    expect(d.timestamp).toBe(fixed);
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("refuses a delivery without %s", async (name) => {
    const headers = await headersFor([SECRET]);
    delete headers[name];
    expect(await refusal(verify(body, headers, SECRET))).toBe("missing-header");
  });

  it("refuses a timestamp that is not whole seconds", async () => {
    const headers = await headersFor([SECRET]);
    expect(await refusal(verify(body, { ...headers, "webhook-timestamp": "1.5e9" }, SECRET))).toBe("bad-timestamp");
  });

  it("an unusable or missing secret is a configuration error, not a refusal", async () => {
    const headers = await headersFor([SECRET]);
    for (const secrets of ["whsec_", "whsec_!!!", [], ["  "]]) {
      await expect(verify(body, headers, secrets)).rejects.toBeInstanceOf(SigningSecretError);
    }
  });

  it("a genuine body of a type this SDK does not know is no event (ignore it), one without an integer version is refused", async () => {
    const future = JSON.stringify({ type: "user.teleported", timestamp: "2026-12-01T10:00:00.000Z", data: { id: "u1", version: 3 } });
    const d = await verify(future, await headersFor([SECRET], now(), ID, future), SECRET);
    expect(d.event).toBeNull();
    expect(d.payload).toEqual(JSON.parse(future));
    for (const version of [1.5, "2", null, 0]) {
      const bad = JSON.stringify({ ...events.created("u1", 1), data: { ...events.created("u1", 1).data, version } });
      expect(await refusal(verify(bad, await headersFor([SECRET], now(), ID, bad), SECRET))).toBe("bad-body");
    }
    const notJson = "not json";
    expect(await refusal(verify(notJson, await headersFor([SECRET], now(), ID, notJson), SECRET))).toBe("bad-body");
  });
});
