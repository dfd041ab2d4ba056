import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, admin, expectStatus, fetchWorker, ORIGIN } from "../helpers";

/**
 * Admin sign-in through Cloudflare Access (SPEC §10), through the real jose verification: tokens
 * signed here with a test RSA key, the team's JWKS served at <ACCESS_TEAM_DOMAIN>/cdn-cgi/access/certs
 * by a stand-in for Cloudflare's endpoint (the Worker's own fetch, nothing else replaced).
 * vitest.config.ts sets ACCESS_TEAM_DOMAIN=https://access.test and ACCESS_AUD=test-access-aud.
 */

const TEAM = env.ACCESS_TEAM_DOMAIN;
const AUD = env.ACCESS_AUD;
const CERTS = `${TEAM}/cdn-cgi/access/certs`;

let teamKey: CryptoKey;
let foreignKey: CryptoKey;
let jwks: { keys: JWK[] } = { keys: [] };
let certsUp = true;
let certsFetches = 0;

beforeAll(async () => {
  const team = await generateKeyPair("RS256", { extractable: true });
  const foreign = await generateKeyPair("RS256", { extractable: true });
  teamKey = team.privateKey;
  foreignKey = foreign.privateKey;
  jwks = { keys: [{ ...(await exportJWK(team.publicKey)), kid: "team-key", alg: "RS256", use: "sig" }] };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new Request(input, init).url;
    if (url !== CERTS) return realFetch(input, init);
    certsFetches++;
    return certsUp ? Response.json(jwks) : new Response("down", { status: 503 });
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

interface Claims {
  email?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  common_name?: string;
}

async function accessToken(claims: Claims = {}, opts: { key?: CryptoKey; kid?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { email: "carol@example.com", ...claims };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: opts.kid ?? "team-key" })
    .setIssuedAt(now - 10)
    .setIssuer(claims.iss ?? TEAM)
    .setAudience(claims.aud ?? AUD)
    .setExpirationTime(claims.exp ?? now + 600);
  return jwt.sign(opts.key ?? teamKey);
}

let client = 0;
/** Each call its own client address, so the sign-in throttle of one test never meets another's. */
function viaAccess(path: string, jwt: string, init: RequestInit = {}, headers: Record<string, string> = {}): Promise<Response> {
  client++;
  return fetchWorker(`${ORIGIN}/admin/api${path}`, {
    ...init,
    headers: { "Cf-Access-Jwt-Assertion": jwt, "CF-Connecting-IP": `198.51.100.${client}`, ...headers },
  });
}

describe("admin sign-in with Cloudflare Access", () => {
  it("a valid Access token signs the admin in as its email, with no admin token", async () => {
    const session = await expectStatus(await viaAccess("/session", await accessToken()), 200);
    expect(session).toEqual({ actor: "carol@example.com", via: "access" });
    await expectStatus(await viaAccess("/settings", await accessToken()), 200);
  });

  it("a settings change made through Access is logged with the person's email", async () => {
    const res = await viaAccess(
      "/settings",
      await accessToken({ email: "dave@example.com" }),
      {
        method: "PUT",
        body: JSON.stringify({ dryRun: false }),
      },
      { "Content-Type": "application/json" },
    );
    await expectStatus(res, 200);
    const row = await env.DB.prepare(
      "SELECT actor FROM provisioning_log WHERE resource_type = 'Settings' ORDER BY seq DESC LIMIT 1",
    ).first<{
      actor: string;
    }>();
    expect(row?.actor).toBe("dave@example.com");
  });

  it("the keys are fetched once and kept (per isolate), not once per request", async () => {
    const before = certsFetches;
    for (let i = 0; i < 5; i++) await expectStatus(await viaAccess("/session", await accessToken()), 200);
    expect(certsFetches - before).toBe(0);
  });

  const refusals = [
    { name: "another application's audience", claims: { aud: "someone-elses-aud" }, detail: /another Access application.*ACCESS_AUD/ },
    { name: "an expired token", claims: { exp: Math.floor(Date.now() / 1000) - 3600 }, detail: /expired/ },
    { name: "another team's issuer", claims: { iss: "https://evil.cloudflareaccess.com" }, detail: /not issued by https:\/\/access\.test/ },
    { name: "a token that names nobody", claims: { email: "" }, detail: /"email" claim is missing/ },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with 401 and a clear detail`, async () => {
      const res = await viaAccess("/session", await accessToken(r.claims));
      const body = await expectStatus(res, 401);
      expect(body.error).toBe("access_refused");
      expect(body.detail).toMatch(r.detail);
    });
  }

  it("refuses a token signed by a key that is not the team's, and one that is not a JWT", async () => {
    const foreign = await expectStatus(await viaAccess("/session", await accessToken({}, { key: foreignKey })), 401);
    expect(foreign.detail).toMatch(/not signed by a key of https:\/\/access\.test\/cdn-cgi\/access\/certs/);
    const unknownKid = await expectStatus(await viaAccess("/session", await accessToken({}, { key: foreignKey, kid: "other" })), 401);
    expect(unknownKid.error).toBe("access_refused");
    const garbage = await expectStatus(await viaAccess("/session", "not.a.jwt"), 401);
    expect(garbage.detail).toMatch(/not a valid Cloudflare Access token/);
  });

  it("refuses a token signed with another algorithm (HS256 with the public key as secret)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const hs = await new SignJWT({ email: "mallory@example.com" })
      .setProtectedHeader({ alg: "HS256", kid: "team-key" })
      .setIssuer(TEAM)
      .setAudience(AUD)
      .setExpirationTime("10m")
      .sign(secret);
    const body = await expectStatus(await viaAccess("/session", hs), 401);
    expect(body.detail).toMatch(/RS256/);
  });

  it("with no Access header and no token: 401 that says how to sign in", async () => {
    const body = await expectStatus(await admin("GET", "/session", undefined, null), 401);
    expect(body.detail).toMatch(/Cloudflare Access.*ADMIN_TOKEN/);
  });

  it("the admin token keeps working, for scripts, and is logged as the admin token", async () => {
    expect(await expectStatus(await admin("GET", "/session"), 200)).toEqual({ actor: "admin token", via: "token" });
    await expectStatus(await admin("PUT", "/settings", { dryRun: false }), 200);
    const row = await env.DB.prepare(
      "SELECT actor FROM provisioning_log WHERE resource_type = 'Settings' ORDER BY seq DESC LIMIT 1",
    ).first<{
      actor: string;
    }>();
    expect(row?.actor).toBe("admin token");
  });

  it("a wrong admin token is refused even beside a valid Access token", async () => {
    const res = await viaAccess("/session", await accessToken(), {}, { Authorization: "Bearer wrong-token" });
    expect((await expectStatus(res, 401)).detail).toMatch(/admin token is wrong/);
  });

  it("the team's keys unreachable: 503 with Retry-After, not a refusal", async () => {
    const token = await accessToken({ exp: Math.floor(Date.now() / 1000) + 3600 });
    certsUp = false;
    // Past jose's 10 minutes the kept keys are stale: the next token makes it fetch them again.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    try {
      const res = await viaAccess("/session", token);
      const body = await expectStatus(res, 503);
      expect(body.error).toBe("access_unavailable");
      expect(res.headers.get("retry-after")).toBe("30");
    } finally {
      certsUp = true;
      vi.useRealTimers();
    }
    await expectStatus(await viaAccess("/session", await accessToken()), 200);
  });
});

describe("refused admin sign-ins are throttled per client address", () => {
  const from = (ip: string, token: string) =>
    fetchWorker(`${ORIGIN}/admin/api/session`, { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip } });

  it("after 10 wrong tokens, 429 with Retry-After for wrong ones from that address; the right token still signs in there", async () => {
    const ip = "203.0.113.77";
    for (let i = 0; i < 10; i++) expect((await from(ip, `guess-${i}`)).status).toBe(401);
    for (const token of ["guess-11", "", "guess-12"]) {
      const res = await from(ip, token);
      const body = await expectStatus(res, 429);
      expect(body.error).toBe("too_many_attempts");
      expect(body.detail).toMatch(/try again in \d+ seconds/);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(300);
      // A neighbour's guesses never lock the admins out: the right token is let in, every time.
      await expectStatus(await from(ip, ADMIN_TOKEN), 200);
    }
    await expectStatus(await from("203.0.113.78", ADMIN_TOKEN), 200);
  });

  it("a neighbour in the same IPv6 /64 cannot lock the admin out either, by token or through Access", async () => {
    for (let i = 0; i < 12; i++) await from(`2001:db8:77:1::${(i + 1).toString(16)}`, `guess-${i}`);
    expect((await from("2001:db8:77:1::ffff", "guess-x")).status).toBe(429);
    await expectStatus(await from("2001:db8:77:1::ab", ADMIN_TOKEN), 200);
    const session = await fetchWorker(`${ORIGIN}/admin/api/session`, {
      headers: { "CF-Connecting-IP": "2001:db8:77:1::ac", "Cf-Access-Jwt-Assertion": await accessToken() },
    });
    expect(await expectStatus(session, 200)).toEqual({ actor: "carol@example.com", via: "access" });
  });

  it("refused Access tokens count too; requests with no credential at all do not", async () => {
    const ip = "203.0.113.90";
    const none = () => fetchWorker(`${ORIGIN}/admin/api/session`, { headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < 15; i++) expect((await none()).status).toBe(401);
    const expired = await accessToken({ exp: Math.floor(Date.now() / 1000) - 60 });
    for (let i = 0; i < 10; i++) {
      const res = await fetchWorker(`${ORIGIN}/admin/api/session`, {
        headers: { "CF-Connecting-IP": ip, "Cf-Access-Jwt-Assertion": expired },
      });
      expect(res.status).toBe(401);
    }
    expect((await from(ip, "guess")).status).toBe(429);
    await expectStatus(await from(ip, ADMIN_TOKEN), 200);
  });
});
