import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ScimError } from "../../src/scim/errors";
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from "../../src/scim/filter/ast";
import { normaliseDateTime, parseAttributeList, parseFilter, parsePath } from "../../src/scim/filter/parser";
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_RESOURCE, GROUP_SCHEMA_ID, USER_RESOURCE, USER_SCHEMA_ID } from "../../src/scim/schemas";
import { scimErrorOf } from "./scim-error";

const U = USER_SCHEMA_ID;
const E = ENTERPRISE_USER_SCHEMA_ID;
const G = GROUP_SCHEMA_ID;
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const u = (attr: string, sub?: string): AttrPath => (sub ? { uri: U, attr, sub } : { uri: U, attr });
const e = (attr: string, sub?: string): AttrPath => (sub ? { uri: E, attr, sub } : { uri: E, attr });
const g = (attr: string, sub?: string): AttrPath => (sub ? { uri: G, attr, sub } : { uri: G, attr });
const cmp = (path: AttrPath, op: CompareOp, value: FilterValue): Filter => ({ kind: "compare", path, op, value });
const and = (left: Filter, right: Filter): Filter => ({ kind: "and", left, right });
const or = (left: Filter, right: Filter): Filter => ({ kind: "or", left, right });
const not = (filter: Filter): Filter => ({ kind: "not", filter });
const pr = (path: AttrPath): Filter => ({ kind: "present", path });
const vp = (path: AttrPath, filter: Filter): Filter => ({ kind: "valuePath", path, filter });

