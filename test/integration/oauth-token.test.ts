import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, BASE, expectStatus, fetchWorker, ORIGIN, scim, setSettings } from "../helpers";
import { accessToken, expectOAuthError, freshAddress, secretClient, TOKEN_URL, tokenRequest } from "../oauth";

/**
 * The token endpoint with secret clients (RFC 6749 §4.4, §2.3.1, §5.1, §5.2): what Entra's
 * "OAuth2 client credentials grant" provisioning mode sends, and every way a request is refused.
 */

const grant = { grant_type: "client_credentials" };

beforeAll(async () => {
  await setSettings();
});

describe("RFC 8414 metadata", () => {
  it("names the issuer, the token endpoint, the grant, the client authentication methods and the assertion algorithms", async () => {
    const res = await fetchWorker(`${ORIGIN}/.well-known/oauth-authorization-server`);
    const body = await expectStatus(res, 200);
    expect(body).toEqual({
      issuer: ORIGIN,
      token_endpoint: TOKEN_URL,
      grant_types_supported: ["client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(["RS256", "ES256", "PS256"]),
      scopes_supported: ["scim"],
    });
    const algs = body.token_endpoint_auth_signing_alg_values_supported as string[];
    // RFC 8414 §2: "none" MUST NOT be listed; no symmetric algorithm is accepted either.
    expect(algs.some((a) => a === "none" || a.startsWith("HS"))).toBe(false);
  });
});

describe("client credentials with a client secret", () => {
  it("client_secret_basic: an access token (Bearer, 60 minutes, scope scim), never cached, that SCIM accepts", async () => {
    const c = await secretClient("Entra basic");
    const res = await tokenRequest(grant, { basic: [c.clientId, c.secret] });
    const body = await expectStatus(res, 200);
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "scope", "token_type"]);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "scim" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("pragma")).toBe("no-cache");
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: String(body.access_token) }), 200);
  });

  it("client_secret_post, with and without scope=scim", async () => {
    const c = await secretClient("Entra post");
    for (const scope of [{}, { scope: "scim" }] as Record<string, string>[]) {
      const res = await tokenRequest({ ...grant, ...scope, client_id: c.clientId, client_secret: c.secret });
      const body = await expectStatus(res, 200);
      expect(body.scope).toBe("scim");
      await expectStatus(await scim("GET", "/ServiceProviderConfig", undefined, { token: String(body.access_token) }), 200);
    }
  });

  it("the lifetime follows oauthAccessTokenMinutes, and a token never outlives its secret", async () => {
    const c = await secretClient("Lifetime");
    await setSettings({ oauthAccessTokenMinutes: 360 });
    try {
      const long = await expectStatus(await tokenRequest({ ...grant, client_id: c.clientId, client_secret: c.secret }), 200);
      expect(long.expires_in).toBe(360 * 60);
      const soon = new Date(Date.now() + 10 * 60_000).toISOString();
      await env.DB.prepare("UPDATE oauth_client_secrets SET expires_at = ? WHERE id = ?").bind(soon, c.secretId).run();
      const capped = await expectStatus(await tokenRequest({ ...grant, client_id: c.clientId, client_secret: c.secret }), 200);
      expect(capped.expires_in).toBeGreaterThan(8 * 60);
      expect(capped.expires_in).toBeLessThanOrEqual(10 * 60);
    } finally {
      await setSettings({ oauthAccessTokenMinutes: 60 });
    }
  });

  it("several secrets of one client work at once (rotation), each recorded as itself", async () => {
    const c = await secretClient("Two secrets");
    const second = await expectStatus(await admin("POST", `/oauth/clients/${c.id}/secrets`, { expiresInDays: 730 }), 201);
    await accessToken(c.clientId, c.secret);
    await accessToken(c.clientId, String(second.secret));
  });
});

