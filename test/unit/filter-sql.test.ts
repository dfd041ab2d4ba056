import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterToSql, GROUP_SQL_TARGET, MAX_FILTER_PARAMS, type SqlFragment, sortToSql, USER_SQL_TARGET } from "../../src/db/filter-sql";
import { ScimError } from "../../src/scim/errors";
import type { Filter } from "../../src/scim/filter/ast";
import { parseFilter } from "../../src/scim/filter/parser";
import { GROUP_RESOURCE, USER_RESOURCE } from "../../src/scim/schemas";
import { scimErrorOf } from "./scim-error";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const userSql = (filter: string) => filterToSql(parseFilter(filter, USER_RESOURCE), USER_SQL_TARGET);
const groupSql = (filter: string) => filterToSql(parseFilter(filter, GROUP_RESOURCE), GROUP_SQL_TARGET);
const present = (doc: string, path: string) =>
  `CASE json_type(${doc}, '${path}') WHEN 'text' THEN json_extract(${doc}, '${path}') <> '' ` +
  `WHEN 'array' THEN json_array_length(${doc}, '${path}') > 0 WHEN 'object' THEN json_extract(${doc}, '${path}') <> '{}' ` +
  `WHEN 'null' THEN 0 ELSE json_type(${doc}, '${path}') IS NOT NULL END`;
const emailsExists = (where: string) =>
  `EXISTS (SELECT 1 FROM json_each(u.data, '$."emails"') AS e1 WHERE e1.type = 'object' AND ${where})`;

