import { env } from "cloudflare:workers";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { filterToSql, GROUP_SQL_TARGET, listClauses, MAX_FILTER_PARAMS, sortToSql, USER_SQL_TARGET } from "../../src/db/filter-sql";
import { selectUserPage } from "../../src/db/lists";
import { ScimError } from "../../src/scim/errors";
import type { Filter } from "../../src/scim/filter/ast";
import { MAX_FILTER_COMPARISONS, parseFilter } from "../../src/scim/filter/parser";
import { GROUP_RESOURCE, USER_RESOURCE } from "../../src/scim/schemas";
import { scimErrorOf } from "./scim-error";

/**
 * What the translator refuses, and that values only ever travel as bound parameters. What the
 * SQL selects is tested on D1 itself (test/integration/filter-sql-d1.test.ts), not as text.
 */
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const dialect = new SQLiteSyncDialect();
const userSql = (filter: string) => dialect.sqlToQuery(filterToSql(parseFilter(filter, USER_RESOURCE), USER_SQL_TARGET));
const groupSql = (filter: string) => dialect.sqlToQuery(filterToSql(parseFilter(filter, GROUP_RESOURCE), GROUP_SQL_TARGET));

describe("filterToSql: attributes that can't be filtered in SQL → 400 invalidFilter", () => {
  it.each([
    { filter: 'members.display eq "x"', on: "Group", detail: /members\.display/ },
    { filter: 'members[display eq "x"]', on: "Group", detail: /members\.display/ },
    { filter: 'meta.location eq "x"', on: "User", detail: /meta\.location/ },
    { filter: 'meta.version eq "x"', on: "User", detail: /meta\.version/ },
    { filter: 'groups.display eq "x"', on: "User", detail: /groups\.display/ },
  ])("$on: $filter", ({ filter, on, detail }) => {
    const err = scimErrorOf(() => (on === "Group" ? groupSql(filter) : userSql(filter)));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe("invalidFilter");
    expect(err.detail).toMatch(detail);
  });
});

describe("filterToSql: D1's bound-parameter limit", () => {
  const orChain = (n: number) => Array.from({ length: n }, (_, i) => `id eq "${i}"`).join(" or ");
  it("binds up to MAX_FILTER_PARAMS values", () => {
    expect(userSql(orChain(MAX_FILTER_PARAMS)).params).toHaveLength(MAX_FILTER_PARAMS);
  });
  it("refuses more with 400 invalidFilter (the email alias binds two per value)", () => {
    for (const filter of [orChain(MAX_FILTER_PARAMS + 1), Array.from({ length: 41 }, () => 'email eq "a"').join(" or ")]) {
      const err = scimErrorOf(() => userSql(filter));
      expect(err.status).toBe(400);
      expect(err.scimType).toBe("invalidFilter");
      expect(err.detail).toMatch(/too many values \(\d+; at most 80\)/);
    }
  });
});

describe("sortToSql (RFC 7644 §3.4.2.3)", () => {
  it.each([
    { sortBy: "userName", sortOrder: "sideways", detail: /sortOrder must be "ascending" or "descending", not "sideways"/ },
    { sortBy: "foo", sortOrder: undefined, detail: /Unknown attribute "foo"/ },
    { sortBy: "password", sortOrder: undefined, detail: /never returned/ },
    { sortBy: "name", sortOrder: undefined, detail: /complex attribute/ },
    { sortBy: "email", sortOrder: undefined, detail: /Unknown attribute "email"/ },
    { sortBy: "groups", sortOrder: undefined, detail: /not supported/ },
  ])("sortBy=$sortBy sortOrder=$sortOrder → 400 invalidValue", ({ sortBy, sortOrder, detail }) => {
    const err = scimErrorOf(() => sortToSql(sortBy, sortOrder, USER_RESOURCE, USER_SQL_TARGET));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe("invalidValue");
    expect(err.detail).toMatch(detail);
  });
});

/** Random filters from the grammar: SQL generation throws nothing but ScimError and binds every value. */
const leaf = fc
  .tuple(
    fc.constantFrom(
      "userName",
      "externalId",
      "active",
      "name.familyName",
      "emails",
      "emails.value",
      "title",
      "meta.lastModified",
      `${ENT}:department`,
      "email",
      "groups",
      "id",
    ),
    fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"),
    fc.oneof(
      fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
      fc.constantFrom("true", "false", "null", "12", '"2011-05-13T04:42:34Z"', "'?'"),
    ),
  )
  .map(([a, op, v]) => `${a} ${op} ${v}`);
const { filter: randomFilter } = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.constantFrom("title pr", "emails pr", "members pr", 'emails[type eq "work" and value co "?"]'),
    fc.tuple(tie("filter"), fc.constantFrom("and", "or"), tie("filter")).map(([l, k, r]) => `(${l}) ${k} ${r}`),
    tie("filter").map((f) => `not (${f})`),
  ),
}));

describe("filterToSql robustness (fast-check)", () => {
  it("placeholders and params always line up; values never reach the SQL text", () => {
    fc.assert(
      fc.property(randomFilter, (text) => {
        let parsed: Filter;
        try {
          parsed = parseFilter(text, USER_RESOURCE);
        } catch (err) {
          expect(err).toBeInstanceOf(ScimError);
          return;
        }
        let query: { sql: string; params: unknown[] };
        try {
          query = dialect.sqlToQuery(filterToSql(parsed, USER_SQL_TARGET));
        } catch (err) {
          // Only the bound-parameter limit can refuse a parsed filter of these attributes.
          expect((err as ScimError).detail).toMatch(/too many values/);
          return;
        }
        expect(query.sql.split("?").length - 1).toBe(query.params.length);
        expect(query.params.length).toBeLessThanOrEqual(MAX_FILTER_PARAMS);
        expect(query.sql).not.toContain("2011");
      }),
      { numRuns: 800 },
    );
  });
});

