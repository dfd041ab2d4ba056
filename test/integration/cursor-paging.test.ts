import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { listClauses, USER_SQL_TARGET } from "../../src/db/filter-sql";
import { selectUserPage } from "../../src/db/lists";
import { serviceKey } from "../../src/keys/service-key";
import { encodeCursor, queryDigest } from "../../src/scim/cursor";
import { USER_RESOURCE } from "../../src/scim/schemas";
import { createUser, expectScimError, expectStatus, type Json, oktaUser, scim, setSettings } from "../helpers";

/**
 * RFC 9865 cursor paging through the Worker on real D1: a walk visits every matching user once
 * whatever is created or deleted between its pages, in every sort order; each error of §2.1;
 * GET and .search agree; and the ServiceProviderConfig says so, valid against its own schema.
 */

const q = encodeURIComponent;
const ids = (body: Json) => ((body.Resources as Json[]) ?? []).map((r) => r.id as string);

async function page(path: string): Promise<Json> {
  return expectStatus(await scim("GET", path), 200);
}

/** Every page of a cursor walk (forward), calling `between` after each. */
async function walk(path: (cursor: string) => string, between: (n: number) => Promise<void> = async () => {}): Promise<Json[]> {
  const pages: Json[] = [];
  let cursor = "";
  for (let n = 0; n < 500; n++) {
    const body = await page(path(cursor));
    pages.push(body);
    expect(body).not.toHaveProperty("startIndex");
    expect(body.itemsPerPage).toBe((body.Resources as Json[]).length);
    if (n === 0) expect(body).not.toHaveProperty("previousCursor");
    if (typeof body.nextCursor !== "string") return pages;
    expect(body.nextCursor).toMatch(/^[A-Za-z0-9._~-]+$/);
    cursor = body.nextCursor;
    await between(n);
  }
  throw new Error("the walk did not end");
}

const SORTS = [
  { sortBy: undefined, sortOrder: undefined },
  { sortBy: "userName", sortOrder: "ascending" },
  { sortBy: "userName", sortOrder: "descending" },
  // Nullable, with ties: unassigned titles sort last in both directions, ties by insertion order.
  { sortBy: "title", sortOrder: "ascending" },
  { sortBy: "title", sortOrder: "descending" },
  { sortBy: "name.familyName", sortOrder: "descending" },
  { sortBy: "meta.created", sortOrder: "descending" },
  { sortBy: "emails", sortOrder: "ascending" },
];
const TITLES = [undefined, "Eng", "eng", "Ops", "ÄRZTIN", "zeta", undefined, "Eng"];

const sortQuery = (s: (typeof SORTS)[number]) =>
  `${s.sortBy ? `&sortBy=${q(s.sortBy)}` : ""}${s.sortOrder ? `&sortOrder=${s.sortOrder}` : ""}`;

let made = 0;
async function makeUser(tag: string, k: number): Promise<string> {
  made++;
  const title = TITLES[made % TITLES.length];
  const body = oktaUser(`${tag}.${(k * 7919) % 1000}.${made}@example.com`, {
    name: { givenName: "P", familyName: `F${(made * 3) % 5}` },
    ...(title ? { title } : {}),
  });
  return (await createUser(body)).id as string;
}

