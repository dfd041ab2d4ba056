import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { expectScimError, expectStatus, type Json, scim, setSettings } from "../helpers";

/**
 * A list answer must fit in a Worker (128 MB for every request an isolate serves at once). Twenty
 * groups of 10,000 members made a 24 MiB answer of `GET /Groups?count=20`; users of ~1 MB each made
 * `GET /Users?count=200` about 140 MiB. A page now carries at most 4 MiB of resources as stored:
 * by index a bigger one is refused with 400 tooMany and what to do instead; by cursor it ends
 * early and nextCursor goes on, so a client still reads everything.
 */

const MEMBERS = 10_000;
const GROUPS = 20;
const BIG_USERS = 12;
const BUDGET = 4 * 1024 * 1024;
const q = encodeURIComponent;
const tag = `sz${crypto.randomUUID().slice(0, 8)}`;

const bytes = async (res: Response) => new TextEncoder().encode(await res.clone().text()).length;

describe("list answers stay within 4 MiB (issue: a list that cannot fit in a Worker)", () => {
  beforeAll(async () => {
    await setSettings();
    const at = "2026-01-01T00:00:00.000Z";
    // Written straight into D1, shaped as the service writes them: 10,000 users, 20 groups that
    // each hold all of them, and 12 users of about 1 MB each (100 addresses of long fields).
    await env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO users (id, user_name, user_name_norm, display_name, active, role, data, version, created_at, updated_at)
         SELECT ?2 || '-m-' || i, ?2 || '.m' || i || '@example.com', ?2 || '.m' || i || '@example.com', 'Member ' || i, 1, 'registered',
                json_object('userName', ?2 || '.m' || i || '@example.com', 'displayName', 'Member ' || i), 1, ?3, ?3 FROM n`,
      ).bind(MEMBERS, tag, at),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO groups (id, display_name, display_name_norm, data, version, created_at, updated_at)
         SELECT ?2 || '-g-' || i, ?2 || ' group ' || i, ?2 || ' group ' || i, json_object('displayName', ?2 || ' group ' || i), 1, ?3, ?3 FROM n`,
      ).bind(GROUPS, tag, at),
      env.DB.prepare(
        `INSERT INTO group_members (group_id, user_id, added_at)
         SELECT g.id, u.id, ?2 FROM groups g, users u WHERE g.id LIKE ?1 || '-g-%' AND u.id LIKE ?1 || '-m-%'`,
      ).bind(tag, at),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
           a(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM a WHERE j < 100)
         INSERT INTO users (id, user_name, user_name_norm, active, role, data, version, created_at, updated_at)
         SELECT ?2 || '-b-' || i, ?2 || '.big' || i || '@example.com', ?2 || '.big' || i || '@example.com', 1, 'registered',
                json_object('userName', ?2 || '.big' || i || '@example.com', 'addresses', (SELECT json_group_array(json_object(
                  'formatted', hex(randomblob(600)), 'streetAddress', hex(randomblob(600)), 'locality', hex(randomblob(600)),
                  'region', hex(randomblob(600)), 'postalCode', hex(randomblob(600)), 'country', hex(randomblob(600)), 'type', 'work'))
                FROM a)), 1, ?3, ?3 FROM n`,
      ).bind(BIG_USERS, tag, at),
    ]);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM group_members WHERE group_id LIKE ?")
      .bind(`${tag}-g-%`)
      .first<{ n: number }>();
    expect(n?.n).toBe(MEMBERS * GROUPS);
  }, 120_000);

  const groupsFilter = q(`displayName sw "${tag} group"`);
  const bigUsers = q(`userName sw "${tag}.big"`);

  it("GET /Groups?count=20 with members: 400 tooMany saying what to do, logged as such", async () => {
    const requestId = `size-${crypto.randomUUID()}`;
    const res = await scim("GET", `/Groups?count=${GROUPS}&filter=${groupsFilter}`, undefined, { headers: { "cf-ray": requestId } });
    const body = await expectScimError(res, 400, "tooMany");
    expect(body.detail).toMatch(/4 MiB/);
    expect(body.detail).toMatch(/excludedAttributes=members/);
    expect(body.detail).toMatch(/GET \/Groups\/\{id\}/);
    await vi.waitUntil(
      async () => (await env.DB.prepare("SELECT 1 FROM provisioning_log WHERE request_id = ?").bind(requestId).first()) !== null,
    );
    const row = await env.DB.prepare("SELECT status, detail FROM provisioning_log WHERE request_id = ?").bind(requestId).first();
    expect(row).toEqual({ status: 400, detail: body.detail });
  });

  it("the same groups without members: one small answer", async () => {
    const res = await scim("GET", `/Groups?count=${GROUPS}&filter=${groupsFilter}&excludedAttributes=members`);
    const body = await expectStatus(res, 200);
    expect(body.itemsPerPage).toBe(GROUPS);
    expect(await bytes(res)).toBeLessThan(20_000);
  });

  it("by cursor: pages end early within 4 MiB, and the walk reads every group with all its members", async () => {
    const seen = new Map<string, number>();
    let cursor = "";
    let pages = 0;
    for (;;) {
      const res = await scim("GET", `/Groups?count=${GROUPS}&filter=${groupsFilter}&sortBy=displayName&cursor=${cursor}`);
      const body = await expectStatus(res, 200);
      pages++;
      expect(await bytes(res)).toBeLessThanOrEqual(BUDGET);
      expect(body.itemsPerPage).toBeGreaterThan(0);
      for (const g of body.Resources as Json[]) seen.set(g.id as string, (g.members as Json[]).length);
      if (typeof body.nextCursor !== "string") break;
      cursor = body.nextCursor;
    }
    expect(pages).toBeGreaterThan(4);
    expect(seen.size).toBe(GROUPS);
    for (const members of seen.values()) expect(members).toBe(MEMBERS);
  }, 60_000);

  it("users of ~1 MB: by index 400 tooMany, by cursor short pages that reach them all", async () => {
    const refused = await expectScimError(await scim("GET", `/Users?count=200&filter=${bigUsers}`), 400, "tooMany");
    expect(refused.detail).toMatch(/4 MiB/);
    const one = await scim("GET", `/Users?count=1&filter=${bigUsers}`);
    expect((await expectStatus(one, 200)).itemsPerPage).toBe(1);
    const seen: string[] = [];
    let cursor = "";
    for (;;) {
      const res = await scim("GET", `/Users?count=200&filter=${bigUsers}&cursor=${cursor}`);
      const body = await expectStatus(res, 200);
      expect(await bytes(res)).toBeLessThanOrEqual(BUDGET);
      expect(body.itemsPerPage).toBeLessThan(BIG_USERS);
      seen.push(...(body.Resources as Json[]).map((u) => u.id as string));
      if (typeof body.nextCursor !== "string") break;
      cursor = body.nextCursor;
    }
    expect(new Set(seen).size).toBe(BIG_USERS);
  }, 60_000);

  it("the root /.search shares one budget between its users and groups", async () => {
    const filter = `id sw "${tag}-g-" or id sw "${tag}-b-"`;
    await expectScimError(await scim("POST", "/.search", { filter, count: 50 }), 400, "tooMany");
    const res = await scim("POST", "/.search", { filter, count: 50, cursor: "" });
    const body = await expectStatus(res, 200);
    expect(await bytes(res)).toBeLessThanOrEqual(BUDGET);
    expect(typeof body.nextCursor).toBe("string");
  });
});
