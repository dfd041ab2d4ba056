import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_CLIENTS, MAX_SECRETS_PER_CLIENT } from "../../src/admin/oauth-clients";
import { admin, expectStatus, type Json, SCIM_TOKEN, scim, setSettings } from "../helpers";
import { accessToken, createSecret, createSecretClient, secretClient } from "../oauth";

/**
 * /admin/api/oauth/clients (the shapes other tools script against) and /admin/api/credentials
 * (when each credential was last used: the Connect page's rotation aid).
 */

const DAY_MS = 86_400_000;
const TENANT = "11111111-2222-4333-8444-555555555555";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const lastAction = async () =>
  env.DB.prepare(
    "SELECT decisions, actor FROM provisioning_log WHERE method IN ('POST', 'DELETE') AND path LIKE '/admin/api/oauth/%' ORDER BY seq DESC LIMIT 1",
  ).first<{
    decisions: string;
    actor: string;
  }>();

beforeAll(async () => {
  await setSettings();
});

describe("clients", () => {
  it("POST a secret client: 201 with id, clientId, name and type; listed by GET; logged with its actor", async () => {
    const created = await expectStatus(await admin("POST", "/oauth/clients", { name: "  Entra  ", type: "secret" }), 201);
    expect(created).toMatchObject({ name: "Entra", type: "secret", secrets: [], federation: null, lastUsedAt: null });
    expect(created.id).toMatch(/^oc_/);
    expect(created.clientId).toMatch(/^scim-[A-Za-z0-9_-]{16}$/);
    const list = await expectStatus(await admin("GET", "/oauth/clients"), 200);
    expect((list.clients as Json[]).find((c) => c.id === created.id)).toEqual(created);
    const logged = await lastAction();
    expect(logged?.actor).toBe("admin token");
    expect(logged?.decisions).toContain(`OAuth client \\"Entra\\" created (client secret; client_id ${created.clientId})`);
  });

  it("POST a federated client with its issuer, JWKS URL, subject and audience, as given", async () => {
    const body = {
      name: "Okta WIF",
      type: "federated",
      issuer: "https://idp.example.com",
      jwksUri: "https://idp.example.com/keys",
      subject: "svc",
      audience: "https://scim.test/oauth/token",
    };
    const created = await expectStatus(await admin("POST", "/oauth/clients", body), 201);
    expect(created.federation).toEqual({
      issuer: body.issuer,
      jwksUri: body.jwksUri,
      subject: "svc",
      audience: body.audience,
      tenantId: null,
    });
  });

  it("an Entra issuer given by hand still gets its tenant checked (tid)", async () => {
    const created = await expectStatus(
      await admin("POST", "/oauth/clients", {
        name: "Entra by hand",
        type: "federated",
        issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
        jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
        subject: "s",
        audience: "a",
      }),
      201,
    );
    expect((created.federation as Json).tenantId).toBe(TENANT);
  });

  it.each([
    { name: "no type", body: { name: "x" }, detail: /type/ },
    { name: "an unknown type", body: { name: "x", type: "password" }, detail: /type/ },
    { name: "an empty name", body: { name: "  ", type: "secret" }, detail: /name/ },
    { name: "a name over 100 characters", body: { name: "x".repeat(101), type: "secret" }, detail: /name/ },
    { name: "an unknown field", body: { name: "x", type: "secret", secret: "mine" }, detail: /secret/ },
    {
      name: "federated without issuer or tenant",
      body: { name: "x", type: "federated", subject: "s", audience: "a" },
      detail: /issuer and jwksUri, or tenantId/,
    },
    { name: "federated without subject", body: { name: "x", type: "federated", tenantId: TENANT, audience: "a" }, detail: /subject/ },
    {
      name: "a tenant id that is not a GUID",
      body: { name: "x", type: "federated", tenantId: "contoso.onmicrosoft.com", subject: "s", audience: "a" },
      detail: /GUID/,
    },
    {
      name: "an http JWKS URL",
      body: { name: "x", type: "federated", issuer: "https://i", jwksUri: "http://keys.example.com/jwks", subject: "s", audience: "a" },
      detail: /https/,
    },
    {
      name: "a tenant that is not the issuer's",
      body: {
        name: "x",
        type: "federated",
        tenantId: TENANT,
        issuer: "https://login.microsoftonline.com/99999999-8888-4777-8666-555555555555/v2.0",
        subject: "s",
        audience: "a",
      },
      detail: /issuer/,
    },
  ])("POST with $name: 400 naming what is wrong, and nothing is created", async ({ body, detail }) => {
    const before = ((await expectStatus(await admin("GET", "/oauth/clients"), 200)).clients as Json[]).length;
    const res = await expectStatus(await admin("POST", "/oauth/clients", body), 400);
    expect(res.detail).toMatch(detail);
    expect(((await expectStatus(await admin("GET", "/oauth/clients"), 200)).clients as Json[]).length).toBe(before);
  });

  it("DELETE: 204, then 404; its secrets go with it", async () => {
    const c = await secretClient("To delete");
    await expectStatus(await admin("DELETE", `/oauth/clients/${c.id}`), 204);
    await expectStatus(await admin("DELETE", `/oauth/clients/${c.id}`), 404);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM oauth_client_secrets WHERE client_ref = ?")
      .bind(c.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
    expect((await lastAction())?.decisions).toContain('OAuth client \\"To delete\\" deleted');
  });
});

describe("secrets", () => {
  it("POST: 201 with id, secret and expiresAt (a year by default), shown once, stored only as its hash", async () => {
    const client = await createSecretClient("Secrets");
    const before = Date.now();
    const res = await admin("POST", `/oauth/clients/${client.id}/secrets`);
    const s = await expectStatus(res, 201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(s.secret).toMatch(/^scimcs_[A-Za-z0-9_-]{43}$/);
    expect(s.hint).toBe(String(s.secret).slice(-4));
    expect(s.clientId).toBe(client.clientId);
    const days = (Date.parse(String(s.expiresAt)) - before) / DAY_MS;
    expect(days).toBeGreaterThan(364.99);
    expect(days).toBeLessThan(365.01);
    const row = await env.DB.prepare("SELECT * FROM oauth_client_secrets WHERE id = ?").bind(s.id).first<Record<string, unknown>>();
    expect(row?.hash).toBe(await sha256(String(s.secret)));
    expect(JSON.stringify(row)).not.toContain(String(s.secret));
    // No later answer, and no log row, holds it.
    const list = await (await admin("GET", "/oauth/clients")).text();
    const creds = await (await admin("GET", "/credentials")).text();
    const log = JSON.stringify((await env.DB.prepare("SELECT * FROM provisioning_log").all()).results);
    for (const text of [list, creds, log]) expect(text).not.toContain(String(s.secret));
    expect(list).toContain(String(s.id));
  });

  it.each([
    { days: 365, ok: true },
    { days: 1095, ok: true },
    { days: 364, ok: false },
    { days: 1096, ok: false },
    { days: 400.5, ok: false },
  ])("expiresInDays $days: ok $ok", async ({ days, ok }) => {
    const client = await createSecretClient("Expiry");
    const res = await admin("POST", `/oauth/clients/${client.id}/secrets`, { expiresInDays: days });
    if (!ok) {
      expect((await expectStatus(res, 400)).detail).toMatch(/expiresInDays/);
      return;
    }
    const s = await expectStatus(res, 201);
    expect(Math.round((Date.parse(String(s.expiresAt)) - Date.now()) / DAY_MS)).toBe(days);
  });

  it(`at most ${MAX_SECRETS_PER_CLIENT} per client: the next is 409 until one is deleted`, async () => {
    const client = await createSecretClient("Full");
    const made: Json[] = [];
    for (let i = 0; i < MAX_SECRETS_PER_CLIENT; i++) made.push(await createSecret(String(client.id)));
    const full = await expectStatus(await admin("POST", `/oauth/clients/${client.id}/secrets`, {}), 409);
    expect(full.detail).toMatch(/already has 5 secrets/);
    await expectStatus(await admin("DELETE", `/oauth/clients/${client.id}/secrets/${made[0]?.id}`), 204);
    await createSecret(String(client.id));
  });

  it("DELETE a secret: 204, its tokens stop; the client's other secret keeps working; unknown ids 404", async () => {
    const c = await secretClient("Rotating");
    const next = await createSecret(c.id);
    const oldToken = await accessToken(c.clientId, c.secret);
    await expectStatus(await admin("DELETE", `/oauth/clients/${c.id}/secrets/${c.secretId}`), 204);
    expect((await scim("GET", "/Users?count=1", undefined, { token: oldToken })).status).toBe(401);
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: await accessToken(c.clientId, String(next.secret)) }), 200);
    await expectStatus(await admin("DELETE", `/oauth/clients/${c.id}/secrets/${c.secretId}`), 404);
    await expectStatus(await admin("POST", "/oauth/clients/oc_nobody/secrets", {}), 404);
    expect((await lastAction())?.decisions).toContain(`client secret …${c.secret.slice(-4)} of OAuth client \\"Rotating\\" deleted`);
  });

  it("the admin API needs the admin token; the SCIM token and an access token do not open it", async () => {
    const c = await secretClient("Not admin");
    const t = await accessToken(c.clientId, c.secret);
    for (const bearer of [SCIM_TOKEN, t, null]) expect((await admin("GET", "/oauth/clients", undefined, bearer)).status).toBe(401);
  });
});