describe("filterToSql: Users", () => {
  const cases: { filter: string; text: string; params: (string | number)[] }[] = [
    // The unique index on the folded column; the value folded the same way (NFKC + lower).
    { filter: 'userName eq "ÄNNE@x"', text: "u.user_name_norm = ?", params: ["änne@x"] },
    { filter: 'userName ne "a"', text: "NOT (u.user_name_norm = ?)", params: ["a"] },
    { filter: 'userName gt "M"', text: "u.user_name_norm > ?", params: ["m"] },
    // SPEC §11: % _ and \ are literal in co / sw / ew.
    { filter: 'userName co "50%_off\\\\"', text: "u.user_name_norm LIKE ? ESCAPE '\\'", params: ["%50\\%\\_off\\\\%"] },
    { filter: 'userName sw "A_"', text: "u.user_name_norm LIKE ? ESCAPE '\\'", params: ["a\\_%"] },
    { filter: 'userName ew "%"', text: "u.user_name_norm LIKE ? ESCAPE '\\'", params: ["%\\%"] },
    // caseExact: GLOB (case-sensitive) with * ? [ made literal.
    { filter: 'externalId sw "a*b?[c"', text: "u.external_id GLOB ?", params: ["a[*]b[?][[]c*"] },
    { filter: 'id ew "X"', text: "u.id GLOB ?", params: ["*X"] },
    { filter: 'externalId eq "X"', text: "u.external_id = ?", params: ["X"] },
    // ne is NOT eq: rows without an externalId match.
    { filter: 'externalId ne "X"', text: "NOT COALESCE(u.external_id = ?, 0)", params: ["X"] },
    { filter: "externalId pr", text: "(u.external_id IS NOT NULL AND u.external_id <> '')", params: [] },
    { filter: "active eq false", text: "u.active = ?", params: [0] },
    { filter: "active pr", text: "u.active IS NOT NULL", params: [] },
    { filter: 'displayName eq "Babs"', text: "lower(u.display_name) = ?", params: ["babs"] },
    { filter: 'userType eq "Employee"', text: "lower(u.user_type) = ?", params: ["employee"] },
    { filter: 'meta.lastModified gt "2011-05-13T04:42:34+02:00"', text: "u.updated_at > ?", params: ["2011-05-13T02:42:34.000Z"] },
    { filter: "meta.created le 2015-10-10T14:38:21.8617979-07:00", text: "u.created_at <= ?", params: ["2015-10-10T21:38:21.861Z"] },
    { filter: 'meta.resourceType eq "User"', text: "'User' = ?", params: ["User"] },
    { filter: 'name.familyName eq "J"', text: `lower(json_extract(u.data, '$."name"."familyName"')) = ?`, params: ["j"] },
    { filter: 'title ne "x"', text: `NOT COALESCE(lower(json_extract(u.data, '$."title"')) = ?, 0)`, params: ["x"] },
    { filter: "title pr", text: present("u.data", '$."title"'), params: [] },
    { filter: "nickName eq null", text: `NOT (${present("u.data", '$."nickName"')})`, params: [] },
    { filter: "nickName ne null", text: present("u.data", '$."nickName"'), params: [] },
    {
      filter: `${ENT}:department eq "Eng"`,
      text: `lower(json_extract(u.data, '$."${ENT}"."department"')) = ?`,
      params: ["eng"],
    },
    { filter: 'manager eq "M1"', text: `json_extract(u.data, '$."${ENT}"."manager"."value"') = ?`, params: ["M1"] },
    {
      filter: 'emails co "@x"',
      text: emailsExists(`json_extract(e1.value, '$."value"') LIKE ? ESCAPE '\\'`),
      params: ["%@x%"],
    },
    {
      filter: 'emails[type eq "work"].value eq "A@b.c"',
      text: emailsExists(`lower(json_extract(e1.value, '$."type"')) = ? AND lower(json_extract(e1.value, '$."value"')) = ?`),
      params: ["work", "a@b.c"],
    },
    {
      filter: 'emails[type eq "work" or primary eq true]',
      text: emailsExists(`(lower(json_extract(e1.value, '$."type"')) = ? OR json_extract(e1.value, '$."primary"') = ?)`),
      params: ["work", 1],
    },
    { filter: 'emails.value ne "a"', text: `NOT (${emailsExists(`lower(json_extract(e1.value, '$."value"')) = ?`)})`, params: ["a"] },
    { filter: "emails pr", text: `COALESCE(json_array_length(u.data, '$."emails"'), 0) > 0`, params: [] },
    { filter: "emails.value pr", text: emailsExists(present("e1.value", '$."value"')), params: [] },
    {
      filter: 'name[givenName sw "b" or familyName sw "c"]',
      text: `(json_extract(u.data, '$."name"."givenName"') LIKE ? ESCAPE '\\' OR json_extract(u.data, '$."name"."familyName"') LIKE ? ESCAPE '\\')`,
      params: ["b%", "c%"],
    },
    // Okta "email" alias → both indexed columns.
    { filter: 'email eq "A@B.c"', text: "(u.user_name_norm = ? OR u.email_norm = ?)", params: ["a@b.c", "a@b.c"] },
    { filter: 'email ne "a"', text: "NOT COALESCE((u.user_name_norm = ? OR u.email_norm = ?), 0)", params: ["a", "a"] },
    {
      filter: 'groups eq "g1"',
      text: "EXISTS (SELECT 1 FROM group_members gm1 WHERE gm1.user_id = u.id AND lower(gm1.group_id) = ?)",
      params: ["g1"],
    },
    // Precedence: and inside or needs no parentheses; or inside and does; a top-level or is wrapped.
    {
      filter: 'userName eq "a" or userName eq "b" and active eq true',
      text: "(u.user_name_norm = ? OR u.user_name_norm = ? AND u.active = ?)",
      params: ["a", "b", 1],
    },
    {
      filter: '(userName eq "a" or userName eq "b") and active eq true',
      text: "(u.user_name_norm = ? OR u.user_name_norm = ?) AND u.active = ?",
      params: ["a", "b", 1],
    },
    {
      filter: 'not (userName eq "a" or title eq "t")',
      text: `NOT COALESCE(u.user_name_norm = ? OR lower(json_extract(u.data, '$."title"')) = ?, 0)`,
      params: ["a", "t"],
    },
    // Unique aliases per nesting.
    {
      filter: 'emails[type eq "a"] and emails[type eq "b"]',
      text:
        `EXISTS (SELECT 1 FROM json_each(u.data, '$."emails"') AS e1 WHERE e1.type = 'object' AND lower(json_extract(e1.value, '$."type"')) = ?) AND ` +
        `EXISTS (SELECT 1 FROM json_each(u.data, '$."emails"') AS e2 WHERE e2.type = 'object' AND lower(json_extract(e2.value, '$."type"')) = ?)`,
      params: ["a", "b"],
    },
  ];
  it.each(cases)("$filter", ({ filter, text, params }) => {
    expect(userSql(filter)).toEqual({ text, params });
  });
});