describe("parseFilter: valid User filters → AST", () => {
  const userName = (v: FilterValue) => cmp(u("userName"), "eq", v);
  const cases: { input: string; expected: Filter }[] = [
    { input: 'userName eq "bjensen"', expected: userName("bjensen") },
    { input: '  userName   eq   "bjensen"  ', expected: userName("bjensen") },
    // CONFORMANCE 36: names and operators are case-insensitive, output canonical.
    { input: 'USERNAME EQ "x"', expected: userName("x") },
    { input: 'name.FamilyName eq "O\'Malley"', expected: cmp(u("name", "familyName"), "eq", "O'Malley") },
    { input: 'emails.Value co "x"', expected: cmp(u("emails", "value"), "co", "x") },
    // CONFORMANCE 38: a multi-valued attribute without a sub-attribute compares value.
    { input: 'emails co "@example.com"', expected: cmp(u("emails", "value"), "co", "@example.com") },
    { input: 'manager eq "m1"', expected: cmp(e("manager", "value"), "eq", "m1") },
    // CONFORMANCE 37: dateTimes normalised to UTC with milliseconds; unquoted, 7 fraction digits.
    { input: 'meta.lastModified gt "2011-05-13T04:42:34Z"', expected: cmp(u("meta", "lastModified"), "gt", "2011-05-13T04:42:34.000Z") },
    {
      input: "meta.created gt 2015-10-10T14:38:21.8617979-07:00",
      expected: cmp(u("meta", "created"), "gt", "2015-10-10T21:38:21.861Z"),
    },
    { input: 'meta.created sw "2015-10"', expected: cmp(u("meta", "created"), "sw", "2015-10") },
    { input: 'meta.resourceType eq "User"', expected: cmp(u("meta", "resourceType"), "eq", "User") },
    // CONFORMANCE §2: unquoted bare words are strings.
    { input: "userName eq loginUser1", expected: userName("loginUser1") },
    { input: "externalId eq 00ujl29u0le5T6Aj10h7", expected: cmp(u("externalId"), "eq", "00ujl29u0le5T6Aj10h7") },
    { input: "userName eq 0534", expected: userName("0534") },
    { input: "userName eq 1e3", expected: userName("1e3") },
    { input: "userName eq true", expected: userName("true") },
    { input: "active eq false", expected: cmp(u("active"), "eq", false) },
    { input: "active eq TRUE", expected: cmp(u("active"), "eq", true) },
    { input: 'active ne "False"', expected: cmp(u("active"), "ne", false) },
    { input: "title eq null", expected: cmp(u("title"), "eq", null) },
    { input: "title ne null", expected: cmp(u("title"), "ne", null) },
    { input: 'userName eq "q\\"uo\\\\te \\u00e9\\n"', expected: userName('q"uo\\te é\n') },
    { input: 'userName eq ""', expected: userName("") },
    { input: "title pr", expected: pr(u("title")) },
    { input: "emails pr", expected: pr(u("emails")) },
    { input: "name PR", expected: pr(u("name")) },
    // URN-prefixed names (RFC 7644 §3.10), any case.
    { input: `${ENT}:employeeNumber eq "701984"`, expected: cmp(e("employeeNumber"), "eq", "701984") },
    { input: `${ENT.toUpperCase()}:DEPARTMENT eq "Eng"`, expected: cmp(e("department"), "eq", "Eng") },
    { input: `${ENT}:manager.value eq "m1"`, expected: cmp(e("manager", "value"), "eq", "m1") },
    { input: 'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', expected: userName("x") },
    {
      input: 'urn:ietf:params:scim:schemas:core:2.0:User:meta.created ge "2020-01-01"',
      expected: cmp(u("meta", "created"), "ge", "2020-01-01T00:00:00.000Z"),
    },
    { input: 'department eq "Eng"', expected: cmp(e("department"), "eq", "Eng") },
    // Okta "Unique identifier field for users" = email.
    { input: 'email eq "a@b.c"', expected: cmp(u("email"), "eq", "a@b.c") },
    // and binds tighter than or (RFC 7644 §3.4.2.2 precedence).
    {
      input: 'userName eq "a" or userName eq "b" and active eq true',
      expected: or(userName("a"), and(userName("b"), cmp(u("active"), "eq", true))),
    },
    {
      input: '(userName eq "a" or userName eq "b") and active eq true',
      expected: and(or(userName("a"), userName("b")), cmp(u("active"), "eq", true)),
    },
    { input: 'not (userName eq "a")', expected: not(userName("a")) },
    { input: 'NOT(userName eq "a")', expected: not(userName("a")) },
    { input: '((userName eq "a"))', expected: userName("a") },
    // Long chains come out balanced (shallow).
    {
      input: 'userName eq "a" and userName eq "b" and userName eq "c" and userName eq "d"',
      expected: and(and(userName("a"), userName("b")), and(userName("c"), userName("d"))),
    },
    { input: 'userName eq "a" or userName eq "b" or userName eq "c"', expected: or(or(userName("a"), userName("b")), userName("c")) },
    // Value paths: element-relative sub-attribute paths carry the parent's URN.
    {
      input: 'emails[type eq "work" and value co "@example.com"]',
      expected: vp(u("emails"), and(cmp(u("type"), "eq", "work"), cmp(u("value"), "co", "@example.com"))),
    },
    { input: "EMAILS[TYPE eq work]", expected: vp(u("emails"), cmp(u("type"), "eq", "work")) },
    { input: 'emails[not (type eq "home")]', expected: vp(u("emails"), not(cmp(u("type"), "eq", "home"))) },
    { input: "emails[primary eq true]", expected: vp(u("emails"), cmp(u("primary"), "eq", true)) },
    { input: 'name[familyName eq "x"]', expected: vp(u("name"), cmp(u("familyName"), "eq", "x")) },
    // CONFORMANCE 35: a value path followed by a sub-attribute compare (Entra).
    {
      input: 'emails[type eq "work"].value eq "a@b.c"',
      expected: vp(u("emails"), and(cmp(u("type"), "eq", "work"), cmp(u("value"), "eq", "a@b.c"))),
    },
    {
      input: 'userName eq "x" and emails[type eq "work"].value pr',
      expected: and(userName("x"), vp(u("emails"), and(cmp(u("type"), "eq", "work"), pr(u("value"))))),
    },
    // CONFORMANCE 39: the [MP] filter, unquoted values in parentheses.
    {
      input: "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)",
      expected: and(
        cmp(u("name", "familyName"), "eq", "Employee"),
        or(cmp(u("emails", "value"), "co", "example.com"), cmp(u("emails", "value"), "co", "example.org")),
      ),
    },
  ];
  it.each(cases)("$input", ({ input, expected }) => {
    expect(parseFilter(input, USER_RESOURCE)).toEqual(expected);
  });
});