describe("cursor paging (RFC 9865)", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("a filtered, sorted walk visits every user that stays exactly once while others are created and deleted between pages", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SORTS),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ create: fc.integer({ min: 0, max: 2 }), remove: fc.integer({ min: 0, max: 2 }) }), {
          minLength: 12,
          maxLength: 12,
        }),
        async (sort, count, changes) => {
          const tag = `cw${crypto.randomUUID().slice(0, 8)}`;
          const present = new Set<string>();
          for (let k = 0; k < 10; k++) present.add(await makeUser(tag, k));
          const stable = new Set(present);
          // One user outside the filter, to show the filter holds across pages.
          await createUser(oktaUser(`other${tag}@example.com`));
          const filter = q(`userName sw "${tag}."`);
          const pages = await walk(
            (cursor) => `/Users?filter=${filter}&count=${count}${sortQuery(sort)}&cursor=${cursor}`,
            async (n) => {
              const change = changes[n % changes.length] ?? { create: 0, remove: 0 };
              for (let i = 0; i < change.create; i++) present.add(await makeUser(tag, n * 10 + i));
              for (let i = 0; i < change.remove; i++) {
                const victim = [...present][(n * 3 + i) % present.size];
                if (!victim) continue;
                await expectStatus(await scim("DELETE", `/Users/${victim}`), 204);
                present.delete(victim);
                stable.delete(victim);
              }
            },
          );
          const seen = pages.flatMap(ids);
          expect(new Set(seen).size, "no user twice").toBe(seen.length);
          for (const id of stable) expect(seen, `stable user ${id} visited`).toContain(id);
          for (const p of pages) expect((p.Resources as Json[]).length).toBeLessThanOrEqual(count);
          // The walk's order is the list's order: those still there appear as the full list has them.
          const full = ids(await page(`/Users?filter=${filter}&count=200${sortQuery(sort)}`));
          const there = seen.filter((id) => full.includes(id));
          expect(there).toEqual(full.filter((id) => there.includes(id)));
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it("previousCursor walks back through the same pages; none on the first page", async () => {
    const tag = `pb${crypto.randomUUID().slice(0, 8)}`;
    for (let k = 0; k < 7; k++) await makeUser(tag, k);
    for (const sort of SORTS) {
      const path = (cursor: string) => `/Users?filter=${q(`userName sw "${tag}."`)}&count=2${sortQuery(sort)}&cursor=${cursor}`;
      const forward = await walk(path);
      expect(forward.map((p) => ids(p).length)).toEqual([2, 2, 2, 1]);
      let body = forward[forward.length - 1] as Json;
      const back = [ids(body)];
      while (typeof body.previousCursor === "string") {
        body = await page(path(body.previousCursor));
        back.unshift(ids(body));
      }
      expect(back, JSON.stringify(sort)).toEqual(forward.map(ids));
      expect(body).not.toHaveProperty("previousCursor");
    }
  });

  it("GET and POST .search give the same pages, and a cursor from one goes on in the other", async () => {
    const tag = `gs${crypto.randomUUID().slice(0, 8)}`;
    for (let k = 0; k < 5; k++) await makeUser(tag, k);
    const filter = `userName sw "${tag}."`;
    const viaGet = await walk((c) => `/Users?filter=${q(filter)}&count=2&sortBy=title&attributes=userName,title&cursor=${c}`);
    const viaSearch: Json[] = [];
    let cursor = "";
    for (;;) {
      const body = await expectStatus(
        await scim("POST", "/Users/.search", { filter, count: 2, sortBy: "title", attributes: ["userName", "title"], cursor }),
        200,
      );
      viaSearch.push(body);
      if (typeof body.nextCursor !== "string") break;
      cursor = body.nextCursor;
    }
    expect(viaSearch.map(ids)).toEqual(viaGet.map(ids));
    expect(((viaGet[0]?.Resources ?? []) as Json[])[0]).not.toHaveProperty("emails");
    const mixed = await expectStatus(
      await scim("POST", "/Users/.search", {
        filter,
        count: 2,
        sortBy: "title",
        attributes: ["userName", "title"],
        cursor: viaGet[0]?.nextCursor,
      }),
      200,
    );
    expect(ids(mixed)).toEqual(ids(viaGet[1] as Json));
  });

  it("Groups page by cursor too, with their members", async () => {
    const tag = `gp${crypto.randomUUID().slice(0, 8)}`;
    const member = await makeUser(tag, 1);
    const created: string[] = [];
    for (let k = 0; k < 5; k++) {
      const g = await expectStatus(await scim("POST", "/Groups", { displayName: `${tag} ${5 - k}`, members: [{ value: member }] }), 201);
      created.push(g.id as string);
    }
    const pages = await walk((c) => `/Groups?filter=${q(`displayName sw "${tag}"`)}&count=2&sortBy=displayName&cursor=${c}`);
    expect(pages.flatMap(ids)).toEqual([...created].reverse());
    for (const p of pages) for (const g of p.Resources as Json[]) expect((g.members as Json[]).map((m) => m.value)).toEqual([member]);
  });

  it("the root /.search pages by cursor through Users, then Groups, and back", async () => {
    const tag = `rs${crypto.randomUUID().slice(0, 8)}`;
    const users: string[] = [];
    for (let k = 0; k < 3; k++)
      users.push((await createUser(oktaUser(`${tag}${k}@example.com`, { externalId: `${tag}-u${k}` }))).id as string);
    const groups: string[] = [];
    for (let k = 0; k < 4; k++)
      groups.push(
        (await expectStatus(await scim("POST", "/Groups", { displayName: `G${k}`, externalId: `${tag}-g${k}` }), 201)).id as string,
      );
    const search = (cursor: string) => scim("POST", "/.search", { filter: `externalId sw "${tag}"`, count: 2, cursor });
    const pages: Json[] = [];
    let cursor = "";
    for (;;) {
      const body = await expectStatus(await search(cursor), 200);
      expect(body.totalResults).toBe(7);
      pages.push(body);
      if (typeof body.nextCursor !== "string") break;
      cursor = body.nextCursor;
    }
    expect(pages.map(ids)).toEqual([[users[0], users[1]], [users[2], groups[0]], [groups[1], groups[2]], [groups[3]]]);
    let body = pages[pages.length - 1] as Json;
    const back = [ids(body)];
    while (typeof body.previousCursor === "string") {
      body = await expectStatus(await search(body.previousCursor), 200);
      back.unshift(ids(body));
    }
    expect(back).toEqual(pages.map(ids));
    // Filling a page exactly at the end of the users still points on to the groups.
    const exact = await expectStatus(await scim("POST", "/.search", { filter: `externalId sw "${tag}"`, count: 3, cursor: "" }), 200);
    expect(ids(exact)).toEqual(users);
    expect(typeof exact.nextCursor).toBe("string");
  });

  it("count=0 gives totalResults only, and no cursor", async () => {
    const body = await page(`/Users?count=0&cursor=`);
    expect(body.itemsPerPage).toBe(0);
    expect(body.totalResults).toEqual(expect.any(Number));
    expect(body).not.toHaveProperty("nextCursor");
  });
});

