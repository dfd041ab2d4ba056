import { describe, expect, it } from "vitest";
import type { Filter } from "../../src/scim/filter/ast";
import { matchesFilter } from "../../src/scim/filter/evaluate";
import { parseFilter, parsePath } from "../../src/scim/filter/parser";
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_RESOURCE, GROUP_SCHEMA_ID, USER_RESOURCE, USER_SCHEMA_ID } from "../../src/scim/schemas";

const ENT = ENTERPRISE_USER_SCHEMA_ID;

const bjensen: Record<string, unknown> = {
  id: "2819c223-7f76-453a-919d-413861904646",
  externalId: "BJ-1",
  userName: "Bjensen@Example.com",
  name: { familyName: "Jensen", givenName: "Barbara" },
  displayName: "Babs Jensen",
  title: "",
  active: true,
  userType: "Employee",
  emails: [
    { value: "bjensen@example.com", type: "work", primary: true },
    { value: "babs@home.org", type: "home" },
  ],
  [ENT]: { department: "Tour Operations", employeeNumber: "701984", manager: { value: "26118915" } },
  meta: { resourceType: "User", created: "2010-01-23T04:56:22.000Z", lastModified: "2011-05-13T04:42:34.000Z" },
};

describe("matchesFilter over a stored User", () => {
  const cases: { filter: string; expected: boolean }[] = [
    // userName is caseExact:false (RFC 7643 §4.1.1, CONFORMANCE 34).
    { filter: 'userName eq "bjensen@example.com"', expected: true },
    { filter: 'USERNAME EQ "BJENSEN@EXAMPLE.COM"', expected: true },
    { filter: 'userName ne "bjensen@example.com"', expected: false },
    { filter: 'userName sw "BJ"', expected: true },
    { filter: 'userName ew "EXAMPLE.COM"', expected: true },
    { filter: 'userName co "n@e"', expected: true },
    { filter: 'userName gt "a"', expected: true },
    { filter: 'userName lt "a"', expected: false },
    { filter: 'userName ge "bjensen@example.com"', expected: true },
    { filter: 'userName le "bjensen@example.com"', expected: true },
    // externalId and id are caseExact.
    { filter: 'externalId eq "BJ-1"', expected: true },
    { filter: 'externalId eq "bj-1"', expected: false },
    { filter: 'externalId co "J-"', expected: true },
    { filter: 'externalId co "j-"', expected: false },
    { filter: 'id eq "2819C223-7F76-453A-919D-413861904646"', expected: false },
    { filter: 'name.familyName eq "jensen"', expected: true },
    { filter: 'name.familyName sw "JEN"', expected: true },
    { filter: 'name[givenName eq "barbara"]', expected: true },
    // Multi-valued: any element matches; `emails` alone compares value.
    { filter: 'emails co "@example.com"', expected: true },
    { filter: 'emails.value co "@home.org"', expected: true },
    { filter: 'emails.value eq "nobody@x"', expected: false },
    { filter: 'emails.value ne "nobody@x"', expected: true },
    { filter: 'emails[type eq "work" and value co "@example.com"]', expected: true },
    { filter: 'emails[type eq "home" and value co "@example.com"]', expected: false },
    { filter: 'emails[type eq "WORK"].value eq "bjensen@example.com"', expected: true },
    { filter: 'emails[type eq "home"].value eq "bjensen@example.com"', expected: false },
    { filter: 'emails[primary eq true].value ew "example.com"', expected: true },
    { filter: 'emails[not (type eq "work")]', expected: true },
    { filter: 'phoneNumbers[type eq "work"]', expected: false },
    { filter: "active eq true", expected: true },
    { filter: "active eq false", expected: false },
    { filter: "active ne false", expected: true },
    // pr: "" and absent are not present (RFC 7644 §3.4.2.2).
    { filter: "title pr", expected: false },
    { filter: "nickName pr", expected: false },
    { filter: "displayName pr", expected: true },
    { filter: "emails pr", expected: true },
    { filter: "phoneNumbers pr", expected: false },
    { filter: "name pr", expected: true },
    { filter: "emails.type pr", expected: true },
    // ne is NOT eq, so an absent attribute matches ne (and not eq).
    { filter: 'nickName ne "x"', expected: true },
    { filter: 'nickName eq "x"', expected: false },
    { filter: 'not (nickName eq "x")', expected: true },
    { filter: "nickName eq null", expected: true },
    { filter: "displayName eq null", expected: false },
    { filter: "displayName ne null", expected: true },
    // Dates compare as instants, whatever the offset.
    { filter: 'meta.lastModified gt "2011-05-13T04:42:33Z"', expected: true },
    { filter: 'meta.lastModified gt "2011-05-13T04:42:34Z"', expected: false },
    { filter: 'meta.lastModified ge "2011-05-13T04:42:34Z"', expected: true },
    { filter: "meta.created lt 2010-01-23T05:56:22+01:00", expected: false },
    { filter: "meta.created le 2010-01-23T05:56:22+01:00", expected: true },
    { filter: 'meta.created sw "2010-01"', expected: true },
    { filter: 'meta.resourceType eq "User"', expected: true },
    // Enterprise extension under its URN key.
    { filter: `${ENT}:department eq "tour operations"`, expected: true },
    { filter: 'department eq "Marketing"', expected: false },
    { filter: 'manager eq "26118915"', expected: true },
    { filter: `${ENT}:manager.value eq "26118915"`, expected: true },
    { filter: `${ENT}:employeeNumber eq 701984`, expected: true },
    // Okta "email" alias: userName or the primary email, not any email.
    { filter: 'email eq "BJENSEN@example.com"', expected: true },
    { filter: 'email eq "babs@home.org"', expected: false },
    // and binds tighter than or.
    { filter: 'userName eq "x" or userName eq "bjensen@example.com" and active eq false', expected: false },
    { filter: '(userName eq "x" or userName eq "bjensen@example.com") and active eq true', expected: true },
    { filter: 'userType eq "employee" and (emails co "example.com" or emails.value co "example.org")', expected: true },
    { filter: 'not (userName eq "x" or active eq true)', expected: false },
  ];
  it.each(cases)("$filter → $expected", ({ filter, expected }) => {
    expect(matchesFilter(parseFilter(filter, USER_RESOURCE), bjensen)).toBe(expected);
  });
});