describe("parseFilter: Group filters", () => {
  const cases: { input: string; expected: Filter }[] = [
    { input: 'displayName eq "Test SCIMv2"', expected: cmp(g("displayName"), "eq", "Test SCIMv2") },
    { input: 'externalId eq "x"', expected: cmp(g("externalId"), "eq", "x") },
    { input: 'id eq "x"', expected: cmp(g("id"), "eq", "x") },
    // CONFORMANCE 84 (JumpCloud).
    { input: 'members eq "u1"', expected: cmp(g("members", "value"), "eq", "u1") },
    { input: 'members.value eq "u1"', expected: cmp(g("members", "value"), "eq", "u1") },
    { input: 'members[value eq "u1"]', expected: vp(g("members"), cmp(g("value"), "eq", "u1")) },
    { input: 'meta.lastModified ge "2020-01-01T00:00:00Z"', expected: cmp(g("meta", "lastModified"), "ge", "2020-01-01T00:00:00.000Z") },
  ];
  it.each(cases)("$input", ({ input, expected }) => {
    expect(parseFilter(input, GROUP_RESOURCE)).toEqual(expected);
  });
});

describe("parseFilter: errors are 400 invalidFilter with a detail that says what is wrong", () => {
  const cases: { input: string; detail: RegExp; rt?: typeof USER_RESOURCE }[] = [
    { input: "", detail: /empty/ },
    { input: "   ", detail: /empty/ },
    { input: "userName eq", detail: /Missing value after "eq" at character 10/ },
    { input: "userName eq and active eq true", detail: /Missing value after "eq"/ },
    { input: "userName", detail: /Missing operator after "userName"/ },
    { input: 'userName ssw "x"', detail: /Unknown operator "ssw" at character 10/ },
    { input: 'userName "x"', detail: /Expected an operator .* string "x"/ },
    { input: '(userName eq "x"', detail: /"\(" at character 1 is never closed/ },
    { input: '((userName eq "x")', detail: /"\(" at character 1 is never closed/ },
    { input: 'userName eq "x")', detail: /"\)" at character 16 has no matching "\("/ },
    { input: '(userName eq "x" foo)', detail: /Expected "\)" to close the "\(" at character 1, but found "foo"/ },
    { input: 'userName eq "unterminated', detail: /Unterminated string starting at character 13/ },
    { input: 'userName eq "bad \\q"', detail: /Invalid escape "\\q"/ },
    { input: "active gt true", detail: /"active" is boolean: only eq, ne and pr/ },
    { input: 'active co "t"', detail: /"active" is boolean/ },
    { input: 'active eq "maybe"', detail: /compare it with true or false/ },
    { input: "emails[primary gt false]", detail: /"primary" is boolean/ },
    { input: 'userName pr "x"', detail: /"pr" \(present\) at character 10 takes no value/ },
    { input: "userName pr x", detail: /takes no value/ },
    { input: 'name eq "x"', detail: /"name" is a complex attribute .* name\.familyName/ },
    { input: 'addresses co "x"', detail: /"addresses" is a complex attribute/ },
    { input: 'userName eq "x" garbage', detail: /Unexpected "garbage" at character 17: expected "and", "or"/ },
    { input: 'userName eq "x" "y"', detail: /Unexpected the string "y"/ },
    { input: 'foo eq "x"', detail: /Unknown attribute "foo".*character 1/ },
    { input: 'name.foo eq "x"', detail: /Unknown sub-attribute "foo" of "name"/ },
    { input: 'userName.foo eq "x"', detail: /"userName" has no sub-attributes/ },
    { input: 'name.familyName.x eq "x"', detail: /Malformed attribute name/ },
    { input: 'urn:example:custom:2.0:User:foo eq "x"', detail: /not an attribute of a User schema/ },
    { input: `${ENT}:foo eq "x"`, detail: /Unknown attribute/ },
    { input: 'emails[foo eq "x"]', detail: /Unknown attribute "foo" .* inside emails\[\.\.\.\] use one of value, type, primary/ },
    { input: 'emails[type eq "work"', detail: /"\[" at character 7 is never closed with "\]"/ },
    { input: 'emails[type eq "work"]]', detail: /"\]" at character 23 has no matching "\["/ },
    { input: 'emails[value[type eq "x"]]', detail: /can't be nested/ },
    { input: 'userName[type eq "x"]', detail: /"userName" is not a complex attribute/ },
    { input: 'emails[type eq "work"].foo eq "x"', detail: /Unknown sub-attribute "foo" of "emails"/ },
    { input: 'not userName eq "x"', detail: /"not" at character 1 must be followed by a filter in parentheses/ },
    { input: 'userName eq "x" and', detail: /ends where an attribute name was expected/ },
    { input: 'userName eq "x" or )', detail: /Expected an attribute name but found "\)"/ },
    { input: 'and eq "x"', detail: /Expected an attribute name/ },
    { input: 'meta.created gt "yesterday"', detail: /"created" is a dateTime/ },
    { input: 'meta.created gt "2015-02-30T00:00:00Z"', detail: /dateTime/ },
    { input: 'password eq "x"', detail: /"password" can't be used in a filter/ },
    { input: "userName gt null", detail: /null can only be compared with eq or ne/ },
    { input: 'email eq "x"', detail: /Unknown attribute "email"/, rt: GROUP_RESOURCE },
    { input: 'userName eq "x"', detail: /Unknown attribute "userName"/, rt: GROUP_RESOURCE },
    { input: 'email.value eq "x"', detail: /Unknown attribute/ },
    { input: `userName eq "${"x".repeat(4100)}"`, detail: /too long \(4114 characters; at most 4096/ },
    { input: `${"(".repeat(40)}userName eq "x"${")".repeat(40)}`, detail: /nested too deeply at character 33/ },
    { input: `${"not (".repeat(40)}userName eq "x"${")".repeat(40)}`, detail: /nested too deeply/ },
    { input: "(".repeat(4096), detail: /nested too deeply/ },
    // Depth counts and/or nesting too: 33 levels of `a and (…)`.
    { input: `${'userName eq "x" and ('.repeat(33)}userName eq "y"${")".repeat(33)}`, detail: /nested too deeply/ },
  ];
  it.each(cases)("$input", ({ input, detail, rt }) => {
    const err = scimErrorOf(() => parseFilter(input, rt ?? USER_RESOURCE));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe("invalidFilter");
    expect(err.detail).toMatch(detail);
  });

  it("accepts a flat or-chain of 100 comparisons (balanced, so not too deep); 101 is 400 naming the limit", () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `id eq "${i}"`).join(" or ");
    expect(() => parseFilter(chain(100), USER_RESOURCE)).not.toThrow();
    const input = chain(280);
    expect(input.length).toBeLessThanOrEqual(4096);
    const err = scimErrorOf(() => parseFilter(input, USER_RESOURCE));
    expect(err.scimType).toBe("invalidFilter");
    expect(err.detail).toMatch(/280 attribute comparisons; at most 100/);
    expect(scimErrorOf(() => parseFilter(chain(101), USER_RESOURCE)).detail).toMatch(/at most 100/);
  });

  it("accepts 31 nested parentheses", () => {
    expect(parseFilter(`${"(".repeat(31)}userName eq "x"${")".repeat(31)}`, USER_RESOURCE)).toEqual(cmp(u("userName"), "eq", "x"));
  });
});

/** Random inputs: the only exception ever thrown is a 400 ScimError with the right scimType. */
const pieces = fc.constantFrom(
  "(",
  ")",
  "[",
  "]",
  '"',
  "\\",
  " ",
  ".",
  "userName",
  "emails",
  "name.familyName",
  ".value",
  "type",
  "value",
  "members",
  "eq",
  "ne",
  "co",
  "gt",
  "pr",
  "and",
  "or",
  "not",
  "true",
  "null",
  "12",
  '"x"',
  "email",
  `${ENT}:department`,
  "meta.created",
);
const soup = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.array(pieces, { maxLength: 40 }).map((a) => a.join(" ")),
  fc.array(pieces, { maxLength: 40 }).map((a) => a.join("")),
);

