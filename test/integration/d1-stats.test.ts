import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { D1_STATS_PATH, type D1Totals } from "../../bench/service/d1-stats";
import worker from "../../bench/service/index";
import { invalidateSettingsCache } from "../../src/settings/store";
import { BASE, type Json, ORIGIN, oktaUser, SCIM_TOKEN, setSettings, uniqueName } from "../helpers";

interface Counted {
  res: Response;
  body: Json;
  roundTrips: number;
  statements: number;
  /** D1 work done after the response (waitUntil), from the per-isolate totals. */
  deferred: { roundTrips: number; statements: number };
  sqlMs: number;
  /** Rows D1 read for the request's path (meta.rows_read). */
  rowsRead: number;
}

async function totals(): Promise<D1Totals> {
  const res = await worker.fetch(new Request(`${ORIGIN}${D1_STATS_PATH}`), { ...env, D1_STATS: "1" }, createExecutionContext());
  return (await res.json()) as D1Totals;
}

/** One SCIM request through the Worker's own fetch with D1_STATS on; waits for its waitUntil work. */
async function counted(method: string, path: string, body?: unknown): Promise<Counted> {
  const headers: Record<string, string> = { Authorization: `Bearer ${SCIM_TOKEN}`, Accept: "application/scim+json" };
  if (body !== undefined) headers["Content-Type"] = "application/scim+json";
  const before = await totals();
  const ctx = createExecutionContext();
  const req = new Request<unknown, IncomingRequestCfProperties>(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const res = await worker.fetch(req, { ...env, D1_STATS: "1" }, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  const after = await totals();
  return {
    res,
    body: text ? (JSON.parse(text) as Json) : {},
    roundTrips: Number(res.headers.get("X-D1-Round-Trips")),
    statements: Number(res.headers.get("X-D1-Statements")),
    sqlMs: Number(res.headers.get("X-D1-Sql-Ms")),
    rowsRead: Number(res.headers.get("X-D1-Rows-Read")),
    deferred: {
      roundTrips: after.deferred.roundTrips - before.deferred.roundTrips,
      statements: after.deferred.statements - before.deferred.statements,
    },
  };
}

/** Settings are cached per isolate for 5 s: read them once so the measured request finds them cached. */
async function warm(): Promise<void> {
  await counted("GET", "/Users?count=0");
}

describe("D1 statistics (D1_STATS=1)", () => {
  let id = "";
  let userName = "";

  beforeAll(async () => {
    await setSettings();
    userName = uniqueName("Stats");
    await warm();
    const created = await counted("POST", "/Users", oktaUser(userName));
    expect(created.res.status, JSON.stringify(created.body)).toBe(201);
    id = String(created.body.id);
  });

  it("POST /Users: one round trip in all (the change, the settings version it decided with, its outbox row, the log row, the queued stamp)", async () => {
    await warm();
    const r = await counted("POST", "/Users", oktaUser(uniqueName("Stats")));
    expect(r.res.status, JSON.stringify(r.body)).toBe(201);
    expect(r.roundTrips).toBe(1);
    expect(r.statements).toBe(5);
    // After the response only the queue send: the batch already recorded the event as queued.
    expect(r.deferred).toEqual({ roundTrips: 0, statements: 0 });
    const event = await env.DB.prepare("SELECT state, queued_at FROM events WHERE resource_id = ?")
      .bind(String(r.body.id))
      .first<{ state: string; queued_at: string | null }>();
    expect(event?.queued_at).not.toBeNull();
    expect(["queued", "delivered", "undeliverable"]).toContain(event?.state);
  });

  it("GET /Users/{id}: one round trip in all (the user, its groups and its log row in one batch)", async () => {
    await warm();
    const r = await counted("GET", `/Users/${id}`);
    expect(r.res.status, JSON.stringify(r.body)).toBe(200);
    expect(r.roundTrips).toBe(1);
    expect(r.statements).toBe(3);
    expect(r.res.headers.get("X-D1-Sql-Ms")).toMatch(/^\d+(\.\d+)?$/);
    // Nothing is left for after the response: the read's log row was in its batch.
    expect(r.deferred).toEqual({ roundTrips: 0, statements: 0 });
  });

  it("GET /Users/{id} that finds nothing: 404, still one round trip, logged as 404 with its detail", async () => {
    await warm();
    const missing = crypto.randomUUID();
    const r = await counted("GET", `/Users/${missing}`);
    expect(r.res.status).toBe(404);
    expect(r.roundTrips).toBe(1);
    expect(r.deferred).toEqual({ roundTrips: 0, statements: 0 });
    const row = await env.DB.prepare("SELECT status, detail FROM provisioning_log WHERE resource_id = ? ORDER BY seq DESC LIMIT 1")
      .bind(missing)
      .first<{ status: number; detail: string }>();
    expect(row).toEqual({ status: 404, detail: `User ${missing} not found.` });
  });

  it("GET /Users?filter=userName eq: one round trip, two statements (the page is its own count, and the log row)", async () => {
    await warm();
    const r = await counted("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(r.res.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.totalResults).toBe(1);
    expect(r.roundTrips).toBe(1);
    expect(r.statements).toBe(2); // page with groups, log row
    expect(r.deferred).toEqual({ roundTrips: 0, statements: 0 });
  });

  // totalResults is counted whenever the page can't tell it: past the first index, with count=0,
  // or when more than one user can match.
  it.each([
    {
      name: "userName eq, startIndex=2",
      query: (n: string) => `filter=${encodeURIComponent(`userName eq "${n}"`)}&startIndex=2`,
      total: 1,
      resources: 0,
      statements: 3,
    },
    {
      name: "userName eq, count=0",
      query: (n: string) => `filter=${encodeURIComponent(`userName eq "${n}"`)}&count=0`,
      total: 1,
      resources: 0,
      statements: 2,
    },
    {
      name: "userName eq in another letter case",
      query: (n: string) => `filter=${encodeURIComponent(`userName eq "${n.toUpperCase()}"`)}`,
      total: 1,
      resources: 1,
      statements: 2,
    },
    {
      name: "userName eq of nobody",
      query: () => `filter=${encodeURIComponent('userName eq "nobody-at-all@example.com"')}`,
      total: 0,
      resources: 0,
      statements: 2,
    },
    {
      name: "id eq",
      query: (_: string, id: string) => `filter=${encodeURIComponent(`id eq "${id}"`)}`,
      total: 1,
      resources: 1,
      statements: 2,
    },
    {
      name: "userName eq with its schema URN, sorted",
      query: (n: string) =>
        `filter=${encodeURIComponent(`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "${n}"`)}&sortBy=userName&sortOrder=descending`,
      total: 1,
      resources: 1,
      statements: 2,
    },
    {
      name: "userName eq null (no user lacks one)",
      query: () => `filter=${encodeURIComponent("userName eq null")}`,
      total: 0,
      resources: 0,
      statements: 2,
    },
    {
      name: "userName eq … or userName eq …",
      query: (n: string) => `filter=${encodeURIComponent(`userName eq "${n}" or userName eq "x@example.com"`)}`,
      total: 1,
      resources: 1,
      statements: 3,
    },
    {
      name: "emails.value eq (not unique)",
      query: (n: string) => `filter=${encodeURIComponent(`emails.value eq "${n}"`)}`,
      total: 1,
      resources: 1,
      statements: 3,
    },
  ])("GET /Users, $name: totalResults $total with $statements statements", async ({ query, total, resources, statements }) => {
    await warm();
    const r = await counted("GET", `/Users?${query(userName, id)}`);
    expect(r.res.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.totalResults).toBe(total);
    expect((r.body.Resources as unknown[] | undefined)?.length ?? 0).toBe(resources);
    expect([r.roundTrips, r.statements]).toEqual([1, statements]);
  });

  it("GET /Users by cursor: one round trip a page, as by index; the cursor key is read once per isolate", async () => {
    for (let k = 0; k < 3; k++) expect((await counted("POST", "/Users", oktaUser(uniqueName("Cursor")))).res.status).toBe(201);
    await warm();
    await counted("GET", "/Users?count=2&cursor="); // reads the cursor key if this isolate has not yet
    const first = await counted("GET", "/Users?count=2&cursor=");
    expect(first.res.status, JSON.stringify(first.body)).toBe(200);
    expect([first.roundTrips, first.statements]).toEqual([1, 3]); // count, page, log row
    expect(typeof first.body.nextCursor).toBe("string");
    const next = await counted("GET", `/Users?count=2&cursor=${String(first.body.nextCursor)}`);
    expect([next.roundTrips, next.statements]).toEqual([1, 3]);
    expect(next.deferred).toEqual({ roundTrips: 0, statements: 0 });
  });

  it("rows read: a cursor page costs the same wherever it is; an unfiltered total is one row, not the table", async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
       INSERT INTO users (id, user_name, user_name_norm, active, role, data, version, created_at, updated_at)
       SELECT 'rr-' || i, 'rr' || i || '@example.com', 'rr' || i || '@example.com', 1, 'registered',
              json_object('userName', 'rr' || i || '@example.com'), 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n`,
    ).run();
    await warm();
    const total = await counted("GET", "/Users?count=0");
    expect(total.body.totalResults).toBeGreaterThan(3000);
    expect(total.rowsRead).toBeLessThan(10); // the counter row and the log row
    const pages: Counted[] = [await counted("GET", "/Users?count=100&cursor=")];
    for (let k = 0; k < 25; k++) pages.push(await counted("GET", `/Users?count=100&cursor=${String(pages[k]?.body.nextCursor)}`));
    const [first, deep] = [pages[0]?.rowsRead ?? 0, pages[25]?.rowsRead ?? 0];
    expect(first).toBeGreaterThan(100);
    expect(Math.abs(deep - first), `${first} vs ${deep}`).toBeLessThanOrEqual(5);
    // By index, a page as deep steps over every index entry before it.
    const byIndex = await counted("GET", "/Users?count=100&startIndex=2501");
    expect(byIndex.rowsRead).toBeGreaterThan(first + 2400);
  });

  it("GET /Groups?excludedAttributes=members and GET /Groups/{id}: one round trip in all, log row included", async () => {
    const made = await counted("POST", "/Groups", { displayName: uniqueName("StatsGroup") });
    expect(made.res.status, JSON.stringify(made.body)).toBe(201);
    const gid = String(made.body.id);
    await warm();
    const list = await counted("GET", "/Groups?excludedAttributes=members&count=50");
    expect(list.res.status, JSON.stringify(list.body)).toBe(200);
    expect([list.roundTrips, list.statements]).toEqual([1, 3]); // count, page, log row
    expect(list.deferred).toEqual({ roundTrips: 0, statements: 0 });
    const one = await counted("GET", `/Groups/${gid}`);
    expect(one.res.status, JSON.stringify(one.body)).toBe(200);
    expect([one.roundTrips, one.statements]).toEqual([1, 3]); // group, members, log row
    expect(one.deferred).toEqual({ roundTrips: 0, statements: 0 });
    const missing = crypto.randomUUID();
    const gone = await counted("GET", `/Groups/${missing}`);
    expect(gone.res.status).toBe(404);
    expect(gone.roundTrips).toBe(1);
    expect(gone.deferred).toEqual({ roundTrips: 0, statements: 0 });
    const rows = await env.DB.prepare("SELECT status, detail FROM provisioning_log WHERE request_id IN (?, ?) ORDER BY seq")
      .bind(one.res.headers.get("x-request-id"), gone.res.headers.get("x-request-id"))
      .all<{ status: number; detail: string | null }>();
    expect(rows.results).toEqual([
      { status: 200, detail: null },
      { status: 404, detail: `Group ${missing} not found.` },
    ]);
  });

  it("PATCH deactivate: two round trips (read batch, then one write batch)", async () => {
    await warm();
    const r = await counted("PATCH", `/Users/${id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    expect(r.res.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.active).toBe(false);
    expect(r.roundTrips).toBe(2);
    expect(r.statements).toBeGreaterThanOrEqual(2 + 4);
    expect(r.deferred).toEqual({ roundTrips: 0, statements: 0 });
  });

  it("a cold settings cache costs one more round trip; a warm one costs none", async () => {
    invalidateSettingsCache();
    const cold = await counted("GET", `/Users/${id}`);
    const warmRead = await counted("GET", `/Users/${id}`);
    expect([cold.roundTrips, warmRead.roundTrips]).toEqual([2, 1]);
  });

  it("counts nothing and serves no totals unless D1_STATS is 1", async () => {
    const res = await worker.fetch(
      new Request(`${BASE}/Users/${id}`, { headers: { Authorization: `Bearer ${SCIM_TOKEN}` } }),
      env,
      createExecutionContext(),
    );
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("X-D1-Round-Trips")).toBeNull();
    const stats = await worker.fetch(new Request(`${ORIGIN}${D1_STATS_PATH}`), env, createExecutionContext());
    expect(stats.status).toBe(404);
  });
});