describe("/admin/api/credentials: when each credential was last used", () => {
  it("the two static tokens (set or not), each client and each secret, updated by the requests they let in", async () => {
    const c = await secretClient("Last used");
    const unused = await createSecret(c.id);
    const first = await expectStatus(await admin("GET", "/credentials"), 200);
    expect(first).toMatchObject({
      staticTokenEnabled: true,
      oauthAccessTokenMinutes: 60,
      logRetentionDays: 30,
      tokenEndpoint: "https://scim.test/oauth/token",
    });
    expect((first.tokens as Json[]).map((t) => [t.name, t.configured])).toEqual([
      ["SCIM_BEARER_TOKEN", true],
      ["SCIM_BEARER_TOKEN_NEXT", true],
    ]);
    const mine = () => (first.clients as Json[]).find((x) => x.id === c.id);
    expect(mine()?.lastUsedAt).toBeNull();

    const before = new Date().toISOString();
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: "test-scim-token-next" }), 200);
    const t = await accessToken(c.clientId, c.secret);
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: t }), 200);
    await expect
      .poll(async () => {
        const now = await expectStatus(await admin("GET", "/credentials"), 200);
        const next = (now.tokens as Json[]).find((x) => x.name === "SCIM_BEARER_TOKEN_NEXT");
        const client = (now.clients as Json[]).find((x) => x.id === c.id);
        const used = ((client?.secrets ?? []) as Json[]).find((s) => s.id === c.secretId);
        const idle = ((client?.secrets ?? []) as Json[]).find((s) => s.id === unused.id);
        return [
          String(next?.lastUsedAt) >= before,
          String(client?.lastUsedAt) >= before,
          String(used?.lastUsedAt) >= before,
          idle?.lastUsedAt,
        ];
      })
      .toEqual([true, true, true, null]);
  });

  it("says whether each static token is set, never its value", async () => {
    const { buildApp } = await import("../../src/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const res = await buildApp().fetch(
      new Request("https://scim.test/admin/api/credentials", { headers: { Authorization: "Bearer test-admin-token" } }),
      { ...env, SCIM_BEARER_TOKEN_NEXT: undefined },
      createExecutionContext(),
    );
    const body = await expectStatus(res, 200);
    expect((body.tokens as Json[]).map((t) => t.configured)).toEqual([true, false]);
    expect(JSON.stringify(body)).not.toContain(SCIM_TOKEN);
  });

  it("reads it all in one statement per kind: the last-use lookup is one index seek per credential", async () => {
    const plan = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT (SELECT max(at) FROM provisioning_log WHERE credential = 'SCIM_BEARER_TOKEN')",
    ).all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join("\n")).toMatch(
      /SEARCH provisioning_log USING COVERING INDEX log_credential_idx \(credential=\?\)/,
    );
  });
});

it(`at most ${MAX_CLIENTS} clients: the next is 409`, async () => {
  const count = async () => ((await expectStatus(await admin("GET", "/oauth/clients"), 200)).clients as Json[]).length;
  while ((await count()) < MAX_CLIENTS) await createSecretClient("Filler");
  const res = await expectStatus(await admin("POST", "/oauth/clients", { name: "One too many", type: "secret" }), 409);
  expect(res.detail).toMatch(/already 20 OAuth clients/);
});