function onlyScimErrors(fn: () => unknown, scimType: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScimError);
    expect((err as ScimError).status).toBe(400);
    expect((err as ScimError).scimType).toBe(scimType);
  }
}

describe("robustness (fast-check)", () => {
  it("parseFilter throws nothing but 400 invalidFilter", () => {
    fc.assert(
      fc.property(soup, (input) => {
        onlyScimErrors(() => parseFilter(input, USER_RESOURCE), "invalidFilter");
        onlyScimErrors(() => parseFilter(input, GROUP_RESOURCE), "invalidFilter");
      }),
      { numRuns: 1500 },
    );
  });

  it("parsePath throws nothing but 400 invalidPath; parseAttributeList never throws", () => {
    fc.assert(
      fc.property(soup, (input) => {
        onlyScimErrors(() => parsePath(input, USER_RESOURCE), "invalidPath");
        expect(() => parseAttributeList(input, USER_RESOURCE)).not.toThrow();
      }),
      { numRuns: 1500 },
    );
  });
});

describe("parsePath (RFC 7644 §3.5.2)", () => {
  const cases: { input: string; expected: PatchPath; rt?: typeof USER_RESOURCE }[] = [
    { input: "nickName", expected: { path: u("nickName") } },
    { input: "NAME.givenname", expected: { path: u("name", "givenName") } },
    { input: "emails", expected: { path: u("emails") } },
    { input: 'emails[type eq "work"]', expected: { path: u("emails"), filter: cmp(u("type"), "eq", "work") } },
    {
      input: 'emails[type eq "work" and value ew "example.com"]',
      expected: { path: u("emails"), filter: and(cmp(u("type"), "eq", "work"), cmp(u("value"), "ew", "example.com")) },
    },
    {
      input: 'emails[type eq "work"].value',
      expected: { path: u("emails"), filter: cmp(u("type"), "eq", "work"), subAfterFilter: "value" },
    },
    {
      input: 'addresses[type eq "work"].STREETADDRESS',
      expected: { path: u("addresses"), filter: cmp(u("type"), "eq", "work"), subAfterFilter: "streetAddress" },
    },
    { input: `${ENT}:manager`, expected: { path: e("manager") } },
    { input: `${ENT}:manager.value`, expected: { path: e("manager", "value") } },
    { input: "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", expected: { path: u("name", "familyName") } },
    { input: "meta.created", expected: { path: u("meta", "created") } },
    { input: "id", expected: { path: u("id") } },
    { input: "password", expected: { path: u("password") } },
    { input: 'members[value eq "id-1"]', expected: { path: g("members"), filter: cmp(g("value"), "eq", "id-1") }, rt: GROUP_RESOURCE },
    { input: "members", expected: { path: g("members") }, rt: GROUP_RESOURCE },
  ];
  it.each(cases)("$input", ({ input, expected, rt }) => {
    expect(parsePath(input, rt ?? USER_RESOURCE)).toEqual(expected);
  });

  const errors: { input: string; detail: RegExp }[] = [
    { input: "", detail: /starts with an attribute name, not the end/ },
    { input: "foo", detail: /Unknown attribute "foo"/ },
    { input: "name.foo", detail: /Unknown sub-attribute "foo"/ },
    { input: "email", detail: /Unknown attribute "email"/ },
    { input: '"userName"', detail: /starts with an attribute name/ },
    { input: "nickName extra", detail: /Unexpected "extra"/ },
    { input: 'emails[type eq "work"', detail: /never closed/ },
    { input: 'emails[foo eq "x"]', detail: /Unknown attribute "foo"/ },
    { input: 'emails[type eq "work"].foo', detail: /Unknown sub-attribute "foo" of "emails"/ },
    { input: 'userName[type eq "x"]', detail: /not a complex attribute/ },
    { input: 'name.givenName[type eq "x"]', detail: /not a complex attribute/ },
    { input: "emails]", detail: /no matching "\["/ },
    { input: "urn:example:custom:foo", detail: /not an attribute of a User schema/ },
  ];
  it.each(errors)("error: $input", ({ input, detail }) => {
    const err = scimErrorOf(() => parsePath(input, USER_RESOURCE));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe("invalidPath");
    expect(err.detail).toMatch(detail);
  });
});

