import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { decodeSigningSecret, SigningSecretError, signWebhook } from "../../src/events/signing";

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
