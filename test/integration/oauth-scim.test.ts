import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../bench/service/index";
import { getDb } from "../../src/db/client";
import { serviceKey } from "../../src/keys/service-key";
import { mintAccessToken } from "../../src/oauth/access-token";
import { authenticateAccessToken } from "../../src/oauth/authenticate-token";
import {
  admin,
  BASE,
  createUser,
  expectScimError,
  expectStatus,
  fetchWorker,
  oktaUser,
  SCIM_TOKEN,
  scim,
  setSettings,
  uniqueName,
} from "../helpers";
import { accessToken, secretClient } from "../oauth";

/**
 * SCIM with OAuth access tokens: accepted exactly like the static token, refused exactly like a
 * bad one (an expired one says invalid_token), revoked with its client or secret, checked with no
 * D1 round trip; and which credential let each request in.
 */

const NEXT_TOKEN = "test-scim-token-next";

/** The 401 a request with this Authorization header gets: status, body and challenge. */
async function refusal(authorization: string) {
  const res = await fetchWorker(`${BASE}/Users?count=1`, { headers: { Authorization: authorization } });
  const body = await expectScimError(res, 401);
  return { body, challenge: res.headers.get("www-authenticate") };
}

async function credentialOf(requestId: string): Promise<string | null | undefined> {
  let row: { credential: string | null } | null = null;
  await expect
    .poll(async () => {
      row = await env.DB.prepare("SELECT credential FROM provisioning_log WHERE request_id = ? ORDER BY seq DESC LIMIT 1")
        .bind(requestId)
        .first<{ credential: string | null }>();
      return row !== null;
    })
    .toBe(true);
  return (row as { credential: string | null } | null)?.credential;
}

let client: Awaited<ReturnType<typeof secretClient>>;
let token = "";

beforeAll(async () => {
  await setSettings();
  client = await secretClient("SCIM with OAuth");
  token = await accessToken(client.clientId, client.secret);
});

