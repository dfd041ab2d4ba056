import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { serviceKey } from "../../src/keys/service-key";

const sign = async (key: CryptoKey, text: string) =>
  new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text))).join(",");

describe("service keys", () => {
  it("are made once per purpose, kept in D1, and differ between purposes", async () => {
    const db = getDb(env.DB);
    const [a, b] = await Promise.all([serviceKey(db, "cursor"), serviceKey(db, "cursor")]);
    expect(await sign(a, "x")).toBe(await sign(b, "x"));
    const other = await serviceKey(db, "oauth-access-token");
    expect(await sign(other, "x")).not.toBe(await sign(a, "x"));
    const { results } = await env.DB.prepare("SELECT purpose, length(secret) AS n FROM service_keys ORDER BY purpose").all();
    expect(results).toEqual([
      { purpose: "cursor", n: 44 },
      { purpose: "oauth-access-token", n: 44 },
    ]);
  });

  it("a key another isolate stored first is the one every isolate signs with", async () => {
    // The row is what every isolate reads: a verifier elsewhere gets the same bytes.
    const db = getDb(env.DB);
    const key = await serviceKey(db, "cursor");
    const { results } = await env.DB.prepare("SELECT secret FROM service_keys WHERE purpose = 'cursor'").all<{ secret: string }>();
    const raw = Uint8Array.from(atob(results[0]?.secret ?? ""), (ch) => ch.charCodeAt(0));
    const imported = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    expect(await sign(imported, "y")).toBe(await sign(key, "y"));
  });
});