describe("refusals (RFC 6749 §5.2)", () => {
  let c: Awaited<ReturnType<typeof secretClient>>;
  beforeAll(async () => {
    c = await secretClient("Refusals");
  });

  it("a wrong secret and an unknown client_id: 401 invalid_client with a Basic challenge and the same words", async () => {
    const wrong = await tokenRequest(grant, { basic: [c.clientId, `${c.secret}x`] });
    const a = await expectOAuthError(wrong, 401, "invalid_client");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /);
    const unknown = await tokenRequest({ ...grant, client_id: "scim-nobody", client_secret: c.secret });
    const b = await expectOAuthError(unknown, 401, "invalid_client");
    expect(b.error_description).toBe(a.error_description);
    expect(JSON.stringify(a) + JSON.stringify(b)).not.toContain(c.secret);
  });

  it("an expired secret: 401 invalid_client that says it expired and where to make a new one", async () => {
    const x = await secretClient("Expired");
    await env.DB.prepare("UPDATE oauth_client_secrets SET expires_at = ? WHERE id = ?").bind("2020-01-01T00:00:00.000Z", x.secretId).run();
    const body = await expectOAuthError(
      await tokenRequest({ ...grant, client_id: x.clientId, client_secret: x.secret }),
      401,
      "invalid_client",
    );
    expect(body.error_description).toMatch(/expired on 2020-01-01.*admin page/);
  });

  it("a deleted client: no new token, and the tokens it had stop at once", async () => {
    const x = await secretClient("Deleted");
    const token = await accessToken(x.clientId, x.secret);
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token }), 200);
    await expectStatus(await admin("DELETE", `/oauth/clients/${x.id}`), 204);
    await expectOAuthError(await tokenRequest({ ...grant, client_id: x.clientId, client_secret: x.secret }), 401, "invalid_client");
    const refused = await scim("GET", "/Users?count=1", undefined, { token });
    expect(refused.status).toBe(401);
  });

  it("a scope other than scim: 400 invalid_scope", async () => {
    for (const scope of ["scim.readwrite", "scim openid", "admin"]) {
      const body = await expectOAuthError(
        await tokenRequest({ ...grant, scope, client_id: c.clientId, client_secret: c.secret }),
        400,
        "invalid_scope",
      );
      expect(body.error_description).toMatch(/only scope is 'scim'/);
    }
  });

  const malformed: { name: string; params: Record<string, string>; status: number; error: string; detail: RegExp }[] = [
    { name: "no grant_type", params: {}, status: 400, error: "invalid_request", detail: /grant_type is missing/ },
    {
      name: "the password grant",
      params: { grant_type: "password" },
      status: 400,
      error: "unsupported_grant_type",
      detail: /client_credentials/,
    },
    {
      name: "the authorization code grant",
      params: { grant_type: "authorization_code", code: "x" },
      status: 400,
      error: "unsupported_grant_type",
      detail: /client_credentials/,
    },
    {
      name: "no client authentication",
      params: { grant_type: "client_credentials" },
      status: 401,
      error: "invalid_client",
      detail: /No client authentication/,
    },
    {
      name: "a secret without its client_id",
      params: { grant_type: "client_credentials", client_secret: "x" },
      status: 400,
      error: "invalid_request",
      detail: /needs its client_id/,
    },
    {
      name: "a secret and an assertion together",
      params: {
        grant_type: "client_credentials",
        client_id: "a",
        client_secret: "x",
        client_assertion: "y",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      },
      status: 400,
      error: "invalid_request",
      detail: /one client authentication method/,
    },
    {
      name: "another client_assertion_type",
      params: {
        grant_type: "client_credentials",
        client_assertion: "y",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
      },
      status: 401,
      error: "invalid_client",
      detail: /jwt-bearer/,
    },
  ];
  for (const m of malformed) {
    it(`${m.name}: ${m.status} ${m.error}`, async () => {
      const body = await expectOAuthError(await tokenRequest(m.params), m.status, m.error);
      expect(body.error_description).toMatch(m.detail);
    });
  }

  it("a repeated parameter, a JSON body, a GET and a Bearer header are refused with what to send instead", async () => {
    const repeated = await fetchWorker(TOKEN_URL, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": freshAddress() },
      body: `grant_type=client_credentials&client_id=${c.clientId}&client_secret=${c.secret}&client_id=other`,
    });
    expect((await expectOAuthError(repeated, 400, "invalid_request")).error_description).toMatch(/'client_id' is sent more than once/);
    const json = await tokenRequest({}, { headers: { "Content-Type": "application/json" } });
    expect((await expectOAuthError(json, 400, "invalid_request")).error_description).toMatch(/x-www-form-urlencoded/);
    const get = await fetchWorker(TOKEN_URL, { headers: { "CF-Connecting-IP": freshAddress() } });
    await expectOAuthError(get, 405, "invalid_request");
    expect(get.headers.get("allow")).toBe("POST");
    const bearer = await tokenRequest(grant, { headers: { Authorization: "Bearer something" } });
    await expectOAuthError(bearer, 400, "invalid_request");
  });

  it("a body over 32 KiB is refused before it is read whole", async () => {
    const res = await tokenRequest({ ...grant, client_id: c.clientId, client_secret: c.secret, padding: "x".repeat(40_000) });
    expect((await expectOAuthError(res, 400, "invalid_request")).error_description).toMatch(/larger than 32768 bytes/);
  });

  it("a federated client cannot use a secret, and a secret client cannot use an assertion", async () => {
    const body = await expectOAuthError(
      await tokenRequest({
        ...grant,
        client_id: c.clientId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: "a.b.c",
      }),
      401,
      "invalid_client",
    );
    expect(body.error_description).toMatch(/client_secret, not a client_assertion/);
  });
});

