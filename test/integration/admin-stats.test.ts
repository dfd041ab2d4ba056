import { createExecutionContext, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ADMIN_TOKEN, admin, createUser, expectStatus, ORIGIN, oktaUser, SCIM_TOKEN, scim, setSettings, uniqueName } from "../helpers";

/** GET /admin/api/stats: the last 24 hours, for the health charts and the banner. */

interface Stats {
  generatedAt: string;
  hours: string[];
  requests: Record<"ok" | "clientError" | "serverError" | "refused", number[]>;
  events: { byState: Record<string, number>; createdPerHour: Record<string, number[]> };
  undeliveredStates: string[];
  oldestUndelivered: { state: string; createdAt: string; ageSeconds: number } | null;
  oldestAgeByState: Record<string, number>;
  held: number;
  dead: number;
  signingSecrets: { name: string; state: "set" | "unset" | "invalid" }[];
}

const stats = async () => (await expectStatus(await admin("GET", "/stats"), 200)) as unknown as Stats;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

beforeAll(async () => {
  await setSettings();
});

describe("GET /admin/api/stats", () => {
  it("has 24 hourly buckets ending with the hour under way", async () => {
    const s = await stats();
    expect(s.hours).toHaveLength(24);
    const last = Date.parse(s.hours[23] ?? "");
    expect(Date.now() - last).toBeLessThan(3_600_000);
    expect(Date.parse(s.hours[1] ?? "") - Date.parse(s.hours[0] ?? "")).toBe(3_600_000);
    for (const series of Object.values(s.requests)) expect(series).toHaveLength(24);
  });

  it("counts SCIM requests by outcome: ok, 4xx, refused (and no 5xx)", async () => {
    const before = await stats();
    await createUser(oktaUser(uniqueName("Stats")));
    expect((await scim("GET", "/Users/no-such-user")).status).toBe(404);
    expect((await scim("GET", "/Users", undefined, { token: "wrong", headers: { "CF-Connecting-IP": "192.0.2.44" } })).status).toBe(401);
    // Reads, errors and refusals write their row after the answer (waitUntil): wait for them.
    let after = await stats();
    for (let i = 0; i < 50 && sum(after.requests.clientError) <= sum(before.requests.clientError); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await stats();
    }
    for (let i = 0; i < 50 && sum(after.requests.refused) <= sum(before.requests.refused); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await stats();
    }
    expect(sum(after.requests.ok) - sum(before.requests.ok)).toBeGreaterThanOrEqual(1);
    expect(sum(after.requests.clientError) - sum(before.requests.clientError)).toBeGreaterThanOrEqual(1);
    expect(sum(after.requests.refused) - sum(before.requests.refused)).toBeGreaterThanOrEqual(1);
    expect(sum(after.requests.serverError)).toBe(sum(before.requests.serverError));
  });

  it("counts events by state, per hour created, and the held and dead totals", async () => {
    const user = await createUser(oktaUser(uniqueName("StatsEvents")));
    const s = await stats();
    expect(sum(Object.values(s.events.byState))).toBeGreaterThan(0);
    expect(sum(Object.values(s.events.createdPerHour).map(sum))).toBeGreaterThan(0);
    const { results } = await env.DB.prepare("SELECT state, count(*) AS n FROM events GROUP BY state").all<{ state: string; n: number }>();
    for (const r of results) expect(s.events.byState[r.state]).toBe(r.n);
    expect(s.held).toBe(s.events.byState.held);
    expect(s.dead).toBe(s.events.byState.dead);
    expect(user.id).toBeTruthy();
  });

  it("the oldest undelivered event's age, and which states count", async () => {
    const user = await createUser(oktaUser(uniqueName("Stuck")));
    const old = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await env.DB.prepare("UPDATE events SET state = 'dead', created_at = ? WHERE resource_id = ?").bind(old, user.id).run();
    const s = await stats();
    expect([...(s.undeliveredStates as string[])].sort()).toEqual([
      "awaiting_pull",
      "dead",
      "held",
      "pending",
      "queued",
      "rejected",
      "retrying",
      "undeliverable",
    ]);
    expect(s.dead).toBeGreaterThanOrEqual(1);
    expect(s.oldestAgeByState.dead).toBeGreaterThanOrEqual(3 * 3600 - 5);
    expect(s.oldestUndelivered?.ageSeconds).toBeGreaterThanOrEqual(3 * 3600 - 5);
    expect(s.oldestAgeByState.delivered).toBeUndefined();
    await env.DB.prepare("UPDATE events SET state = 'delivered' WHERE resource_id = ?").bind(user.id).run();
  });

  it("answers any parameter with 400: it takes none", async () => {
    for (const query of ["hours=48", "since=2026-01-01T00:00:00Z", "x="]) {
      const body = await expectStatus(await admin("GET", `/stats?${query}`), 400);
      expect(body.error).toBe("invalid_query");
    }
  });

  it("is 401 without the admin token and with the SCIM token", async () => {
    for (const token of [null, SCIM_TOKEN]) expect((await admin("GET", "/stats", undefined, token)).status).toBe(401);
  });
});

describe("GET /admin/api/stats: which signing secrets are set, never their values", () => {
  /** The stats as a Worker with these bindings answers them. */
  async function statsWith(bindings: Partial<Cloudflare.Env>): Promise<{ stats: Stats; text: string }> {
    const req = new Request(`${ORIGIN}/admin/api/stats`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const res = await worker.fetch(
      req as Parameters<NonNullable<typeof worker.fetch>>[0],
      { ...env, ...bindings },
      createExecutionContext(),
    );
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return { stats: JSON.parse(text) as Stats, text };
  }
  const NEXT = "whsec_bmV4dC1zaWduaW5nLXNlY3JldC10ZXN0";

  it.each([
    { name: "no rotation", bindings: {}, states: ["set", "unset"] },
    { name: "a rotation under way", bindings: { MAIN_SITE_SIGNING_SECRET_NEXT: NEXT }, states: ["set", "set"] },
    {
      name: "a next secret that is not whsec_ + base64",
      bindings: { MAIN_SITE_SIGNING_SECRET_NEXT: "whsec_***" },
      states: ["set", "invalid"],
    },
    { name: "no secret at all", bindings: { MAIN_SITE_SIGNING_SECRET: "" }, states: ["unset", "unset"] },
  ])("$name", async ({ bindings, states }) => {
    const { stats: s, text } = await statsWith(bindings);
    expect(s.signingSecrets).toEqual([
      { name: "MAIN_SITE_SIGNING_SECRET", state: states[0] },
      { name: "MAIN_SITE_SIGNING_SECRET_NEXT", state: states[1] },
    ]);
    for (const secret of [env.MAIN_SITE_SIGNING_SECRET ?? "", NEXT]) {
      expect(text).not.toContain(secret.slice(6));
    }
  });
});
