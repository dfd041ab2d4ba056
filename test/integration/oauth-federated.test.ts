import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, expectStatus, scim, setSettings } from "../helpers";
import { entraStandIn, expectOAuthError, JWT_BEARER, tokenRequest } from "../oauth";

/**
 * Federated clients (Entra workload identity federation, RFC 7523 §2.2): the client proves itself
 * with an assertion signed by a key of its JWKS. Assertions are signed here with a local RSA key
 * whose JWKS a stand-in serves at Microsoft's URL (test/oauth.ts): the Worker's real jose path.
 */

const TENANT = "11111111-2222-4333-8444-555555555555";
const OTHER_TENANT = "99999999-8888-4777-8666-555555555555";
const APP = "b5ba7a93-4452-4522-aeb4-a2b5da870c16";
const SUBJECT = "d2f8ee76-c549-45b8-a143-f5b640669704";
// As Entra's workload identity page shows it: a scope; its tokens carry api://<app id>.
const AUDIENCE = `api://${APP}/.default`;
const base = { sub: SUBJECT, aud: `api://${APP}` };

let entra: Awaited<ReturnType<typeof entraStandIn>>;
let clientId = "";
let id = "";

const withAssertion = (assertion: string, extra: Record<string, string> = {}) =>
  tokenRequest({
    grant_type: "client_credentials",
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    scope: "scim",
    ...extra,
  });

beforeAll(async () => {
  await setSettings();
  entra = await entraStandIn();
  const created = await expectStatus(
    await admin("POST", "/oauth/clients", { name: "Entra WIF", type: "federated", tenantId: TENANT, subject: SUBJECT, audience: AUDIENCE }),
    201,
  );
  clientId = String(created.clientId);
  id = String(created.id);
  // The Entra preset filled in the issuer and the JWKS URL from the tenant id.
  expect(created.federation).toEqual({
    issuer: entra.issuer(TENANT),
    jwksUri: entra.keysUrl(TENANT),
    subject: SUBJECT,
    audience: AUDIENCE,
    tenantId: TENANT,
  });
});
afterAll(() => entra.restore());

