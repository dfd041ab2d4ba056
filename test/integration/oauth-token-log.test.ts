import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { expectStatus, setSettings } from "../helpers";
import { secretClient, tokenRequest } from "../oauth";

/**
 * What the token endpoint leaves in the provisioning log. Its own file, so the isolate's count of
 * refusing clients this minute (at most 10 get rows of their own) holds only what these tests do.
 */

const grant = { grant_type: "client_credentials" };

beforeAll(async () => {
  await setSettings();
});

describe("the provisioning log of the token endpoint", () => {
  it("an issuance is one row with the client's name, the method and the secret's hint; the secret and token are nowhere", async () => {
    const c = await secretClient("Logged client");
    const res = await tokenRequest({ ...grant, client_id: c.clientId, client_secret: c.secret }, { settle: true });
    const token = String((await expectStatus(res, 200)).access_token);
    const rows = (
      await env.DB.prepare("SELECT method, path, status, decisions FROM provisioning_log WHERE credential = ?")
        .bind(`oauth:${c.id}:${c.secretId}`)
        .all<{ method: string; path: string; status: number; decisions: string }>()
    ).results;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ method: "POST", path: "/oauth/token", status: 200 });
    expect(JSON.parse(rows[0]?.decisions ?? "[]")).toEqual([
      `access token issued to OAuth client "Logged client" (client_secret_post, client secret …${c.secret.slice(-4)}), valid for 60 minutes`,
    ]);
    const dump = JSON.stringify((await env.DB.prepare("SELECT * FROM provisioning_log").all()).results);
    expect(dump).not.toContain(c.secret);
    expect(dump).not.toContain(token);
  });

  it("a flood of refusals is one counted row per address, reason and minute, naming the client and what was wrong", async () => {
    const c = await secretClient("Flooded");
    const address = "198.18.7.7";
    for (let i = 0; i < 15; i++) {
      const res = await tokenRequest({ ...grant, client_id: c.clientId, client_secret: `wrong-${i}` }, { address });
      expect(res.status).toBe(401);
    }
    const rows = async () =>
      (
        await env.DB.prepare("SELECT path, status, detail FROM provisioning_log WHERE method = 'REFUSED' AND detail LIKE ?")
          .bind(`%${address}%`)
          .all<{ path: string; status: number; detail: string }>()
      ).results;
    // The trailing write (a second after the last refusal) brings the exact count.
    await vi.waitUntil(async () => (await rows()).reduce((n, r) => n + Number(/^(\d+) token request/.exec(r.detail)?.[1] ?? 0), 0) === 15, {
      timeout: 10_000,
      interval: 100,
    });
    const written = await rows();
    // One row, or two if the flood crossed a minute.
    expect(written.length).toBeLessThanOrEqual(2);
    for (const row of written) {
      expect(row).toMatchObject({ path: "/oauth/token", status: 401 });
      expect(row.detail).toMatch(
        /token requests? refused as invalid_client from 198\.18\.7\.7 \(OAuth client "Flooded"\) (between|at) .* \(latest: wrong client_secret \(client_secret_post\)\)$/,
      );
    }
  });
});