describe("cursor errors (RFC 9865 §2.1): 400 with the RFC's scimType and a detail to act on", () => {
  const tag = `ce${crypto.randomUUID().slice(0, 8)}`;
  const filter = q(`userName sw "${tag}."`);
  let next = "";

  beforeAll(async () => {
    await setSettings();
    for (let k = 0; k < 4; k++) await makeUser(tag, k);
    next = (await page(`/Users?filter=${filter}&count=2&sortBy=userName&cursor=`)).nextCursor as string;
    expect(typeof next).toBe("string");
  });

  it("the cursor works unchanged", async () => {
    expect(ids(await page(`/Users?filter=${filter}&count=2&sortBy=userName&cursor=${next}`))).toHaveLength(2);
  });

  it.each([
    { name: "forged", cursor: () => "WzEsIngiLDIsMSwwLDAsbnVsbCwxXQ.AAAAAAAAAAAAAAAAAAAAAA", detail: /changed, or not issued/ },
    {
      name: "tampered",
      cursor: () => `${next.slice(0, 5)}${next[5] === "A" ? "B" : "A"}${next.slice(6)}`,
      detail: /changed, or not issued/,
    },
    { name: "outside the unreserved characters", cursor: () => `${next}%2F`, detail: /characters/ },
    { name: "junk", cursor: () => "not-a-cursor", detail: /not a cursor this service issued/ },
  ])("$name → invalidCursor", async ({ cursor, detail }) => {
    const body = await expectScimError(
      await scim("GET", `/Users?filter=${filter}&count=2&sortBy=userName&cursor=${cursor()}`),
      400,
      "invalidCursor",
    );
    expect(body.detail).toMatch(detail);
    expect(body.detail).toMatch(/empty cursor for the first page/);
  });

  it.each([
    { name: "another filter", path: () => `/Users?filter=${q(`userName sw "${tag}"`)}&count=2&sortBy=userName&cursor=${next}` },
    { name: "no filter", path: () => `/Users?count=2&sortBy=userName&cursor=${next}` },
    { name: "another sortBy", path: () => `/Users?filter=${filter}&count=2&sortBy=displayName&cursor=${next}` },
    { name: "another sortOrder", path: () => `/Users?filter=${filter}&count=2&sortBy=userName&sortOrder=descending&cursor=${next}` },
    { name: "attributes added", path: () => `/Users?filter=${filter}&count=2&sortBy=userName&attributes=userName&cursor=${next}` },
    {
      name: "excludedAttributes added",
      path: () => `/Users?filter=${filter}&count=2&sortBy=userName&excludedAttributes=emails&cursor=${next}`,
    },
    { name: "another endpoint", path: () => `/Groups?filter=${filter}&count=2&sortBy=userName&cursor=${next}` },
  ])("$name → invalidCursor", async ({ path }) => {
    const body = await expectScimError(await scim("GET", path()), 400, "invalidCursor");
    expect(body.detail).toMatch(/different query/);
  });

  it("the same parameters written differently are the same query", async () => {
    await page(`/Users?FILTER=${filter}&Count=2&sortby=USERNAME&sortOrder=ascending&cursor=${next}`);
  });

  it("another count, or one past maxPageSize → invalidCount", async () => {
    const changed = await expectScimError(
      await scim("GET", `/Users?filter=${filter}&count=3&sortBy=userName&cursor=${next}`),
      400,
      "invalidCount",
    );
    expect(changed.detail).toMatch(/stay 2/);
    const none = await expectScimError(await scim("GET", `/Users?filter=${filter}&sortBy=userName&cursor=${next}`), 400, "invalidCount");
    expect(none.detail).toMatch(/stay 2.* it is 200/);
    const big = await expectScimError(await scim("GET", `/Users?count=201&cursor=`), 400, "invalidCount");
    expect(big.detail).toMatch(/between 0 and 200 \(maxPageSize\)/);
    await expectScimError(await scim("GET", `/Users?count=many&cursor=`), 400, "invalidCount");
  });

  it("a cursor older than cursorTimeout → expiredCursor", async () => {
    const key = await serviceKey(getDb(env.DB), "cursor");
    const query = await queryDigest({
      endpoint: "Users",
      filter: `userName sw "${tag}."`,
      sortBy: "userName",
      sortOrder: undefined,
      attributes: undefined,
      excludedAttributes: undefined,
    });
    const now = Math.floor(Date.now() / 1000);
    const aged = (age: number) =>
      encodeCursor(key, { query, count: 2, issuedAt: now - age, direction: "next", position: { stage: 0, key: "", seq: 0 } });
    await page(`/Users?filter=${filter}&count=2&sortBy=userName&cursor=${await aged(3500)}`);
    const body = await expectScimError(
      await scim("GET", `/Users?filter=${filter}&count=2&sortBy=userName&cursor=${await aged(3700)}`),
      400,
      "expiredCursor",
    );
    expect(body.detail).toMatch(/valid for 3600 \(cursorTimeout\)/);
  });

  it("startIndex and cursor together → 400 invalidValue", async () => {
    await expectScimError(await scim("GET", `/Users?startIndex=1&cursor=`), 400, "invalidValue");
  });

  it("the same errors through POST .search", async () => {
    const search = (body: Json) => scim("POST", "/Users/.search", { filter: `userName sw "${tag}."`, sortBy: "userName", ...body });
    await expectScimError(await search({ count: 2, cursor: "junk" }), 400, "invalidCursor");
    await expectScimError(await search({ count: 2, cursor: next, attributes: ["userName"] }), 400, "invalidCursor");
    await expectScimError(await search({ count: 3, cursor: next }), 400, "invalidCount");
    await expectScimError(await search({ count: 500, cursor: "" }), 400, "invalidCount");
    expect(ids(await expectStatus(await search({ count: 2, cursor: next }), 200))).toHaveLength(2);
  });
});

