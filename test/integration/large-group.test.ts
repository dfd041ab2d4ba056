import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { fetchWithD1Stats } from "../../bench/service/d1-stats";
import { buildApp } from "../../src/app";
import { BASE, createUser, expectStatus, type Json, oktaUser, PATCH_OP, SCIM_TOKEN, scim, setSettings, uniqueName } from "../helpers";

const app = buildApp();
const SIZE = 10_000;

/** One request through the Worker with D1 counting on: status, body and the D1 round trips it waited for. */
async function counted(method: string, path: string, body?: unknown) {
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const res = await fetchWithD1Stats(req, env, ctx, app.fetch);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return {
    status: res.status,
    json: (text ? JSON.parse(text) : {}) as Json,
    roundTrips: Number(res.headers.get("X-D1-Round-Trips")),
    statements: Number(res.headers.get("X-D1-Statements")),
  };
}

const addOne = (uid: string) => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: uid }] }] });
const removeOne = (uid: string) => ({ schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${uid}"]` }] });

describe("A group of 10,000 members", () => {
  let big = "";
  let small = "";
  let bigName = "";

  beforeAll(async () => {
    await setSettings();
    const tag = crypto.randomUUID().slice(0, 8);
    // 10,000 users written in one statement, shaped as the service writes them.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO users (id, user_name, user_name_norm, active, role, data, version, created_at, updated_at)
       SELECT ?2 || '-' || i, ?2 || '-' || i || '@example.com', ?2 || '-' || i || '@example.com', 1, 'registered',
              json_object('userName', ?2 || '-' || i || '@example.com'), 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n`,
    )
      .bind(SIZE, `big${tag}`)
      .run();
    bigName = `Everyone ${tag}`;
    big = (await expectStatus(await scim("POST", "/Groups", { displayName: bigName }), 201)).id as string;
    small = (await expectStatus(await scim("POST", "/Groups", { displayName: `Few ${tag}` }), 201)).id as string;
    await env.DB.prepare(
      `INSERT INTO group_members (group_id, user_id, added_at) SELECT ?, id, '2026-01-01T00:00:00.000Z' FROM users WHERE id LIKE ?`,
    )
      .bind(big, `big${tag}-%`)
      .run();
    const n = await env.DB.prepare("SELECT count(*) AS n FROM group_members WHERE group_id = ?").bind(big).first<{ n: number }>();
    expect(n?.n).toBe(SIZE);
  });

  it("adding or removing one member costs the same D1 round trips and statements as on a small group", async () => {
    const u1 = (await createUser(oktaUser(uniqueName()))).id as string;
    const u2 = (await createUser(oktaUser(uniqueName()))).id as string;
    const bigAdd = await counted("PATCH", `/Groups/${big}`, addOne(u1));
    const smallAdd = await counted("PATCH", `/Groups/${small}`, addOne(u2));
    expect(bigAdd.status).toBe(204);
    expect(smallAdd.status).toBe(204);
    expect(bigAdd.roundTrips).toBe(smallAdd.roundTrips);
    expect(bigAdd.statements).toBe(smallAdd.statements);
    expect(bigAdd.roundTrips).toBe(2); // one read batch, one write batch
    const bigRemove = await counted("PATCH", `/Groups/${big}`, removeOne(u1));
    const smallRemove = await counted("PATCH", `/Groups/${small}`, removeOne(u2));
    expect(bigRemove.status).toBe(204);
    expect(bigRemove.roundTrips).toBe(smallRemove.roundTrips);
    expect(bigRemove.statements).toBe(smallRemove.statements);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM group_members WHERE group_id = ?").bind(big).first<{ n: number }>();
    expect(n?.n).toBe(SIZE);
  });

  it("excludedAttributes=members never reads members: one round trip, no members in the answer", async () => {
    const list = await counted("GET", `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${bigName}"`)}`);
    expect(list.status).toBe(200);
    expect(list.roundTrips).toBe(1);
    expect(list.statements).toBe(3); // count, page, log row: no member read
    expect((list.json.Resources as Json[])[0]).not.toHaveProperty("members");
    const one = await counted("GET", `/Groups/${big}?excludedAttributes=members`);
    expect(one.status).toBe(200);
    expect(one.json).not.toHaveProperty("members");
    expect(one.roundTrips).toBe(1);
  });

  it("a member's own groups still shows the big group", async () => {
    const member = await expectStatus(await scim("GET", `/Users?filter=${encodeURIComponent(`userName sw "big"`)}&count=1`), 200);
    const first = (member.Resources as Json[])[0];
    expect(((first?.groups as Json[]) ?? []).map((g) => g.value)).toContain(big);
  });
});
