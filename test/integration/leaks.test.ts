import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, admin, BASE, expectStatus, fetchWorker, ORIGIN, SCIM_TOKEN, scim, setSettings } from "../helpers";

/**
 * What a request sends never puts a secret in the provisioning log or an answer, however it is
 * spelled: as an id in the path (and so in a 404's detail and the row's resource id), percent-
 * encoded, in a Bulk operation's path, or as the signing secret without its padding. Every admin
 * API answer is `Cache-Control: no-store`.
 */

const SIGNING_SECRET = env.MAIN_SITE_SIGNING_SECRET ?? "";
const SIGNING_KEY = SIGNING_SECRET.replace(/^whsec_/, "");
const SECRETS = [SCIM_TOKEN, ADMIN_TOKEN, SIGNING_KEY, SIGNING_KEY.replace(/=+$/, "")];

interface LogRow {
  path: string;
  detail: string | null;
  resource_id: string | null;
  quirks: string | null;
  decisions: string | null;
}

async function rowsOf(requestId: string): Promise<LogRow[]> {
  let rows: LogRow[] = [];
  await vi.waitUntil(
    async () => {
      rows = (
        await env.DB.prepare("SELECT path, detail, resource_id, quirks, decisions FROM provisioning_log WHERE request_id = ?")
          .bind(requestId)
          .all<LogRow>()
      ).results;
      return rows.length > 0;
    },
    { timeout: 5_000 },
  );
  return rows;
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} holds a secret: ${text.slice(0, 300)}`).toBe(false);
}

let n = 0;
async function get(path: string): Promise<{ res: Response; rows: LogRow[] }> {
  const requestId = `leak-${Date.now()}-${++n}`;
  const res = await fetchWorker(`${BASE}${path}`, { headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "cf-ray": requestId } });
  return { res, rows: await rowsOf(requestId) };
}

beforeAll(async () => {
  await setSettings();
});

describe("a secret sent in a request never reaches the log or an answer", () => {
  it.each([
    { name: "the SCIM token as a user id", path: `/Users/${SCIM_TOKEN}` },
    { name: "the SCIM token as a group id", path: `/Groups/${SCIM_TOKEN}` },
    { name: "the admin token, %2D-encoded", path: `/Users/${ADMIN_TOKEN.replaceAll("-", "%2D")}` },
    {
      name: "the SCIM token, every character percent-encoded",
      path: `/Users/${[...SCIM_TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")}`,
    },
    { name: "the SCIM token, encoded twice", path: `/Users/${SCIM_TOKEN.replaceAll("-", "%252D")}` },
    { name: "the signing secret without its padding, in a query", path: `/Users?x=${SIGNING_KEY.replace(/=+$/, "")}` },
    { name: "the whole whsec_ secret without its padding, in the path", path: `/Users/whsec_${SIGNING_KEY.replace(/=+$/, "")}` },
  ])("$name: 404/200, and neither the row (path, detail, resource id) nor the answer holds it", async ({ path }) => {
    const { res, rows } = await get(path);
    const body = await res.text();
    expect([200, 404], body).toContain(res.status);
    expectNoSecret("the answer", body);
    for (const row of rows) expectNoSecret("the log row", JSON.stringify(row));
    if (res.status === 404) expect(rows[0]?.detail).toContain("[redacted]");
  });

  it("a Bulk operation's path and detail are redacted in its own row", async () => {
    const requestId = `leak-bulk-${Date.now()}`;
    const res = await fetchWorker(`${BASE}/Bulk`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "cf-ray": requestId, "Content-Type": "application/scim+json" },
      body: JSON.stringify({
        Operations: [
          { method: "DELETE", path: `/Users/${SCIM_TOKEN}` },
          {
            method: "PATCH",
            path: `/Users/${SCIM_TOKEN.replaceAll("-", "%2D")}`,
            data: { Operations: [{ op: "replace", path: "title", value: "x" }] },
          },
        ],
      }),
    });
    expectNoSecret("the Bulk answer", await expectStatus(res, 200).then((b) => JSON.stringify(b)));
    const rows = await rowsOf(requestId);
    await vi.waitUntil(async () => (await rowsOf(requestId)).length >= 2, { timeout: 5_000 });
    for (const row of await rowsOf(requestId)) expectNoSecret("a Bulk operation's row", JSON.stringify(row));
    expect(rows.length).toBeGreaterThan(0);
  });

  it("the admin log and its export show no secret either", async () => {
    await get(`/Users/${SCIM_TOKEN}`);
    const log = await admin("GET", "/log?limit=200");
    expectNoSecret("GET /admin/api/log", await log.text());
    const now = new Date();
    const from = new Date(now.getTime() - 3_600_000).toISOString();
    const csv = await admin("GET", `/log/export?format=csv&from=${from}&to=${new Date(now.getTime() + 60_000).toISOString()}`);
    expectNoSecret("the CSV export", await csv.text());
  });
});

describe("admin API answers are never cached", () => {
  it.each([
    { name: "settings", path: "/settings", token: ADMIN_TOKEN },
    { name: "users", path: "/users?q=x", token: ADMIN_TOKEN },
    { name: "the log", path: "/log?limit=1", token: ADMIN_TOKEN },
    { name: "stats", path: "/stats", token: ADMIN_TOKEN },
    { name: "an unknown endpoint (404)", path: "/nope", token: ADMIN_TOKEN },
    { name: "a refused sign-in (401)", path: "/settings", token: "wrong" },
    { name: "no credential (401)", path: "/settings", token: null },
  ])("$name: Cache-Control: no-store", async ({ path, token }) => {
    const res = await admin("GET", path, undefined, token);
    expect(res.headers.get("cache-control"), `${res.status} ${await res.clone().text()}`).toBe("no-store");
  });

  it("a write and a validation error too", async () => {
    const bad = await admin("PUT", "/settings", { scimEnabled: "maybe" });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("cache-control")).toBe("no-store");
    const ok = await fetchWorker(`${ORIGIN}/admin/api/settings`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ scimEnabled: true }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
  });
});

describe("SCIM error answers", () => {
  it("a 404 for an id that is a secret names it [redacted]", async () => {
    const res = await scim("GET", `/Users/${SCIM_TOKEN}`);
    const body = await res.text();
    expect(res.status).toBe(404);
    expect(body).toContain("[redacted]");
    expectNoSecret("the 404", body);
  });
});