describe("ServiceProviderConfig: the pagination block (RFC 9865 §4), valid against its schema in /Schemas", () => {
  type Attr = { name: string; type: string; required: boolean; description: string; canonicalValues?: string[]; subAttributes?: Attr[] };

  it("advertises both methods, index the default, and the limits the service enforces", async () => {
    await setSettings();
    const spc = await page("/ServiceProviderConfig");
    expect(spc.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: "index",
      defaultPageSize: 200,
      maxPageSize: 200,
      cursorTimeout: 3600,
    });
    expect((spc.filter as Json).maxResults).toBe(200);
  });

  it("every pagination value has the type its schema gives, the required ones are there, and nothing is undefined", async () => {
    const schema = await page("/Schemas/urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
    const def = (schema.attributes as Attr[]).find((a) => a.name === "pagination");
    expect(def).toMatchObject({ type: "complex", multiValued: false, mutability: "readOnly" });
    const value = (await page("/ServiceProviderConfig")).pagination as Json;
    const types: Record<string, (v: unknown) => boolean> = {
      boolean: (v) => typeof v === "boolean",
      integer: (v) => Number.isInteger(v),
      string: (v) => typeof v === "string",
    };
    const subs = def?.subAttributes ?? [];
    expect(subs.map((s) => s.name).sort()).toEqual(Object.keys(value).sort());
    for (const sub of subs) {
      const v = value[sub.name];
      if (sub.required) expect(v, sub.name).toBeDefined();
      if (v === undefined) continue;
      expect(types[sub.type]?.(v), `${sub.name} is ${sub.type}`).toBe(true);
      if (sub.canonicalValues) expect(sub.canonicalValues).toContain(v);
      if (sub.type === "integer") expect(v as number).toBeGreaterThan(0);
    }
    expect(subs.find((s) => s.name === "maxPageSize")?.description).toMatch(/4 MiB/);
  });
});

