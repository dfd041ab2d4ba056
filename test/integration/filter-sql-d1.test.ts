import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { filterToSql, GROUP_SQL_TARGET, sortToSql, USER_SQL_TARGET } from "../../src/db/filter-sql";
import { ScimError } from "../../src/scim/errors";
import type { Filter } from "../../src/scim/filter/ast";
import { matchesFilter } from "../../src/scim/filter/evaluate";
import { parseFilter } from "../../src/scim/filter/parser";
import { GROUP_RESOURCE, USER_RESOURCE } from "../../src/scim/schemas";
import { foldCase } from "../../src/scim/text";

/**
 * The generated WHERE fragments run against the real local D1 (SQLite inside workerd):
 * exact ids for the cases IdPs send, and agreement with evaluate.ts on random filters.
 */
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const tag = `f${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const id = (name: string) => `${tag}-${name}`;

interface Fixture {
  name: string;
  userName: string;
  active: boolean;
  created: string;
  updated: string;
  data: Record<string, unknown>;
}

const fixtures: Fixture[] = [
  {
    name: "anne",
    userName: "ÄNNE@x",
    active: true,
    created: "2020-01-01T00:00:00.000Z",
    updated: "2021-06-01T12:00:00.000Z",
    data: {
      externalId: "EXT-1",
      displayName: "Anne",
      userType: "Employee",
      name: { givenName: "Anne", familyName: "Smith" },
      emails: [
        { value: "Anne@Work.example", type: "work", primary: true },
        { value: "anne@home.example", type: "home" },
      ],
      [ENT]: { department: "R&D", employeeNumber: "1" },
    },
  },
  {
    name: "bob",
    userName: "bob_100%@x",
    active: false,
    created: "2020-02-01T00:00:00.000Z",
    updated: "2020-03-01T00:00:00.000Z",
    data: {
      externalId: "ext-1",
      displayName: "Bob",
      userType: "Contractor",
      name: { familyName: "Jones" },
      emails: [{ value: "bob@home.example", type: "home" }],
      [ENT]: { department: "Sales" },
    },
  },
  {
    name: "carol",
    userName: "carol%x@y",
    active: true,
    created: "2021-01-01T00:00:00.000Z",
    updated: "2022-01-01T00:00:00.000Z",
    data: {
      userType: "Employee",
      title: "",
      name: { givenName: "Carol", familyName: "Smith" },
      emails: [
        { value: "carol@work.example", type: "work" },
        { value: "c@other.example", type: "other", primary: true },
      ],
    },
  },
  {
    name: "dave",
    userName: "dave@x",
    active: true,
    created: "2019-01-01T00:00:00.000Z",
    updated: "2019-05-05T05:05:05.005Z",
    data: { externalId: "EXT-2", displayName: "Dave", title: "CEO", [ENT]: { department: "r&d", manager: { value: "A" } } },
  },
  {
    name: "eve",
    userName: "eve",
    active: true,
    created: "2022-01-01T00:00:00.000Z",
    updated: "2023-01-01T00:00:00.000Z",
    data: { emails: [{ value: "Eve@Corp.example", type: "work", primary: true }] },
  },
];

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The primary (else first) email, folded: what the user repository writes to email_norm. */
function emailNorm(data: Record<string, unknown>): string | null {
  const emails = Array.isArray(data.emails) ? (data.emails as Record<string, unknown>[]) : [];
  const chosen = emails.find((e) => e.primary === true) ?? emails[0];
  const value = str(chosen?.value);
  return value === null ? null : foldCase(value);
}

/** The stored resource as evaluate.ts sees it (groups are derived from membership rows). */
function resourceOf(f: Fixture, groupIds: string[]): Record<string, unknown> {
  return {
    ...f.data,
    id: id(f.name),
    userName: f.userName,
    active: f.active,
    ...(groupIds.length ? { groups: groupIds.map((value) => ({ value })) } : {}),
    meta: { resourceType: "User", created: f.created, lastModified: f.updated },
  };
}

const memberships: [string, string][] = [
  [id("admins"), id("anne")],
  [id("admins"), id("bob")],
];
const groupsOf = (user: string) => memberships.filter(([, u]) => u === id(user)).map(([g]) => g);
const resources = fixtures.map((f) => resourceOf(f, groupsOf(f.name)));

beforeAll(async () => {
  const insertUser = env.DB.prepare(
    `INSERT INTO users (id, user_name, user_name_norm, external_id, display_name, email_norm, active, user_type, role, data, password_hash, version, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, NULL, 1, ?, ?)`,
  );
  const insertGroup = env.DB.prepare(
    `INSERT INTO groups (id, display_name, display_name_norm, external_id, data, version, created_at, updated_at)
     VALUES (?, ?, ?, NULL, ?, 1, '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z')`,
  );
  const insertMember = env.DB.prepare(`INSERT INTO group_members (group_id, user_id, added_at) VALUES (?, ?, '2020-01-01T00:00:00.000Z')`);
  await env.DB.batch([
    ...fixtures.map((f) =>
      insertUser.bind(
        id(f.name),
        f.userName,
        foldCase(f.userName),
        str(f.data.externalId),
        str(f.data.displayName),
        emailNorm(f.data),
        f.active ? 1 : 0,
        str(f.data.userType),
        JSON.stringify({ ...f.data, userName: f.userName, active: f.active }),
        f.created,
        f.updated,
      ),
    ),
    insertGroup.bind(id("admins"), `Admins ${tag}`, foldCase(`Admins ${tag}`), JSON.stringify({ displayName: `Admins ${tag}` })),
    insertGroup.bind(id("empty"), `Empty ${tag}`, foldCase(`Empty ${tag}`), JSON.stringify({ displayName: `Empty ${tag}` })),
    ...memberships.map(([g, u]) => insertMember.bind(g, u)),
  ]);
});

/** Ids (as fixture names, in seq order) the filter selects among this file's rows. */
async function usersWhere(filter: Filter, order = "u.seq ASC"): Promise<string[]> {
  const { text, params } = filterToSql(filter, USER_SQL_TARGET);
  const rows = await env.DB.prepare(`SELECT u.id FROM users u WHERE u.id LIKE ? AND ${text} ORDER BY ${order}`)
    .bind(`${tag}-%`, ...params)
    .all<{ id: string }>();
  return rows.results.map((r) => r.id.slice(tag.length + 1));
}

async function groupsWhere(filter: string): Promise<string[]> {
  const { text, params } = filterToSql(parseFilter(filter, GROUP_RESOURCE), GROUP_SQL_TARGET);
  const rows = await env.DB.prepare(`SELECT g.id FROM groups g WHERE g.id LIKE ? AND ${text} ORDER BY g.seq`)
    .bind(`${tag}-%`, ...params)
    .all<{ id: string }>();
  return rows.results.map((r) => r.id.slice(tag.length + 1));
}

describe("filterToSql on D1: Users", () => {
  const cases: { filter: string; expected: string[] }[] = [
    // Non-ASCII case folding through user_name_norm (SQLite NOCASE folds ASCII only).
    { filter: 'userName eq "änne@x"', expected: ["anne"] },
    { filter: 'userName eq "Änne@X"', expected: ["anne"] },
    { filter: 'USERNAME EQ "ÄNNE@x"', expected: ["anne"] },
    // % and _ are literal (SPEC §11).
    { filter: 'userName co "100%"', expected: ["bob"] },
    { filter: 'userName co "%"', expected: ["bob", "carol"] },
    { filter: 'userName co "_"', expected: ["bob"] },
    { filter: 'userName sw "CAROL%"', expected: ["carol"] },
    { filter: 'userName ew "%@X"', expected: ["bob"] },
    { filter: 'userName ew "@x"', expected: ["anne", "bob", "dave"] },
    // externalId is caseExact.
    { filter: 'externalId eq "EXT-1"', expected: ["anne"] },
    { filter: 'externalId co "xt-"', expected: ["bob"] },
    { filter: 'externalId sw "EXT"', expected: ["anne", "dave"] },
    { filter: 'externalId ne "EXT-1"', expected: ["bob", "carol", "dave", "eve"] },
    // CONFORMANCE 35, 38.
    { filter: 'emails[type eq "work"].value eq "anne@work.example"', expected: ["anne"] },
    { filter: 'emails[type eq "home"].value eq "anne@work.example"', expected: [] },
    { filter: 'emails co "@home.example"', expected: ["anne", "bob"] },
    { filter: 'emails[type eq "work" and value co "carol"]', expected: ["carol"] },
    { filter: 'emails[primary eq true].value ew ".example"', expected: ["anne", "carol", "eve"] },
    { filter: "emails pr", expected: ["anne", "bob", "carol", "eve"] },
    { filter: 'name.familyName eq "smith"', expected: ["anne", "carol"] },
    { filter: 'name[givenName sw "c"]', expected: ["carol"] },
    { filter: "active eq false", expected: ["bob"] },
    { filter: "active eq true", expected: ["anne", "carol", "dave", "eve"] },
    // CONFORMANCE 37: offsets normalised to UTC before comparing.
    { filter: 'meta.lastModified gt "2021-01-01T00:00:00Z"', expected: ["anne", "carol", "eve"] },
    { filter: "meta.lastModified gt 2021-06-01T13:00:00+02:00", expected: ["anne", "carol", "eve"] },
    { filter: "meta.lastModified gt 2021-06-01T14:00:00+02:00", expected: ["carol", "eve"] },
    { filter: "meta.lastModified ge 2021-06-01T14:00:00.0000000+02:00", expected: ["anne", "carol", "eve"] },
    { filter: 'meta.created lt "2020-01-01"', expected: ["dave"] },
    // and binds tighter than or.
    { filter: 'userName eq "dave@x" or userName eq "bob_100%@x" and active eq false', expected: ["bob", "dave"] },
    { filter: '(userName eq "dave@x" or userName eq "bob_100%@x") and active eq false', expected: ["bob"] },
    { filter: 'userName eq "dave@x" or userName eq "bob_100%@x" and active eq true', expected: ["dave"] },
    // ne is NOT eq: absent userType matches.
    { filter: 'not (userType eq "employee")', expected: ["bob", "dave", "eve"] },
    { filter: 'userType ne "EMPLOYEE"', expected: ["bob", "dave", "eve"] },
    { filter: "title pr", expected: ["dave"] },
    { filter: "title eq null", expected: ["anne", "bob", "carol", "eve"] },
    // Enterprise extension through its URN key.
    { filter: `${ENT}:department eq "r&d"`, expected: ["anne", "dave"] },
    { filter: 'department eq "SALES"', expected: ["bob"] },
    { filter: 'manager eq "A"', expected: ["dave"] },
    // Okta "email" unique identifier: userName or the primary email.
    { filter: 'email eq "EVE@corp.example"', expected: ["eve"] },
    { filter: 'email eq "dave@x"', expected: ["dave"] },
    { filter: 'email eq "Anne@work.example"', expected: ["anne"] },
    { filter: 'email eq "anne@home.example"', expected: [] },
    { filter: 'groups eq "GROUP-ID-UNKNOWN"', expected: [] },
  ];
  it.each(cases)("$filter → $expected", async ({ filter, expected }) => {
    expect(await usersWhere(parseFilter(filter, USER_RESOURCE))).toEqual(expected);
  });

  it("groups[value eq id] finds members", async () => {
    expect(await usersWhere(parseFilter(`groups[value eq "${id("admins")}"]`, USER_RESOURCE))).toEqual(["anne", "bob"]);
  });
});

describe("filterToSql on D1: Groups", () => {
  it.each([
    [`displayName eq "ADMINS ${tag.toUpperCase()}"`, ["admins"]],
    ["members pr", ["admins"]],
    ["not (members pr)", ["empty"]],
  ])("%s → %j", async (filter, expected) => {
    expect(await groupsWhere(filter)).toEqual(expected);
  });

  it("members eq / members[value eq] find the groups holding a user (CONFORMANCE 84)", async () => {
    expect(await groupsWhere(`members eq "${id("bob")}"`)).toEqual(["admins"]);
    expect(await groupsWhere(`members[value eq "${id("anne")}"]`)).toEqual(["admins"]);
    expect(await groupsWhere(`members[value eq "${id("carol")}"]`)).toEqual([]);
  });
});

describe("sortToSql on D1", () => {
  const all = parseFilter("id pr", USER_RESOURCE);
  it.each([
    // Folded "änne@x" sorts after every ASCII name.
    ["userName", "descending", ["anne", "eve", "dave", "carol", "bob"]],
    ["userName", "ascending", ["bob", "carol", "dave", "eve", "anne"]],
    // Unassigned values last, ties by insertion order.
    ["name.familyName", undefined, ["bob", "anne", "carol", "dave", "eve"]],
    ["name.familyName", "descending", ["anne", "carol", "bob", "dave", "eve"]],
    // Multi-valued: the primary (else first) value.
    ["emails", undefined, ["anne", "bob", "carol", "eve", "dave"]],
    ["meta.lastModified", "descending", ["eve", "carol", "anne", "bob", "dave"]],
  ])("sortBy=%s sortOrder=%s", async (sortBy, sortOrder, expected) => {
    expect(await usersWhere(all, sortToSql(sortBy, sortOrder, USER_RESOURCE, USER_SQL_TARGET))).toEqual(expected);
  });
});

/** Random filters: SQL on D1 and evaluate.ts must select the same rows. */
const ATTRS = [
  "userName",
  "externalId",
  "displayName",
  "userType",
  "active",
  "id",
  "title",
  "name.familyName",
  "name.givenName",
  "emails",
  "emails.value",
  "emails.type",
  "emails.primary",
  "meta.lastModified",
  "meta.created",
  `${ENT}:department`,
  "manager",
  "email",
  "groups",
];
const VALUES = [
  '"anne"',
  '"ANNE@X"',
  '"änne@x"',
  '"x"',
  '"@"',
  '"%"',
  '"_"',
  '"work"',
  '"smith"',
  '"r&d"',
  '"EXT-1"',
  '"ext"',
  '""',
  '"2021-01-01T00:00:00Z"',
  "2020-02-01T01:00:00+01:00",
  "true",
  "false",
  "null",
  "12",
  '"Employee"',
  '"e"',
  '"dave@x"',
];
const simple = fc
  .tuple(fc.constantFrom(...ATTRS), fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"), fc.constantFrom(...VALUES))
  .map(([a, op, v]) => (op === "pr" ? `${a} pr` : `${a} ${op} ${v}`));
const valuePath = fc
  .tuple(fc.constantFrom("type", "value", "primary"), fc.constantFrom("eq", "ne", "co", "sw"), fc.constantFrom(...VALUES), fc.boolean())
  .map(([sub, op, v, tail]) => `emails[${sub} ${op} ${v}]${tail ? '.value co "e"' : ""}`);
const { filter: randomFilter } = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small" },
    simple,
    valuePath,
    fc.tuple(tie("filter"), fc.constantFrom("and", "or"), tie("filter")).map(([l, k, r]) => `${l} ${k} ${r}`),
    tie("filter").map((f) => `not (${f})`),
    tie("filter").map((f) => `(${f})`),
  ),
}));

describe("SQL and evaluate.ts agree (fast-check over D1)", () => {
  it("selects the same users for random filters", async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(randomFilter, async (text) => {
        let filter: Filter;
        try {
          filter = parseFilter(text, USER_RESOURCE);
          filterToSql(filter, USER_SQL_TARGET);
        } catch (err) {
          if (err instanceof ScimError && err.status === 400) return;
          throw err;
        }
        const expected = fixtures.filter((_, i) => {
          const r = resources[i];
          return r !== undefined && matchesFilter(filter, r);
        });
        expect(await usersWhere(filter), text).toEqual(expected.map((f) => f.name));
        checked++;
      }),
      { numRuns: 400 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});
