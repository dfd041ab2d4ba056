import { describe, expect, it } from "vitest";
import { type AccessClaims, looksLikeAccessToken, mintAccessToken, readAccessToken } from "../../src/oauth/access-token";

/** The signed access tokens: what reads back, what is refused, and that only a signed one is called expired. */

const key = () =>
  crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
const NOW = 1_800_000_000;
const claims: AccessClaims = { c: "oc_client", k: "ocs_secret", iat: NOW - 60, exp: NOW + 3600 };

describe("access tokens", () => {
  it("read back with their claims while valid; look like this service's tokens", async () => {
    const k = await key();
    const token = await mintAccessToken(k, claims);
    expect(token).toMatch(/^scimat1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(looksLikeAccessToken(token)).toBe(true);
    expect(await readAccessToken(k, token, NOW)).toEqual({ ok: true, claims });
  });

  it("expire at exp (not a second later)", async () => {
    const k = await key();
    const token = await mintAccessToken(k, claims);
    expect(await readAccessToken(k, token, claims.exp - 1)).toMatchObject({ ok: true });
    expect(await readAccessToken(k, token, claims.exp)).toEqual({ ok: false, reason: "expired" });
  });

  it.each([
    { name: "another key's token", make: async (_k: CryptoKey) => mintAccessToken(await key(), claims) },
    {
      name: "changed claims with the old signature",
      make: async (k: CryptoKey) => {
        const [p, , s] = (await mintAccessToken(k, claims)).split(".");
        const forged = btoa(JSON.stringify({ ...claims, c: "oc_admin" }))
          .replace(/\+/g, "-")
          .replace(/\//g, "_")
          .replace(/=+$/, "");
        return `${p}.${forged}.${s}`;
      },
    },
    { name: "an expired token re-signed by someone else", make: async () => mintAccessToken(await key(), { ...claims, exp: NOW - 10 }) },
    { name: "another prefix", make: async (k: CryptoKey) => (await mintAccessToken(k, claims)).replace(/^scimat1/, "scimat2") },
    { name: "a signature that is not base64url", make: async (k: CryptoKey) => `${(await mintAccessToken(k, claims)).slice(0, -3)}+/=` },
    { name: "four parts", make: async (k: CryptoKey) => `${await mintAccessToken(k, claims)}.x` },
    { name: "a static token", make: async () => "dev-scim-token-change-me" },
  ])("refuse $name as malformed", async ({ make }) => {
    const k = await key();
    expect(await readAccessToken(k, await make(k), NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("a signed payload that is not the claims is malformed", async () => {
    const k = await key();
    const body = `scimat1.${btoa(JSON.stringify({ c: "x" })).replace(/=+$/, "")}`;
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(body)));
    const token = `${body}.${btoa(String.fromCharCode(...sig))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "")}`;
    expect(await readAccessToken(k, token, NOW)).toEqual({ ok: false, reason: "malformed" });
  });
});