describe("totalResults without a filter comes from the counter the triggers keep", () => {
  it("it is the number of rows after creates, Bulk creates and deletes", async () => {
    await setSettings();
    const rows = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n;
    const total = async (path: string) => (await page(path)).totalResults;
    const tag = `tc${crypto.randomUUID().slice(0, 8)}`;
    const a = await makeUser(tag, 1);
    await makeUser(tag, 2);
    const bulk = await expectStatus(
      await scim("POST", "/Bulk", {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "b1", data: oktaUser(`${tag}.bulk@example.com`) },
          { method: "POST", path: "/Groups", bulkId: "b2", data: { displayName: `${tag} group` } },
        ],
      }),
      200,
    );
    expect((bulk.Operations as Json[]).map((o) => o.status)).toEqual(["201", "201"]);
    await expectStatus(await scim("DELETE", `/Users/${a}`), 204);
    expect(await total("/Users?count=0")).toBe(await rows("users"));
    expect(await total("/Users?count=1&cursor=")).toBe(await rows("users"));
    expect(await total("/Groups?count=0")).toBe(await rows("groups"));
    const g = (await page(`/Groups?filter=${q(`displayName eq "${tag} group"`)}`)).Resources as Json[];
    await expectStatus(await scim("DELETE", `/Groups/${g[0]?.id as string}`), 204);
    expect(await total("/Groups?startIndex=1&count=5")).toBe(await rows("groups"));
  });
});

describe("a cursor page is a range read of the order's index, whatever its depth", () => {
  const db = getDb(env.DB);
  /** The plan's lines for the step that picks the page's candidates (the innermost subquery). */
  async function candidatesPlan(
    sortBy: string | undefined,
    sortOrder: string | undefined,
    direction: "next" | "previous",
    key: string | null,
  ) {
    const { where, sort } = listClauses({ filter: undefined, sortBy, sortOrder }, USER_RESOURCE, USER_SQL_TARGET);
    const query = selectUserPage(
      db,
      USER_SQL_TARGET,
      { where, sort, from: { direction, key, seq: 5 }, offset: 0, count: 100, lookahead: 1, budget: 4_194_304, method: "cursor" },
      true,
      30,
    );
    const { sql: text, params } = query.toSQL();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${text}`)
      .bind(...params)
      .all<{ detail: string }>();
    return plan.results.map((r) => r.detail);
  }

  it.each([
    {
      sortBy: undefined,
      sortOrder: undefined,
      direction: "next" as const,
      key: null,
      index: /SEARCH u USING COVERING INDEX users_seq_idx \(seq>\?\)/,
      ties: false,
    },
    {
      sortBy: undefined,
      sortOrder: undefined,
      direction: "previous" as const,
      key: null,
      index: /SEARCH u USING COVERING INDEX users_seq_idx \(seq<\?\)/,
      ties: false,
    },
    {
      sortBy: "userName",
      sortOrder: "ascending",
      direction: "next" as const,
      key: "m",
      index: /SEARCH u USING COVERING INDEX users_user_name_norm_uq \(user_name_norm>\?\)/,
      ties: true,
    },
    {
      sortBy: "userName",
      sortOrder: "descending",
      direction: "next" as const,
      key: "m",
      index: /SEARCH u USING COVERING INDEX users_user_name_norm_uq \(user_name_norm<\?\)/,
      ties: true,
    },
  ])("sortBy=$sortBy $sortOrder, $direction", async ({ sortBy, sortOrder, direction, key, index, ties }) => {
    const plan = await candidatesPlan(sortBy, sortOrder, direction, key);
    expect(plan.join("\n")).toMatch(index);
    // No step scans the users table or sorts it: the only sort is of the page's own candidates.
    // By userName, seq orders the users that share a folded userName (legacy pairs the refold kept,
    // migration 0011): the unique index's second column is not seq, so SQLite sorts each run of
    // equal userNames as it reads the range ("LAST TERM"), and stops once the page is full.
    expect(plan.filter((d) => /^SCAN u\b/.test(d))).toEqual([]);
    expect(plan.filter((d) => /TEMP B-TREE/.test(d))).toEqual([
      ...(ties ? ["USE TEMP B-TREE FOR LAST TERM OF ORDER BY"] : []),
      "USE TEMP B-TREE FOR ORDER BY",
    ]);
  });
});