describe("rate limits (OAUTH_TOKEN_RATE_LIMITER)", () => {
  const tiny = () => (env as unknown as { TEST_TINY_RATE_LIMITER: RateLimit }).TEST_TINY_RATE_LIMITER;
  /** The tiny limiter (3 per 10 s) counts in fixed windows: start where the next requests fall in one. */
  async function startOfWindow(): Promise<void> {
    const left = 10_000 - (Date.now() % 10_000);
    if (left < 4_000) await new Promise((r) => setTimeout(r, left + 50));
  }

  it("per address: past the limit, 429 slow_down with Retry-After, whatever the credentials", async () => {
    const c = await secretClient("Rate by address");
    await startOfWindow();
    const address = freshAddress();
    const call = () =>
      tokenRequest({ ...grant, client_id: c.clientId, client_secret: c.secret }, { address, env: { OAUTH_TOKEN_RATE_LIMITER: tiny() } });
    await expectStatus(await call(), 200);
    await expectOAuthError(
      await tokenRequest({ ...grant, client_id: c.clientId, client_secret: "bad" }, { address, env: { OAUTH_TOKEN_RATE_LIMITER: tiny() } }),
      401,
      "invalid_client",
    );
    await expectStatus(await call(), 200);
    const over = await call();
    await expectOAuthError(over, 429, "slow_down");
    expect(over.headers.get("retry-after")).toBe("60");
  });

  it("per client: a client that asks for tokens too often from many addresses is slowed down too", async () => {
    const c = await secretClient("Rate by client");
    await startOfWindow();
    const call = () =>
      tokenRequest({ ...grant, client_id: c.clientId, client_secret: c.secret }, { env: { OAUTH_TOKEN_RATE_LIMITER: tiny() } });
    // Each call from a new address: 1 per address, and 1 more for the client each time.
    await expectStatus(await call(), 200);
    await expectStatus(await call(), 200);
    await expectStatus(await call(), 200);
    const body = await expectOAuthError(await call(), 429, "slow_down");
    expect(body.error_description).toMatch(/OAuth client 'Rate by client'/);
  });
});

it("an access token in the query string is not accepted, and never logged", async () => {
  const c = await secretClient("Query");
  const token = await accessToken(c.clientId, c.secret);
  const res = await fetchWorker(`${BASE}/Users?access_token=${encodeURIComponent(token)}`);
  expect(res.status).toBe(401);
});
