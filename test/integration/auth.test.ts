import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, BASE, expectScimError, expectStatus, fetchWorker, ORIGIN, SCIM_TOKEN, scim, setSettings } from "../helpers";

// Every SCIM route, one shared table: each must refuse every bad credential the same way.
const ROUTES: { method: string; path: string }[] = [
  { method: "GET", path: "/Users" },
  { method: "POST", path: "/Users" },
  { method: "GET", path: "/Users/some-id" },
  { method: "PUT", path: "/Users/some-id" },
  { method: "PATCH", path: "/Users/some-id" },
  { method: "DELETE", path: "/Users/some-id" },
  { method: "POST", path: "/Users/.search" },
  { method: "GET", path: "/Groups" },
  { method: "POST", path: "/Groups" },
  { method: "GET", path: "/Groups/some-id" },
  { method: "PUT", path: "/Groups/some-id" },
  { method: "PATCH", path: "/Groups/some-id" },
  { method: "DELETE", path: "/Groups/some-id" },
  { method: "POST", path: "/Groups/.search" },
  { method: "POST", path: "/.search" },
  { method: "POST", path: "/Bulk" },
  { method: "GET", path: "/ServiceProviderConfig" },
  { method: "GET", path: "/ResourceTypes" },
  { method: "GET", path: "/ResourceTypes/User" },
  { method: "GET", path: "/Schemas" },
  { method: "GET", path: "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User" },
  { method: "GET", path: "/Me" },
];

const BAD_AUTH: { name: string; headers: Record<string, string> }[] = [
  { name: "missing", headers: {} },
  { name: "empty bearer", headers: { Authorization: "Bearer " } },
  { name: "wrong token", headers: { Authorization: "Bearer wrong" } },
  { name: "prefix of the token", headers: { Authorization: `Bearer ${SCIM_TOKEN.slice(0, -1)}` } },
  { name: "token plus suffix", headers: { Authorization: `Bearer ${SCIM_TOKEN}x` } },
  { name: "Basic scheme", headers: { Authorization: `Basic ${btoa(`user:${SCIM_TOKEN}`)}` } },
  { name: "Basic with the token", headers: { Authorization: `Basic ${SCIM_TOKEN}` } },
  { name: "admin token", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } },
  { name: "non-token (Okta SPEC test)", headers: { Authorization: "non-token" } },
  { name: "empty header", headers: { Authorization: "" } },
  { name: "scheme without a token", headers: { Authorization: "Bearer" } },
  { name: "token in another case", headers: { Authorization: `Bearer ${SCIM_TOKEN.toUpperCase()}` } },
  { name: "token followed by another word", headers: { Authorization: `Bearer ${SCIM_TOKEN} ${SCIM_TOKEN}` } },
  { name: "prefix of the next token", headers: { Authorization: `Bearer ${"test-scim-token-next".slice(0, -1)}` } },
  { name: "token after another scheme", headers: { Authorization: `Token ${SCIM_TOKEN}` } },
];

describe("SCIM authentication", () => {
  beforeAll(async () => {
    await setSettings();
  });

  for (const { method, path } of ROUTES) {
    for (const { name, headers } of BAD_AUTH) {
      it(`${method} ${path} refuses ${name}`, async () => {
        const res = await fetchWorker(`${BASE}${path}`, {
          method,
          headers: { ...headers, "Content-Type": "application/scim+json" },
          body: method === "GET" || method === "DELETE" ? undefined : "{}",
        });
        await expectScimError(res, 401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        const text = await res.clone().text();
        expect(text).not.toContain(SCIM_TOKEN);
      });
    }
  }

  it("accepts the current and the next token (rotation)", async () => {
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: "test-scim-token-next" }), 200);
  });

  it("accepts the scheme in any case, and Okta's HTTP Header mode without the scheme", async () => {
    const lower = await fetchWorker(`${BASE}/Users?count=1`, { headers: { Authorization: `bearer ${SCIM_TOKEN}` } });
    await expectStatus(lower, 200);
    const bare = await fetchWorker(`${BASE}/Users?count=1`, { headers: { Authorization: SCIM_TOKEN } });
    await expectStatus(bare, 200);
  });

  it("the admin API refuses the SCIM token, a missing token and a wrong one", async () => {
    for (const token of [SCIM_TOKEN, null, "wrong", ""]) {
      const res = await admin("GET", "/settings", undefined, token);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { detail: string };
      expect(body.detail).toMatch(/ADMIN_TOKEN|admin token/);
    }
  });

  it("healthz needs no auth and reveals no secret", async () => {
    const res = await fetchWorker(`${ORIGIN}/healthz`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(SCIM_TOKEN);
    expect(text).not.toContain(ADMIN_TOKEN);
  });
});

describe("SCIM switched off", () => {
  it("answers 403 on every endpoint with a readable reason, and on again works", async () => {
    await setSettings({ scimEnabled: false });
    for (const { method, path } of ROUTES) {
      const res = await scim(method, path, method === "GET" || method === "DELETE" ? undefined : {});
      const body = await expectScimError(res, 403);
      expect(body.detail).toMatch(/provisioning is disabled/i);
    }
    await setSettings({ scimEnabled: true });
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
  });
});

describe("no token configured", () => {
  it("refuses every SCIM request (never an empty token) and logs a clear line", async () => {
    const { env, createExecutionContext } = await import("cloudflare:test");
    const { buildApp } = await import("../../src/app");
    const app = buildApp();
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    };
    try {
      for (const auth of ["", "Bearer ", `Bearer ${SCIM_TOKEN}`]) {
        const req = new Request(`${BASE}/Users`, { headers: auth ? { Authorization: auth } : {} });
        const res = await app.fetch(req, { ...env, SCIM_BEARER_TOKEN: "", SCIM_BEARER_TOKEN_NEXT: undefined }, createExecutionContext());
        await expectScimError(res, 401);
      }
    } finally {
      console.error = original;
    }
    expect(lines.some((l) => l.includes("SCIM_BEARER_TOKEN is not set"))).toBe(true);
  });
});