describe("parseAttributeList (RFC 7644 §3.4.2.5, lenient)", () => {
  const cases: { input: string; expected: AttrPath[] }[] = [
    { input: "userName,name.givenName", expected: [u("userName"), u("name", "givenName")] },
    { input: " userName , EMAILS ", expected: [u("userName"), u("emails")] },
    { input: `${ENT}:employeeNumber`, expected: [e("employeeNumber")] },
    // CONFORMANCE 96: the [filter] part is ignored.
    { input: 'emails[type eq "work"]', expected: [u("emails")] },
    { input: 'emails[type eq "a,b"],userName', expected: [u("emails"), u("userName")] },
    { input: 'emails[type eq "work"].value', expected: [u("emails", "value")] },
    { input: "foo,userName,,bar.baz,urn:x:y", expected: [u("userName")] },
    { input: "userName,USERNAME", expected: [u("userName")] },
    { input: "meta.created,id", expected: [u("meta", "created"), u("id")] },
    { input: "", expected: [] },
  ];
  it.each(cases)("$input", ({ input, expected }) => {
    expect(parseAttributeList(input, USER_RESOURCE)).toEqual(expected);
  });
});

describe("normaliseDateTime", () => {
  const rows: { input: string; want: string | undefined }[] = [
    { input: "2011-05-13T04:42:34Z", want: "2011-05-13T04:42:34.000Z" },
    { input: "2011-05-13T04:42:34.1Z", want: "2011-05-13T04:42:34.100Z" },
    { input: "2015-10-10T14:38:21.8617979-07:00", want: "2015-10-10T21:38:21.861Z" },
    { input: "2015-10-10T00:30:00+0100", want: "2015-10-09T23:30:00.000Z" },
    { input: "2015-10-10T14:38", want: "2015-10-10T14:38:00.000Z" },
    { input: "2015-10-10", want: "2015-10-10T00:00:00.000Z" },
    { input: "0050-01-01T00:00:00Z", want: "0050-01-01T00:00:00.000Z" },
    { input: "2015-13-01", want: undefined },
    { input: "2015-02-29", want: undefined },
    { input: "2016-02-29", want: "2016-02-29T00:00:00.000Z" },
    { input: "2015-10-10T25:00:00Z", want: undefined },
    { input: "yesterday", want: undefined },
    { input: "", want: undefined },
  ];
  it.each(rows)("$input → $want", ({ input, want }) => {
    expect(normaliseDateTime(input)).toBe(want);
  });
});
