import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterToSql, GROUP_SQL_TARGET, MAX_FILTER_PARAMS, sortToSql, USER_SQL_TARGET } from "../../src/db/filter-sql";
import { ScimError } from "../../src/scim/errors";
import type { Filter } from "../../src/scim/filter/ast";
import { parseFilter } from "../../src/scim/filter/parser";
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
