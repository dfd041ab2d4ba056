import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, expectStatus, fetchWorker, scim, setSettings } from "../helpers";

describe("Settings admin API", () => {
  it("GET returns the whole document; PUT merges, validates and logs each change", async () => {
    await setSettings({ allowModeratorPromotion: false });
    const got = (await (await admin("GET", "/settings")).json()) as Record<string, unknown>;
    expect(Object.keys(got).sort()).toEqual([
      "adminGroup",
      "allowAdminPromotion",
      "allowModeratorPromotion",
      "deprovisionGuard",
      "dryRun",
      "eventRetentionDays",
      "logRetentionDays",
      "moderatorGroup",
      "oauthAccessTokenMinutes",
      "scimEnabled",
      "siteDelivery",
      "staticTokenEnabled",
    ]);
    const put = await admin("PUT", "/settings", { allowModeratorPromotion: true });
    expect(put.status).toBe(200);
    expect(((await put.json()) as Record<string, unknown>).allowModeratorPromotion).toBe(true);
    const log = await env.DB.prepare(
      "SELECT decisions FROM provisioning_log WHERE resource_type = 'Settings' ORDER BY seq DESC LIMIT 1",
    ).first<{ decisions: string }>();
    expect(log?.decisions).toContain("allowModeratorPromotion: false → true");
    await setSettings({ allowModeratorPromotion: false });
  });

  it.each([
    { name: "unknown key", body: { scimEnabld: true } },
    { name: "wrong type", body: { scimEnabled: "yes" } },
    { name: "bad guard", body: { deprovisionGuard: { maxPerHour: 0 } } },
    { name: "bad retention", body: { logRetentionDays: -1 } },
    { name: "access tokens under an hour", body: { oauthAccessTokenMinutes: 59 } },
    { name: "access tokens over 6 hours", body: { oauthAccessTokenMinutes: 361 } },
    { name: "staticTokenEnabled not a boolean", body: { staticTokenEnabled: "false" } },
    { name: "siteDelivery neither push nor pull", body: { siteDelivery: "webhook" } },
    { name: "unknown group", body: { moderatorGroup: "no-such-group" } },
  ])("PUT with $name is 400 with a detail, and nothing changes", async ({ body }) => {
    await setSettings();
    const before = await (await admin("GET", "/settings")).json();
    const res = await admin("PUT", "/settings", body);
    expect(res.status).toBe(400);
    const err = (await res.json()) as { detail: string };
    expect(err.detail.length).toBeGreaterThan(5);
    expect(await (await admin("GET", "/settings")).json()).toEqual(before);
  });

  it("malformed JSON is 400", async () => {
    const res = await fetchAdminRaw("{not json");
    expect(res.status).toBe(400);
  });

  it("lists groups to map, and accepts an existing one", async () => {
    await setSettings();
    const g = await expectStatus(await scim("POST", "/Groups", { displayName: `Map me ${crypto.randomUUID()}` }), 201);
    const list = (await (await admin("GET", "/groups")).json()) as { groups: { id: string; displayName: string; members: number }[] };
    expect(list.groups.find((x) => x.id === g.id)).toEqual({ id: g.id, displayName: g.displayName, members: 0 });
    const ok = await admin("PUT", "/settings", { moderatorGroup: g.id });
    expect(ok.status).toBe(200);
    await setSettings({ moderatorGroup: null });
  });
});

async function fetchAdminRaw(body: string): Promise<Response> {
  return fetchWorker("https://scim.test/admin/api/settings", {
    method: "PUT",
    headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
    body,
  });
}