describe("an access token on SCIM", () => {
  it("reads and writes like the static token", async () => {
    const user = await expectStatus(await scim("POST", "/Users", oktaUser(uniqueName("OAuth")), { token }), 201);
    await expectStatus(await scim("GET", `/Users/${user.id}`, undefined, { token }), 200);
    await expectStatus(await scim("DELETE", `/Users/${user.id}`, undefined, { token }), 204);
  });

  it("a bad access token is refused exactly like a bad static token: same body, same challenge", async () => {
    const staticBad = await refusal("Bearer wrong");
    const key = await serviceKey(getDb(env.DB), "oauth-access-token");
    const iat = Math.floor(Date.now() / 1000);
    const [head, payload, sig] = token.split(".");
    const otherKey = await crypto.subtle.importKey(
      "raw",
      crypto.getRandomValues(new Uint8Array(32)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const gone = await secretClient("Gone");
    const goneToken = await accessToken(gone.clientId, gone.secret);
    await expectStatus(await admin("DELETE", `/oauth/clients/${gone.id}/secrets/${gone.secretId}`), 204);
    const bad = [
      `${head}.${payload}.${(sig ?? "").slice(0, -2)}AA`,
      await mintAccessToken(otherKey, { c: client.id, k: client.secretId, iat, exp: iat + 600 }),
      await mintAccessToken(key, { c: "oc_nobody", k: client.secretId, iat, exp: iat + 600 }),
      await mintAccessToken(key, { c: client.id, k: "ocs_deleted", iat, exp: iat + 600 }),
      await mintAccessToken(key, { c: client.id, k: "assertion", iat, exp: iat + 600 }),
      goneToken,
      "scimat1.garbage",
      "scimat1.e30.",
    ];
    for (const t of bad) expect(await refusal(`Bearer ${t}`), t).toEqual(staticBad);
  });

  it('an expired access token: 401 with error="invalid_token" and a detail that says to fetch a new one', async () => {
    const key = await serviceKey(getDb(env.DB), "oauth-access-token");
    const iat = Math.floor(Date.now() / 1000) - 7200;
    const expired = await mintAccessToken(key, { c: client.id, k: client.secretId, iat, exp: iat + 3600 });
    const { body, challenge } = await refusal(`Bearer ${expired}`);
    expect(challenge).toBe('Bearer realm="scim", error="invalid_token", error_description="The access token expired"');
    expect(body.detail).toMatch(/expired.*POST \/oauth\/token/);
  });

  it("a deleted secret's tokens stop at once where it was deleted, and in every other isolate within 5 seconds", async () => {
    const c = await secretClient("Revoked");
    const t = await accessToken(c.clientId, c.secret);
    const db = getDb(env.DB);
    const now = Date.now();
    expect(await authenticateAccessToken(db, t, now)).toEqual({ kind: "ok", credential: `oauth:${c.id}:${c.secretId}` });
    // Deleted behind this isolate's back (as by another isolate): its copy still holds the secret...
    await env.DB.prepare("DELETE FROM oauth_client_secrets WHERE id = ?").bind(c.secretId).run();
    expect((await authenticateAccessToken(db, t, now + 1_000)).kind).toBe("ok");
    // ...which proves a request reads no D1 for it, and lasts no longer than the settings cache's 5 s.
    expect((await authenticateAccessToken(db, t, now + 5_001)).kind).toBe("invalid");
  });

  it("with no SCIM_BEARER_TOKEN set at all, OAuth still works (an OAuth-only site)", async () => {
    const { buildApp } = await import("../../src/app");
    const res = await buildApp().fetch(
      new Request(`${BASE}/Users?count=1`, { headers: { Authorization: `Bearer ${token}` } }),
      { ...env, SCIM_BEARER_TOKEN: "", SCIM_BEARER_TOKEN_NEXT: undefined },
      createExecutionContext(),
    );
    await expectStatus(res, 200);
  });
});

describe("staticTokenEnabled: false (require OAuth)", () => {
  it("refuses SCIM_BEARER_TOKEN and _NEXT with a detail that says why; access tokens and the admin API still work", async () => {
    await setSettings({ staticTokenEnabled: false });
    try {
      for (const t of [SCIM_TOKEN, NEXT_TOKEN]) {
        const res = await scim("GET", "/Users?count=1", undefined, { token: t });
        const body = await expectScimError(res, 401);
        expect(body.detail).toMatch(/requires OAuth.*staticTokenEnabled is false/);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="scim"');
      }
      await expectStatus(await scim("GET", "/Users?count=1", undefined, { token }), 200);
    } finally {
      await setSettings({ staticTokenEnabled: true });
    }
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
  });
});

describe("which credential let a request in (the provisioning log)", () => {
  it("SCIM_BEARER_TOKEN, SCIM_BEARER_TOKEN_NEXT, or the OAuth client and secret, on every row", async () => {
    const cases = [
      { token: SCIM_TOKEN, want: "SCIM_BEARER_TOKEN" },
      { token: NEXT_TOKEN, want: "SCIM_BEARER_TOKEN_NEXT" },
      { token, want: `oauth:${client.id}:${client.secretId}` },
    ];
    for (const c of cases) {
      const requestId = `cred-${crypto.randomUUID()}`;
      await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: c.token, headers: { "cf-ray": requestId } }), 200);
      expect(await credentialOf(requestId)).toBe(c.want);
    }
  });

  it("a write's row and each Bulk operation's row carry it too; a refused request's row does not", async () => {
    const requestId = `cred-${crypto.randomUUID()}`;
    await expectStatus(
      await scim("POST", "/Users", oktaUser(uniqueName("Cred")), { token: NEXT_TOKEN, headers: { "cf-ray": requestId } }),
      201,
    );
    expect(await credentialOf(requestId)).toBe("SCIM_BEARER_TOKEN_NEXT");
    const bulkId = `cred-${crypto.randomUUID()}`;
    const bulk = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
      Operations: [
        { method: "POST", path: "/Users", bulkId: "a", data: oktaUser(uniqueName("Bulk")) },
        {
          method: "PATCH",
          path: "/Users/no-such-user",
          data: { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [] },
        },
      ],
    };
    await expectStatus(await scim("POST", "/Bulk", bulk, { token, headers: { "cf-ray": bulkId } }), 200);
    await expect
      .poll(
        async () =>
          (await env.DB.prepare("SELECT credential FROM provisioning_log WHERE request_id = ?").bind(bulkId).all()).results.length,
      )
      .toBe(2);
    const rows = (
      await env.DB.prepare("SELECT credential FROM provisioning_log WHERE request_id = ?").bind(bulkId).all<{ credential: string }>()
    ).results;
    expect(rows.map((r) => r.credential)).toEqual([`oauth:${client.id}:${client.secretId}`, `oauth:${client.id}:${client.secretId}`]);
  });
});

describe("no D1 round trip for the access token", () => {
  /** A request through the bench's counting Worker (bench/service): D1 round trips on its path. */
  async function roundTrips(path: string, bearer: string): Promise<number> {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request<unknown, IncomingRequestCfProperties>(`${BASE}${path}`, { headers: { Authorization: `Bearer ${bearer}` } }),
      { ...env, D1_STATS: "1" },
      ctx,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    await waitOnExecutionContext(ctx);
    return Number(res.headers.get("X-D1-Round-Trips"));
  }

  it("GET /Users/{id} with an access token costs the one round trip it costs with the static token", async () => {
    const user = await createUser(oktaUser(uniqueName("RT")));
    // Warm: the settings, the service key and the clients are read once per isolate (and every 5 s).
    await roundTrips(`/Users/${user.id}`, token);
    await roundTrips(`/Users/${user.id}`, SCIM_TOKEN);
    expect(await roundTrips(`/Users/${user.id}`, SCIM_TOKEN)).toBe(1);
    expect(await roundTrips(`/Users/${user.id}`, token)).toBe(1);
  });
});