describe("matchesFilter: Unicode case folding (NFKC + toLowerCase)", () => {
  const rows: { name: string; resource: Record<string, unknown>; filter: string; want: boolean }[] = [
    { name: "upper-case stored, lower-case asked", resource: { userName: "ÄNNE@x" }, filter: 'userName eq "änne@x"', want: true },
    { name: "lower-case stored, upper-case asked", resource: { userName: "änne@x" }, filter: 'userName eq "ÄNNE@X"', want: true },
    { name: "full-width letters fold (NFKC)", resource: { userName: "ｆｕｌｌ" }, filter: 'userName eq "full"', want: true },
    { name: "ß is SS (full case folding)", resource: { userName: "Straße" }, filter: 'userName eq "STRASSE"', want: true },
    { name: "a final sigma is a sigma", resource: { userName: "ΟΔΟΣ@x" }, filter: 'userName eq "οδοσ@x"', want: true },
    { name: "Σ@ is found in a word-final sigma", resource: { userName: "ΟΔΟΣ@x" }, filter: 'userName co "Σ@"', want: true },
    { name: "the dotless ı is not i", resource: { userName: "kırmızı" }, filter: 'userName eq "kirmizi"', want: false },
    { name: "caseExact externalId is not folded", resource: { externalId: "Ä" }, filter: 'externalId eq "ä"', want: false },
  ];
  it.each(rows)("$name: $filter → $want", ({ resource, filter, want }) => {
    expect(matchesFilter(parseFilter(filter, USER_RESOURCE), resource)).toBe(want);
  });
});

describe("matchesFilter over a stored Group", () => {
  const group = { id: "g1", displayName: "Admins", members: [{ value: "u1" }, { value: "u2", display: "Two" }] };
  const rows: { name: string; filter: string; want: boolean }[] = [
    { name: "a member by id", filter: 'members eq "u1"', want: true },
    { name: "member ids are case-exact", filter: 'members eq "U1"', want: false },
    { name: "not a member", filter: 'members[value eq "u3"]', want: false },
    { name: "a member through a value filter", filter: 'members[value eq "u2"]', want: true },
    { name: "members present", filter: "members pr", want: true },
    { name: "displayName is case-insensitive", filter: 'displayName eq "ADMINS"', want: true },
  ];
  it.each(rows)("$name: $filter → $want", ({ filter, want }) => {
    expect(matchesFilter(parseFilter(filter, GROUP_RESOURCE), group)).toBe(want);
  });
});

describe("matchesFilter over one element (PATCH value filters)", () => {
  const emails = { uri: USER_SCHEMA_ID, attr: "emails" };
  const members = { uri: GROUP_SCHEMA_ID, attr: "members" };
  const pathFilter = (path: string, rt = USER_RESOURCE): Filter => {
    const f = parsePath(path, rt).filter;
    if (!f) throw new Error("no filter");
    return f;
  };
  const rows: { name: string; filter: Filter; element: Record<string, unknown>; within?: typeof emails; want: boolean }[] = [
    {
      name: "type compares case-insensitively",
      filter: pathFilter('emails[type eq "WORK"]'),
      element: { type: "work", value: "a@x" },
      within: emails,
      want: true,
    },
    {
      name: "and with ew, case-insensitive",
      filter: pathFilter('emails[type eq "work" and value ew "X.COM"]'),
      element: { type: "work", value: "a@x.com" },
      within: emails,
      want: true,
    },
    {
      name: "primary unassigned is not true",
      filter: pathFilter("emails[primary eq true]"),
      element: { type: "work", value: "a@x" },
      within: emails,
      want: false,
    },
    {
      name: "an empty string is not present",
      filter: pathFilter("emails[value pr]"),
      element: { type: "work", value: "" },
      within: emails,
      want: false,
    },
    {
      name: "members.value is case-exact",
      filter: pathFilter('members[value eq "ABC"]', GROUP_RESOURCE),
      element: { value: "abc" },
      within: members,
      want: false,
    },
    {
      name: "members.value equal",
      filter: pathFilter('members[value eq "abc"]', GROUP_RESOURCE),
      element: { value: "abc" },
      within: members,
      want: true,
    },
    // Without the element path, sub-attributes compare case-insensitively.
    { name: "without the element path", filter: pathFilter('emails[type eq "WORK"]'), element: { type: "work" }, want: true },
  ];
  it.each(rows)("$name", ({ filter, element, within, want }) => {
    expect(matchesFilter(filter, element, within)).toBe(want);
  });
});
