import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../bench/service/index";
import { ADMIN_TOKEN, admin, createUser, expectStatus, ORIGIN, oktaUser, ops, scim, setSettings, uniqueName } from "../helpers";
import { checkDelivery } from "../site-double";

/**
 * GET /admin/api/stats `verdict`: healthy, or what is wrong, since when, and the action that fixes
 * it, read from the real D1 after real deliveries (the site is the one test double: it answers
 * what each test sets). Its own file: the guard's hour and the events are its own.
 */

interface Finding {
  kind: string;
  severity: "problem" | "warning" | "notice";
  title: string;
  since: string | null;
  action: string;
  place: string;
  state?: string;
  events?: number;
  people?: number;
}
interface Verdict {
  healthy: boolean;
  headline: string;
  findings: Finding[];
}

const SITE = env.MAIN_SITE_URL ?? "";
let answer: () => Response = () => new Response(null, { status: 204 });

beforeEach(() => {
  answer = () => new Response(null, { status: 204 });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== SITE) throw new Error(`unexpected outbound fetch to ${req.url}`);
    checkDelivery(await req.text());
    return answer();
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const verdict = async (): Promise<Verdict> => ((await expectStatus(await admin("GET", "/stats"), 200)) as { verdict: Verdict }).verdict;
const finding = (v: Verdict, kind: string) => v.findings.find((f) => f.kind === kind);
const kinds = (v: Verdict) => v.findings.map((f) => f.kind);
/** A read's log row is written after its answer: the verdict that counts it, once it is there. */
const eventually = (check: (v: Verdict) => boolean) =>
  vi.waitUntil(
    async () => {
      const v = await verdict();
      return check(v) ? v : undefined;
    },
    { timeout: 10_000, interval: 50 },
  );

async function stateOf(userId: string, type = "user.created"): Promise<string | undefined> {
  return (await env.DB.prepare("SELECT state FROM events WHERE resource_id = ? AND type = ?").bind(userId, type).first<{ state: string }>())
    ?.state;
}
const eventuallyState = (userId: string, state: string, type?: string) =>
  vi.waitUntil(async () => (await stateOf(userId, type)) === state, { timeout: 20_000, interval: 50 });

/** Every undelivered event of this file moved out of the way (as if redelivered and delivered). */
async function clearEvents(): Promise<void> {
  await env.DB.prepare("UPDATE events SET state = 'delivered', due_at = NULL WHERE state <> 'delivered'").run();
}

describe("the health verdict", () => {
  it("SCIM off: healthy, with a notice that says every SCIM request answers 403 and how to turn it on", async () => {
    const v = await verdict();
    expect(v.healthy).toBe(true);
    expect(v.headline).toMatch(/^Healthy/);
    expect(finding(v, "scim_off")).toMatchObject({ severity: "notice", place: "settings" });
    expect(finding(v, "scim_off")?.action).toMatch(/Settings/);
  });

  it("SCIM on, no IdP yet: a notice to connect one; after a SCIM request, none", async () => {
    await setSettings();
    expect(kinds(await verdict())).toContain("idp_never");
    const first = await createUser(oktaUser(uniqueName("First")));
    await eventuallyState(first.id as string, "delivered");
    const v = await verdict();
    expect(kinds(v)).not.toContain("idp_never");
    expect(v.healthy).toBe(true);
  });

  it("a site answering 410: the site refuses every change, since the first, with its answer said once", async () => {
    answer = () => new Response("forced 410", { status: 410 });
    const user = await createUser(oktaUser(uniqueName("Refused")));
    await eventuallyState(user.id as string, "rejected");
    const v = await verdict();
    expect(v.healthy).toBe(false);
    const f = finding(v, "site_refusing");
    expect(f).toMatchObject({ severity: "problem", place: "events", state: "rejected", events: 1 });
    expect(f?.title).toContain("410 Gone");
    expect(f?.title).toContain("HTTP 410: forced 410");
    expect(f?.title).not.toContain("HTTP 410: HTTP 410");
    expect(f?.action).toMatch(/Redeliver all rejected/);
    const created = await env.DB.prepare("SELECT created_at FROM events WHERE resource_id = ?")
      .bind(user.id)
      .first<{ created_at: string }>();
    expect(f?.since).toBe(created?.created_at);
    expect(v.headline).toBe(v.findings[0]?.title);
    await clearEvents();
  });

  it("a site that is down: unreachable since the first change that did not get through; once one gets through, only waiting for retry", async () => {
    answer = () => new Response("down for maintenance", { status: 503 });
    const down = await createUser(oktaUser(uniqueName("Down")));
    await eventuallyState(down.id as string, "retrying");
    let v = await verdict();
    const f = finding(v, "site_unreachable");
    expect(f).toMatchObject({ severity: "problem", state: "retrying", events: 1 });
    expect(f?.title).toMatch(/^The site is unreachable: 1 change waits? for retry \(last answer: HTTP 503: down for maintenance/);
    expect(f?.action).toMatch(/retries each change/);
    // The site answers again: a later change gets through, the first still waits for its retry.
    answer = () => new Response(null, { status: 204 });
    const up = await createUser(oktaUser(uniqueName("Up")));
    await eventuallyState(up.id as string, "delivered");
    v = await verdict();
    expect(kinds(v)).not.toContain("site_unreachable");
    expect(finding(v, "retrying")).toMatchObject({ severity: "warning", events: 1 });
    await clearEvents();
  });

  it("dead and undeliverable events: each a problem with its count, since, and the action", async () => {
    const a = await createUser(oktaUser(uniqueName("Dead")));
    const b = await createUser(oktaUser(uniqueName("Nowhere")));
    const old = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await env.DB.prepare("UPDATE events SET state = 'dead', created_at = ?, last_error = 'HTTP 500: boom' WHERE resource_id = ?")
      .bind(old, a.id)
      .run();
    await env.DB.prepare(
      "UPDATE events SET state = 'undeliverable', last_error = 'MAIN_SITE_URL is not set; set it, then redeliver.' WHERE resource_id = ?",
    )
      .bind(b.id)
      .run();
    const v = await verdict();
    expect(finding(v, "dead")).toMatchObject({ severity: "problem", since: old, events: 1, state: "dead" });
    expect(finding(v, "dead")?.title).toContain("HTTP 500: boom");
    expect(finding(v, "undeliverable")?.title).toContain("MAIN_SITE_URL is not set");
    expect(finding(v, "undeliverable")?.action).toMatch(/Redeliver all undeliverable/);
    await clearEvents();
  });

  it("an in-flight event long overdue: deliveries are stalled, a warning", async () => {
    const u = await createUser(oktaUser(uniqueName("Stalled")));
    const due = new Date(Date.now() - 10 * 60_000).toISOString();
    await env.DB.prepare("UPDATE events SET state = 'queued', due_at = ? WHERE resource_id = ?").bind(due, u.id).run();
    const f = finding(await verdict(), "stalled");
    expect(f).toMatchObject({ severity: "warning", since: due, events: 1 });
    await clearEvents();
  });

  it("the guard: changes held for people, counted as people", async () => {
    await setSettings({ deprovisionGuard: { maxPerHour: 1 } });
    const users = await Promise.all([1, 2, 3].map(async () => (await createUser(oktaUser(uniqueName("Leaver")))).id as string));
    for (const id of users) await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", value: { active: false } })), 200);
    // The held users change again: more events, still the same people.
    for (const id of users)
      await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "title", value: "Gone" })), 200);
    const f = finding(await verdict(), "held");
    expect(f).toMatchObject({ severity: "problem", events: 4, people: 2, state: "held" });
    expect(f?.title).toBe("4 changes held by the deprovisioning guard for 2 people");
    expect(f?.action).toMatch(/discard for the people the IdP has reactivated, release the rest/);
    // The banner's count and the events view's chips are the same number.
    const listed = await expectStatus(await admin("GET", "/events?state=held"), 200);
    expect((listed.counts as Record<string, number>).held).toBe(f?.events);
    await expectStatus(await admin("POST", "/events/discard-held"), 200);
    await setSettings({ deprovisionGuard: { maxPerHour: 25 } });
  });

  it("the rotation: SCIM_BEARER_TOKEN_NEXT set, the IdP still on the old token, then moved to the new one", async () => {
    // The test Worker has SCIM_BEARER_TOKEN_NEXT set (vitest.config.ts).
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
    let f = finding(await eventually((v) => finding(v, "rotation") !== undefined), "rotation");
    expect(f?.severity).toBe("notice");
    expect(f?.title).toMatch(/^Token rotation under way: the IdP still uses SCIM_BEARER_TOKEN/);
    expect(f?.action).toMatch(/Swap only then/);
    await expectStatus(await scim("GET", "/Users?count=1", undefined, { token: env.SCIM_BEARER_TOKEN_NEXT ?? "" }), 200);
    f = finding(await eventually((v) => /has moved/.test(finding(v, "rotation")?.title ?? "")), "rotation");
    expect(f?.title).toMatch(/^Token rotation: the IdP has moved to SCIM_BEARER_TOKEN_NEXT/);
    expect(f?.action).toContain("npx wrangler secret put SCIM_BEARER_TOKEN");
  });

  it("requests refused with 401 and none let in since: a problem that points at the token", async () => {
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
    expect((await scim("GET", "/Users", undefined, { token: "an-old-token", headers: { "CF-Connecting-IP": "192.0.2.77" } })).status).toBe(
      401,
    );
    // The refusal's counted row is written after the answer.
    const f = finding(await eventually((v) => finding(v, "idp_refused") !== undefined), "idp_refused");
    expect(f).toMatchObject({ severity: "problem", place: "connect" });
    expect(f?.title).toMatch(/^SCIM requests are refused \(401\): 1 request since the IdP was last let in \(1 request with a bad token/);
    expect(f?.action).toMatch(/SCIM_BEARER_TOKEN_NEXT/);
    // The IdP is let in again: no longer a problem.
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
    await eventually((v) => !kinds(v).includes("idp_refused"));
    // Refused again after that: a problem again, counting only the refusals since the IdP was last let in.
    expect(
      (await scim("GET", "/Users", undefined, { token: "another-old-token", headers: { "CF-Connecting-IP": "192.0.2.78" } })).status,
    ).toBe(401);
    const again = finding(await eventually((v) => finding(v, "idp_refused") !== undefined), "idp_refused");
    expect(again?.title).toMatch(/^SCIM requests are refused \(401\): 1 request since the IdP was last let in/);
  });

  it("an OAuth client secret near its expiry is a warning; expired with no newer secret, a problem; a newer secret ends both", async () => {
    const client = await expectStatus(await admin("POST", "/oauth/clients", { name: "Entra verdict", type: "secret" }), 201);
    const secret = await expectStatus(await admin("POST", `/oauth/clients/${client.id}/secrets`, {}), 201);
    const soon = new Date(Date.now() + 10 * 86_400_000 + 3_600_000).toISOString();
    await env.DB.prepare("UPDATE oauth_client_secrets SET expires_at = ? WHERE id = ?").bind(soon, secret.id).run();
    let f = finding(await verdict(), "credential_expiring");
    expect(f).toMatchObject({ severity: "warning", place: "connect" });
    expect(f?.title).toBe(
      `OAuth client "Entra verdict": its secret …${secret.hint} expires in 10 days (${soon.replace("T", " ").replace(/\.\d+Z$/, "")} UTC)`,
    );
    const past = new Date(Date.now() - 86_400_000).toISOString();
    await env.DB.prepare("UPDATE oauth_client_secrets SET expires_at = ? WHERE id = ?").bind(past, secret.id).run();
    f = finding(await verdict(), "credential_expired");
    expect(f?.severity).toBe("problem");
    await expectStatus(await admin("POST", `/oauth/clients/${client.id}/secrets`, {}), 201);
    const v = await verdict();
    expect(kinds(v)).not.toContain("credential_expired");
    expect(kinds(v)).not.toContain("credential_expiring");
    await expectStatus(await admin("DELETE", `/oauth/clients/${client.id}`), 204);
  });

  it("no SCIM request for more than a day: a warning since the last one", async () => {
    const long = new Date(Date.now() - 30 * 3_600_000).toISOString();
    await env.DB.prepare("UPDATE provisioning_log SET at = ? WHERE credential IS NOT NULL OR method = 'REFUSED'").bind(long).run();
    const f = finding(await verdict(), "idp_silent");
    expect(f).toMatchObject({ severity: "warning", since: long });
  });

  it("healthy once nothing is wrong; notices (the rotation) leave it healthy", async () => {
    await expectStatus(await scim("GET", "/Users?count=1"), 200);
    await clearEvents();
    const v = await eventually((x) => !kinds(x).includes("idp_silent"));
    expect(v.findings.filter((f) => f.severity !== "notice")).toEqual([]);
    expect(v.healthy).toBe(true);
    expect(v.headline).toBe("Healthy: changes reach the site");
  });

  it("costs a fixed number of D1 round trips, whatever the events", async () => {
    const counted = async () => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request<unknown, IncomingRequestCfProperties>(`${ORIGIN}/admin/api/stats`, {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        }),
        { ...env, D1_STATS: "1" },
        ctx,
      );
      await res.text();
      await waitOnExecutionContext(ctx);
      return Number(res.headers.get("X-D1-Round-Trips"));
    };
    await counted();
    const few = await counted();
    for (let i = 0; i < 20; i++) await createUser(oktaUser(uniqueName("More")));
    const many = await counted();
    expect(few).toBeLessThanOrEqual(6);
    expect(many).toBe(few);
  });
});
