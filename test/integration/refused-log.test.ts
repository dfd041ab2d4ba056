import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, BASE, fetchWorker, SCIM_TOKEN, setSettings, uniqueName } from "../helpers";

/**
 * What refused requests and secrets in URLs leave in the provisioning log. Its own file, so the
 * log holds only what these tests write.
 */

const logCount = async () => (await env.DB.prepare("SELECT count(*) AS n FROM provisioning_log").first<{ n: number }>())?.n ?? 0;

beforeAll(async () => {
  await setSettings();
});

describe("unauthenticated floods", () => {
  it("300 requests with no or a wrong token and 2,000-character junk queries leave a handful of counted rows, none with the junk", async () => {
    const before = await logCount();
    const junk = `q=${"<script>alert(1)</script>".repeat(80)}`.slice(0, 2000);
    const clients = ["203.0.113.7", "203.0.113.8", "2001:db8:1:2::7"];
    for (let i = 0; i < 300; i++) {
      const headers: Record<string, string> = { "cf-connecting-ip": clients[i % 3] ?? "" };
      if (i % 2) headers.Authorization = `Bearer wrong-${i}`;
      const res = await fetchWorker(`${BASE}/Users/${"x".repeat(200)}-${i}?${junk}`, { headers });
      expect(res.status).toBe(401);
    }
    await vi.waitUntil(
      async () => {
        const { results } = await env.DB.prepare("SELECT detail FROM provisioning_log WHERE method = 'REFUSED'").all<{ detail: string }>();
        const counted = results.reduce((n, r) => n + Number(/^(\d+) request/.exec(r.detail)?.[1] ?? 0), 0);
        return counted === 300;
      },
      { timeout: 10_000, interval: 100 },
    );
    const { results } = await env.DB.prepare(
      "SELECT path, detail FROM provisioning_log WHERE seq > (SELECT coalesce(max(seq), 0) - 100 FROM provisioning_log)",
    ).all<{
      path: string;
      detail: string | null;
    }>();
    const added = (await logCount()) - before;
    // Three clients, two reasons each: six rows for 300 requests.
    expect(added).toBe(6);
    for (const r of results) {
      expect(r.path).not.toContain("script");
      expect(r.path).not.toContain("xxxx");
    }
    expect(
      results
        .map((r) => r.detail)
        .filter(Boolean)
        .join("\n"),
    ).toContain("requests with a bad token from 2001:db8:1:2::/64");
  });
});

describe("secrets in URLs", () => {
  it.each([
    { name: "access_token", query: (t: string) => `access_token=${t}` },
    { name: "token", query: (t: string) => `count=1&token=${t}` },
    { name: "authorization", query: (t: string) => `Authorization=Bearer%20${t}` },
    { name: "password", query: () => `password=hunter2-${crypto.randomUUID()}` },
    { name: "any parameter equal to a configured secret", query: (t: string) => `filter=${t}&x=${ADMIN_TOKEN}` },
  ])("$name: the logged path shows [redacted], never the value", async ({ query }) => {
    const requestId = `redact-${uniqueName()}`;
    const q = query(SCIM_TOKEN);
    await fetchWorker(`${BASE}/Users?${q}`, { headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "cf-ray": requestId } });
    let row: { path: string } | null = null;
    await vi.waitUntil(async () => {
      row = await env.DB.prepare("SELECT path FROM provisioning_log WHERE request_id = ?").bind(requestId).first<{ path: string }>();
      return row !== null;
    });
    const path = (row as { path: string } | null)?.path ?? "";
    expect(path).toContain("[redacted]");
    expect(path).not.toContain(SCIM_TOKEN);
    expect(path).not.toContain(ADMIN_TOKEN);
    expect(path).not.toContain("hunter2");
  });
});