describe("a federated client's assertion", () => {
  it("the right one is exchanged for an access token that SCIM accepts, recorded as the client's assertion", async () => {
    const res = await withAssertion(await entra.sign(TENANT, base), { client_id: clientId });
    const body = await expectStatus(res, 200);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "scim" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const requestId = `wif-${crypto.randomUUID()}`;
    await expectStatus(
      await scim("GET", "/Users?count=1", undefined, { token: String(body.access_token), headers: { "cf-ray": requestId } }),
      200,
    );
    await expect
      .poll(
        async () =>
          (
            await env.DB.prepare("SELECT credential FROM provisioning_log WHERE request_id = ?")
              .bind(requestId)
              .first<{ credential: string }>()
          )?.credential,
      )
      .toBe(`oauth:${id}:assertion`);
    expect(entra.fetched).toContain(entra.keysUrl(TENANT));
  });

  it("without client_id, the client is found by the assertion's issuer and subject", async () => {
    await expectStatus(await withAssertion(await entra.sign(TENANT, base)), 200);
  });

  it("an audience of api://<app id>/.default (the scope Entra's page shows) is accepted as written too", async () => {
    await expectStatus(await withAssertion(await entra.sign(TENANT, base, { aud: AUDIENCE }), { client_id: clientId }), 200);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const refused: { name: string; make: () => Promise<string>; detail: RegExp }[] = [
    {
      name: "a wrong issuer",
      make: () => entra.sign(TENANT, base, { iss: "https://login.microsoftonline.com/common/v2.0" }),
      detail: /issuer/,
    },
    { name: "a wrong audience", make: () => entra.sign(TENANT, base, { aud: "api://someone-else" }), detail: /audience/ },
    { name: "a wrong subject", make: () => entra.sign(TENANT, base, { sub: "another-workload" }), detail: /subject/ },
    // Microsoft signs every tenant's tokens with the same keys: the key alone proves nothing about the tenant.
    { name: "another tenant's assertion (its issuer and tid)", make: () => entra.sign(OTHER_TENANT, base), detail: /issuer/ },
    {
      name: "this tenant's issuer with another tenant's tid",
      make: () => entra.sign(TENANT, base, { tid: OTHER_TENANT }),
      detail: /another tenant/,
    },
    { name: "an expired assertion", make: () => entra.sign(TENANT, base, { exp: now() - 3600 }), detail: /expired/ },
    { name: "an assertion not valid yet", make: () => entra.sign(TENANT, base, { nbf: now() + 3600 }), detail: /not valid yet/ },
    { name: "an exp more than a day away", make: () => entra.sign(TENANT, base, { exp: now() + 3 * 86400 }), detail: /more than a day/ },
    {
      name: "alg: none",
      make: async () => {
        const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        const [, payload] = (await entra.sign(TENANT, base)).split(".");
        return `${b64({ alg: "none", kid: "entra-key", typ: "JWT" })}.${payload}.`;
      },
      detail: /must be signed with one of RS256/,
    },
    {
      name: "HS256 signed with the public key as the secret",
      make: async () => {
        const { SignJWT } = await import("jose");
        const secret = new TextEncoder().encode(JSON.stringify(entra.jwk));
        return new SignJWT({ tid: TENANT })
          .setProtectedHeader({ alg: "HS256", kid: "entra-key" })
          .setIssuer(entra.issuer(TENANT))
          .setSubject(SUBJECT)
          .setAudience(base.aud)
          .setExpirationTime("10m")
          .sign(secret);
      },
      detail: /must be signed with one of RS256/,
    },
    {
      name: "an unknown kid",
      make: () => entra.sign(TENANT, base, {}, { key: entra.foreignKey, kid: "not-microsofts" }),
      detail: /not signed by a key of the client's JWKS/,
    },
    {
      name: "Microsoft's kid on another key's signature",
      make: () => entra.sign(TENANT, base, {}, { key: entra.foreignKey }),
      detail: /signature is not valid/,
    },
    { name: "not a JWT at all", make: async () => "not.a.jwt", detail: /not a valid signed JWT/ },
  ];
  for (const r of refused) {
    it(`${r.name}: 401 invalid_client that says which check failed`, async () => {
      const body = await expectOAuthError(await withAssertion(await r.make(), { client_id: clientId }), 401, "invalid_client");
      expect(body.error_description).toMatch(r.detail);
      // What the client was configured with stays out of the answer (it is in the admin's log).
      expect(String(body.error_description)).not.toContain(SUBJECT);
    });
  }

  it("an assertion that no client accepts (no client_id, unknown issuer and subject): 401 invalid_client", async () => {
    await expectOAuthError(await withAssertion(await entra.sign(OTHER_TENANT, { sub: "nobody", aud: base.aud })), 401, "invalid_client");
  });
});

describe("the client's keys", () => {
  it("keys that cannot be fetched: 503 temporarily_unavailable with Retry-After, not a refusal", async () => {
    const tenant = "22222222-2222-4222-8222-222222222222";
    entra.down.add(entra.keysUrl(tenant));
    const c = await expectStatus(
      await admin("POST", "/oauth/clients", {
        name: "Keys down",
        type: "federated",
        tenantId: tenant,
        subject: SUBJECT,
        audience: AUDIENCE,
      }),
      201,
    );
    const res = await withAssertion(await entra.sign(tenant, base), { client_id: String(c.clientId) });
    await expectOAuthError(res, 503, "temporarily_unavailable");
    expect(res.headers.get("retry-after")).toBe("30");
  });

  it("a JWKS URL that redirects is not followed", async () => {
    const tenant = "33333333-3333-4333-8333-333333333333";
    entra.redirects.add(entra.keysUrl(tenant));
    const c = await expectStatus(
      await admin("POST", "/oauth/clients", {
        name: "Keys moved",
        type: "federated",
        tenantId: tenant,
        subject: SUBJECT,
        audience: AUDIENCE,
      }),
      201,
    );
    const before = entra.fetched.length;
    await expectOAuthError(
      await withAssertion(await entra.sign(tenant, base), { client_id: String(c.clientId) }),
      503,
      "temporarily_unavailable",
    );
    expect(entra.fetched.slice(before)).toEqual([entra.keysUrl(tenant)]);
  });

  it("the keys are fetched once per isolate, not once per token request", async () => {
    await expectStatus(await withAssertion(await entra.sign(TENANT, base), { client_id: clientId }), 200);
    const before = entra.fetched.length;
    for (let i = 0; i < 3; i++) await expectStatus(await withAssertion(await entra.sign(TENANT, base), { client_id: clientId }), 200);
    expect(entra.fetched.length).toBe(before);
  });
});

it("a federated client has no secrets", async () => {
  const body = await expectStatus(await admin("POST", `/oauth/clients/${id}/secrets`, {}), 409);
  expect(body.detail).toMatch(/federated/);
});
