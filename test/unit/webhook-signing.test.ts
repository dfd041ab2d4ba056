import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  decodeSigningSecret,
  SigningSecretError,
  signatureHeader,
  signingSecretState,
  signingSecrets,
  signWebhook,
} from "../../src/events/signing";

describe("signWebhook (Standard Webhooks v1 HMAC-SHA256)", () => {
  it("matches the published example vector", async () => {
    // The example from the Standard Webhooks / Svix documentation.
    const signature = await signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  const secrets = ["whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5", "whsec_ZGV2LXNpZ25pbmctc2VjcmV0LWNoYW5nZS1tZQ=="];
  const bodies = ['{"type":"user.created","data":{"id":"u1","version":1}}', '{"x":"ünïcödé ✓"}', "{}"];
  for (const secret of secrets) {
    for (const body of bodies) {
      it(`verifies with the standardwebhooks package: ${secret.slice(0, 12)}… ${body.slice(0, 20)}`, async () => {
        const id = "evt_0123";
        const ts = Math.floor(Date.now() / 1000);
        const signature = await signWebhook(secret, id, ts, body);
        const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature };
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
        // A changed byte, id or timestamp must not verify.
        expect(() => new Webhook(secret).verify(body.replace("}", " }"), headers)).toThrow();
        expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "evt_other" })).toThrow();
        expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-timestamp": String(ts - 1) })).toThrow();
      });
    }
  }
});

describe("decodeSigningSecret", () => {
  it("strips whsec_ and base64-decodes", () => {
    expect(new TextDecoder().decode(decodeSigningSecret("whsec_dGVzdA=="))).toBe("test");
    expect(new TextDecoder().decode(decodeSigningSecret("dGVzdA=="))).toBe("test");
  });
  it.each(["whsec_", "whsec_!!!not base64!!!", ""])("rejects %j", (secret) => {
    expect(() => decodeSigningSecret(secret)).toThrow(SigningSecretError);
  });
});

describe("signatureHeader: one v1 signature per secret, for a rotation", () => {
  const current = "whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5";
  const next = "whsec_bmV4dC1zaWduaW5nLXNlY3JldC10ZXN0";
  const body = '{"type":"user.deactivated","data":{"id":"u1","version":2}}';
  const id = "evt_rotation";

  it("with both set, each secret alone verifies the message (standardwebhooks), a third does not", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const header = await signatureHeader([current, next], id, ts, body);
    expect(header.split(" ")).toEqual([await signWebhook(current, id, ts, body), await signWebhook(next, id, ts, body)]);
    const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": header };
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(next).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook("whsec_ZGV2LXNpZ25pbmctc2VjcmV0LWNoYW5nZS1tZQ==").verify(body, headers)).toThrow();
  });

  it.each([
    { secrets: [current], signatures: 1 },
    { secrets: [current, next], signatures: 2 },
    // Mid-swap both names may hold the same secret: one signature, not two copies.
    { secrets: [next, next], signatures: 1 },
  ])("$signatures signature(s) for $secrets.length secret(s)", async ({ secrets, signatures }) => {
    const header = await signatureHeader(secrets, id, 1_700_000_000, body);
    expect(header.split(" ")).toHaveLength(signatures);
    for (const part of header.split(" ")) expect(part).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });
});

describe("signingSecrets: which are set, by name only", () => {
  it.each([
    { value: undefined, state: "unset" },
    { value: "  ", state: "unset" },
    { value: "whsec_dGVzdA==", state: "set" },
    { value: "whsec_!!!", state: "invalid" },
  ] as const)("$value is $state", ({ value, state }) => {
    expect(signingSecretState(value)).toBe(state);
  });

  it("names both secrets and never carries a value", () => {
    const secret = "whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5";
    const answer = signingSecrets({ MAIN_SITE_SIGNING_SECRET: secret });
    expect(answer).toEqual([
      { name: "MAIN_SITE_SIGNING_SECRET", state: "set" },
      { name: "MAIN_SITE_SIGNING_SECRET_NEXT", state: "unset" },
    ]);
    expect(JSON.stringify(answer)).not.toContain(secret.slice(6));
  });
});