describe("filterToSql: Groups", () => {
  const member = (where: string) => `EXISTS (SELECT 1 FROM group_members gm1 WHERE gm1.group_id = g.id${where})`;
  const cases: { filter: string; text: string; params: (string | number)[] }[] = [
    { filter: 'displayName eq "Admins"', text: "g.display_name_norm = ?", params: ["admins"] },
    { filter: 'externalId eq "E"', text: "g.external_id = ?", params: ["E"] },
    { filter: 'id eq "g1"', text: "g.id = ?", params: ["g1"] },
    { filter: 'meta.created ge "2020-01-01"', text: "g.created_at >= ?", params: ["2020-01-01T00:00:00.000Z"] },
    { filter: 'members eq "u1"', text: member(" AND gm1.user_id = ?"), params: ["u1"] },
    { filter: 'members.value eq "u1"', text: member(" AND gm1.user_id = ?"), params: ["u1"] },
    { filter: 'members[value eq "u1"]', text: member(" AND gm1.user_id = ?"), params: ["u1"] },
    { filter: 'members[value eq "u1" or value eq "u2"]', text: member(" AND (gm1.user_id = ? OR gm1.user_id = ?)"), params: ["u1", "u2"] },
    { filter: 'members ne "u1"', text: `NOT (${member(" AND gm1.user_id = ?")})`, params: ["u1"] },
    { filter: "members pr", text: member(""), params: [] },
    { filter: 'members.value co "u_"', text: member(" AND gm1.user_id GLOB ?"), params: ["*u_*"] },
  ];
  it.each(cases)("$filter", ({ filter, text, params }) => {
    expect(groupSql(filter)).toEqual({ text, params });
  });
});

describe("filterToSql: attributes that can't be filtered in SQL → 400 invalidFilter", () => {
  it.each([
    [() => groupSql('members.display eq "x"'), /members\.display/],
    [() => groupSql('members[display eq "x"]'), /members\.display/],
    [() => userSql('meta.location eq "x"'), /meta\.location/],
    [() => userSql('meta.version eq "x"'), /meta\.version/],
    [() => userSql('groups.display eq "x"'), /groups\.display/],
  ])("%#", (fn, detail) => {
    const err = scimErrorOf(fn);
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
    [undefined, undefined, "u.seq ASC"],
    ["", "descending", "u.seq ASC"],
    ["userName", undefined, "u.user_name_norm ASC NULLS LAST, u.seq ASC"],
    ["USERNAME", "DESCENDING", "u.user_name_norm DESC NULLS LAST, u.seq ASC"],
    ["id", "ascending", "u.id ASC NULLS LAST, u.seq ASC"],
    ["displayName", undefined, "lower(u.display_name) ASC NULLS LAST, u.seq ASC"],
    ["meta.lastModified", "descending", "u.updated_at DESC NULLS LAST, u.seq ASC"],
    ["name.familyName", undefined, `lower(json_extract(u.data, '$."name"."familyName"')) ASC NULLS LAST, u.seq ASC`],
    [`${ENT}:employeeNumber`, undefined, `lower(json_extract(u.data, '$."${ENT}"."employeeNumber"')) ASC NULLS LAST, u.seq ASC`],
    [
      "emails",
      undefined,
      `(SELECT lower(json_extract(s1.value, '$."value"')) FROM json_each(u.data, '$."emails"') AS s1 WHERE s1.type = 'object' ` +
        `ORDER BY COALESCE(json_extract(s1.value, '$."primary"'), 0) DESC, s1.key LIMIT 1) ASC NULLS LAST, u.seq ASC`,
    ],
  ])("Users sortBy=%s sortOrder=%s", (sortBy, sortOrder, expected) => {
    expect(sortToSql(sortBy, sortOrder, USER_RESOURCE, USER_SQL_TARGET)).toBe(expected);
  });

  it("Groups sort by displayName on the folded column", () => {
    expect(sortToSql("displayName", "descending", GROUP_RESOURCE, GROUP_SQL_TARGET)).toBe("g.display_name_norm DESC NULLS LAST, g.seq ASC");
    expect(sortToSql(undefined, undefined, GROUP_RESOURCE, GROUP_SQL_TARGET)).toBe("g.seq ASC");
  });

  it.each([
    ["userName", "sideways", /sortOrder must be "ascending" or "descending", not "sideways"/],
    ["foo", undefined, /Unknown attribute "foo"/],
    ["password", undefined, /never returned/],
    ["name", undefined, /complex attribute/],
    ["email", undefined, /Unknown attribute "email"/],
    ["groups", undefined, /not supported/],
  ])("sortBy=%s sortOrder=%s → 400 invalidValue", (sortBy, sortOrder, detail) => {
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
        let sql: SqlFragment;
        try {
          sql = filterToSql(parsed, USER_SQL_TARGET);
        } catch (err) {
          // Only the bound-parameter limit can refuse a parsed filter of these attributes.
          expect((err as ScimError).detail).toMatch(/too many values/);
          return;
        }
        expect(sql.text.split("?").length - 1).toBe(sql.params.length);
        expect(sql.text).not.toContain('"2011');
      }),
      { numRuns: 800 },
    );
  });
});