describe("filterToSql: a filter at the comparison limit fits in one D1 statement", () => {
  /** D1's longest SQL statement (bytes); the list query around the filter is under 3,000 (tested below). */
  const D1_MAX_STATEMENT = 100_000;
  const LIST_QUERY_AROUND = 3_000;
  const leaves: string[] = [];
  for (const attr of [
    ...USER_RESOURCE.schema.attributes.flatMap((a) =>
      a.type === "complex" ? (a.subAttributes ?? []).map((s) => `${a.name}.${s.name}`) : [a.name],
    ),
    ...USER_RESOURCE.extensions.flatMap((e) =>
      e.attributes.flatMap((a) =>
        a.type === "complex" ? (a.subAttributes ?? []).map((s) => `${e.id}:${a.name}.${s.name}`) : [`${e.id}:${a.name}`],
      ),
    ),
    "email",
  ]) {
    for (const op of ["pr", "eq", "co", "sw", "ew", "gt"]) leaves.push(op === "pr" ? `${attr} pr` : `${attr} ${op} "abcdef"`);
  }
  const sqlBytes = (filter: string): number | undefined => {
    try {
      return new TextEncoder().encode(userSql(filter).sql).length;
    } catch (err) {
      if (err instanceof ScimError && err.status === 400) return undefined;
      throw err;
    }
  };

  it("the largest comparison, negated, 100 times in an or-chain, stays under D1's limit", () => {
    const sizes = leaves.flatMap((l) => {
      const n = sqlBytes(`not (${l})`);
      return n === undefined ? [] : [{ l, n }];
    });
    expect(sizes.length).toBeGreaterThan(100);
    const worst = sizes.reduce((a, b) => (b.n > a.n ? b : a));
    // Built as a tree: as text, 100 long URN-qualified names would pass the filter's length limit.
    const leaf = parseFilter(`not (${worst.l})`, USER_RESOURCE);
    const or = (lo: number, hi: number): Filter =>
      hi - lo === 1 ? leaf : { kind: "or", left: or(lo, (lo + hi) >> 1), right: or((lo + hi) >> 1, hi) };
    const bytes = new TextEncoder().encode(dialect.sqlToQuery(filterToSql(or(0, MAX_FILTER_COMPARISONS), USER_SQL_TARGET)).sql).length;
    expect(bytes, worst.l).toBeLessThan(D1_MAX_STATEMENT - LIST_QUERY_AROUND);
  });

  it("and/or are parenthesised: the SQL's nesting is the balanced tree's, not the chain's length", () => {
    const text = userSql(Array.from({ length: 64 }, () => "title pr").join(" or ")).sql;
    let depth = 0;
    let deepest = 0;
    for (const ch of text) {
      if (ch === "(") deepest = Math.max(deepest, ++depth);
      else if (ch === ")") depth--;
    }
    // log2(64) = 6 levels of and/or, each one "(", plus the parentheses inside a leaf.
    expect(deepest).toBeLessThanOrEqual(6 + 4);
  });

  it("a cursor page's statement adds under that much around the filter, and leaves room for its values", () => {
    // The page reads D1 nothing here: drizzle only writes the statement (src/db/lists.ts).
    const db = getDb(env.DB);
    const filter = 'title eq "x"';
    const alone = dialect.sqlToQuery(filterToSql(parseFilter(filter, USER_RESOURCE), USER_SQL_TARGET));
    for (const sortBy of [undefined, "userName", "emails.value", `${ENT}:employeeNumber`, `${ENT}:manager.displayName`]) {
      const { where, sort } = listClauses({ filter, sortBy, sortOrder: "descending" }, USER_RESOURCE, USER_SQL_TARGET);
      for (const direction of ["next", "previous"] as const) {
        const window = {
          where,
          sort,
          from: { direction, key: "k", seq: 5 },
          offset: 0,
          count: 200,
          lookahead: 1 as const,
          budget: 1,
          method: "cursor" as const,
        };
        const page = selectUserPage(db, USER_SQL_TARGET, window, true, 100).toSQL();
        expect(new TextEncoder().encode(page.sql).length - alone.sql.length, String(sortBy)).toBeLessThan(LIST_QUERY_AROUND);
        // D1 binds at most 100 values per statement.
        expect(page.params.length - alone.params.length + MAX_FILTER_PARAMS, String(sortBy)).toBeLessThanOrEqual(100);
      }
    }
  });

  it(`more than ${MAX_FILTER_COMPARISONS} comparisons is 400 invalidFilter naming the limit`, () => {
    const err = scimErrorOf(() => userSql(Array.from({ length: MAX_FILTER_COMPARISONS + 1 }, () => "title pr").join(" or ")));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe("invalidFilter");
    expect(err.detail).toContain(`${MAX_FILTER_COMPARISONS + 1} attribute comparisons; at most ${MAX_FILTER_COMPARISONS}`);
    expect(userSql(Array.from({ length: MAX_FILTER_COMPARISONS }, () => "title pr").join(" or ")).sql.length).toBeGreaterThan(0);
    // Inside [...] they count too.
    const inner = Array.from({ length: MAX_FILTER_COMPARISONS + 1 }, () => "type pr").join(" or ");
    expect(scimErrorOf(() => userSql(`emails[${inner}]`)).scimType).toBe("invalidFilter");
  });
});
