import { describe, expect, it } from "vitest";
import { coerceValue, normalizeResource, type StoredResource } from "../../src/scim/resource";
import {
  ENTERPRISE_USER_SCHEMA_ID as ENT,
  findAttribute,
  GROUP_RESOURCE,
  GROUP_SCHEMA_ID,
  type ResourceTypeDef,
  SITE_USER_SCHEMA_ID as SITE,
  USER_RESOURCE,
  USER_SCHEMA,
  USER_SCHEMA_ID,
} from "../../src/scim/schemas";
import { expectScimError } from "./scim-error";

interface OkCase {
  name: string;
  input: unknown;
  expected: StoredResource;
  rt?: ResourceTypeDef;
  password?: string;
  quirk?: string;
}

interface ErrorCase {
  name: string;
  input: unknown;
  status: number;
  scimType: string;
  detail?: RegExp;
  rt?: ResourceTypeDef;
}

const u = (extra: Record<string, unknown>) => ({ userName: "bjensen", ...extra });

const okCases: OkCase[] = [
  {
    name: "Okta create body (CONFORMANCE 41): password extracted, groups ignored",
    input: {
      schemas: [USER_SCHEMA_ID],
      userName: "test.user@okta.local",
      name: { givenName: "Test", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
      displayName: "Test User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      groups: [],
      password: "1mz050nq",
      active: true,
    },
    expected: {
      userName: "test.user@okta.local",
      name: { givenName: "Test", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
      displayName: "Test User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      active: true,
    },
    password: "1mz050nq",
  },
  {
    name: "Entra create with nulls, meta, roles:[] and an unknown vendor URN (CONFORMANCE 42)",
    input: {
      schemas: [USER_SCHEMA_ID, ENT, "urn:ietf:params:scim:schemas:extension:vendor:2.0:User"],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b@testuser.com" }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
      addresses: null,
      phoneNumbers: null,
      title: null,
      [ENT]: { department: null, manager: null },
      "urn:ietf:params:scim:schemas:extension:vendor:2.0:User": { foo: 1 },
    },
    expected: {
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b@testuser.com" }],
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
    },
    quirk: "ignored unknown schema or attribute 'urn:ietf:params:scim:schemas:extension:vendor:2.0:User'",
  },
  {
    name: "attribute names matched case-insensitively (CONFORMANCE 44)",
    input: { UserName: "Bob", emails: [{ Value: "b@x", Primary: true }] },
    expected: { userName: "Bob", emails: [{ value: "b@x", primary: true }] },
    quirk: "attribute 'Primary' matched case-insensitively as 'primary'",
  },
  {
    name: 'active "True" as a string (CONFORMANCE 44)',
    input: u({ active: "True" }),
    expected: u({ active: true }),
    quirk: 'active sent as string "True"',
  },
  {
    name: 'active "False" as a string (Entra old form)',
    input: u({ active: "False" }),
    expected: u({ active: false }),
    quirk: 'active sent as string "False"',
  },
  { name: 'active "false" lower case', input: u({ active: "false" }), expected: u({ active: false }) },
  {
    name: "enterprise extension object stored under its URN (CONFORMANCE 43)",
    input: u({ [ENT]: { employeeNumber: "534", department: "Eng", manager: { value: "m1", displayName: "Boss" } } }),
    expected: u({ [ENT]: { employeeNumber: "534", department: "Eng", manager: { value: "m1" } } }),
  },
  {
    name: "manager as a bare string becomes {value}",
    input: u({ [ENT]: { manager: "m1" } }),
    expected: u({ [ENT]: { manager: { value: "m1" } } }),
    quirk: "manager sent as a bare string",
  },
  { name: 'manager "" is unassigned', input: u({ [ENT]: { manager: "", department: "x" } }), expected: u({ [ENT]: { department: "x" } }) },
  {
    name: "manager as an array of one (Entra tutorial form)",
    input: u({ [ENT]: { manager: [{ $ref: "https://x/Users/m1", value: "m1" }] } }),
    expected: u({ [ENT]: { manager: { $ref: "https://x/Users/m1", value: "m1" } } }),
  },
  {
    name: "URN-prefixed extension attributes at the top level",
    input: u({ [`${ENT}:department`]: "Eng", [`${ENT}:employeeNumber`]: "7" }),
    expected: u({ [ENT]: { department: "Eng", employeeNumber: "7" } }),
  },
  {
    name: "extension URN key in a different case",
    input: u({ [ENT.toUpperCase()]: { Department: "Eng" } }),
    expected: u({ [ENT]: { department: "Eng" } }),
    quirk: `extension URN '${ENT.toUpperCase()}' matched case-insensitively`,
  },
  {
    name: "core-URN-qualified attribute name",
    input: { [`${USER_SCHEMA_ID}:userName`]: "q" },
    expected: { userName: "q" },
  },
  {
    name: "unknown attribute ignored (MP misspelled 'adreses')",
    input: u({ adreses: [{ locality: "x" }] }),
    expected: u({}),
    quirk: "ignored unknown attribute 'adreses'",
  },
  {
    name: "readOnly id, meta, groups and the effective site role ignored (CONFORMANCE 49, 52)",
    input: u({ id: "abc", meta: { created: "x" }, groups: [{ value: "g" }], [SITE]: { role: "admin" } }),
    expected: u({}),
  },
  {
    name: "roles kept as sent: Entra's app role, Okta's entitlement, a value that names no site role",
    input: u({
      roles: [
        { primary: false, type: "WindowsAzureActiveDirectoryRole", display: "Admin", value: "Admin" },
        { value: "moderator", display: "Moderator" },
        { value: "Reviewer" },
      ],
    }),
    expected: u({
      roles: [
        { primary: false, type: "WindowsAzureActiveDirectoryRole", display: "Admin", value: "Admin" },
        { value: "moderator", display: "Moderator" },
        { value: "Reviewer" },
      ],
    }),
  },
  {
    name: "roles: Entra's displayName (its POST example) is no sub-attribute: ignored, the value kept",
    input: u({ roles: [{ primary: false, type: "WindowsAzureActiveDirectoryRole", displayName: "Admin", value: "Admin" }] }),
    expected: u({ roles: [{ primary: false, type: "WindowsAzureActiveDirectoryRole", value: "Admin" }] }),
    quirk: "ignored unknown attribute 'roles.displayName'",
  },
  { name: "schemas is optional", input: { userName: "a" }, expected: { userName: "a" } },
  {
    name: 'null, "" and [] are unassigned (RFC 7643 §2.5)',
    input: u({ title: null, nickName: "", emails: [], name: {}, phoneNumbers: [null] }),
    expected: u({}),
  },
  {
    name: "a single object for a multi-valued attribute is wrapped",
    input: u({ emails: { value: "a@x", type: "work" } }),
    expected: u({ emails: [{ value: "a@x", type: "work" }] }),
    quirk: "emails sent as a single value instead of an array",
  },
  {
    name: "values kept exactly as sent (case, formatting)",
    input: { userName: "Runscope123Abc456@atko.com", phoneNumbers: [{ value: "55555555555", type: "WORK" }] },
    expected: { userName: "Runscope123Abc456@atko.com", phoneNumbers: [{ value: "55555555555", type: "WORK" }] },
  },
  {
    name: "unknown sub-attribute ignored (emails.display is not advertised)",
    input: u({ emails: [{ value: "a@x", display: "A" }] }),
    expected: u({ emails: [{ value: "a@x" }] }),
    quirk: "ignored unknown attribute 'emails.display'",
  },
  {
    name: "group with members: display and $ref dropped, duplicates collapsed",
    rt: GROUP_RESOURCE,
    input: {
      schemas: [GROUP_SCHEMA_ID, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
      displayName: "Eng",
      externalId: "e1",
      members: [{ value: "u1", display: "VP", $ref: null }, { value: "u2", type: "User" }, { value: "u1" }],
    },
    expected: { displayName: "Eng", externalId: "e1", members: [{ value: "u1" }, { value: "u2", type: "User" }] },
  },
  {
    name: "Okta group push with members: []",
    rt: GROUP_RESOURCE,
    input: { schemas: [GROUP_SCHEMA_ID], displayName: "Test SCIMv2", members: [] },
    expected: { displayName: "Test SCIMv2", members: [] },
  },
  {
    name: "group members: null is an explicit empty membership too",
    rt: GROUP_RESOURCE,
    input: { displayName: "g", members: null },
    expected: { displayName: "g", members: [] },
  },
  {
    name: "group without a members key has none in data (PUT keeps the membership)",
    rt: GROUP_RESOURCE,
    input: { displayName: "g" },
    expected: { displayName: "g" },
  },
  {
    name: "more than 100 group members is fine (bounded by body size)",
    rt: GROUP_RESOURCE,
    input: { displayName: "Big", members: Array.from({ length: 150 }, (_, i) => ({ value: `u${i}` })) },
    expected: { displayName: "Big", members: Array.from({ length: 150 }, (_, i) => ({ value: `u${i}` })) },
  },
  {
    name: "exactly 100 emails and an 8192-character string are accepted",
    input: u({ title: "t".repeat(8192), emails: Array.from({ length: 100 }, (_, i) => ({ value: `${i}@x` })) }),
    expected: u({ title: "t".repeat(8192), emails: Array.from({ length: 100 }, (_, i) => ({ value: `${i}@x` })) }),
  },
  {
    name: "prototype-pollution keys are ignored",
    input: JSON.parse(
      '{"userName":"p","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"name":{"__proto__":{"polluted":true},"givenName":"G"}}',
    ),
    expected: { userName: "p", name: { givenName: "G" } },
  },
];

const errorCases: ErrorCase[] = [
  { name: "body is an array", input: [], status: 400, scimType: "invalidSyntax" },
  { name: "body is a string", input: "x", status: 400, scimType: "invalidSyntax" },
  { name: "body is null", input: null, status: 400, scimType: "invalidSyntax" },
  {
    name: "no userName (CONFORMANCE 48)",
    input: { name: { givenName: "x" } },
    status: 400,
    scimType: "invalidValue",
    detail: /userName is required/,
  },
  { name: 'userName ""', input: { userName: "" }, status: 400, scimType: "invalidValue", detail: /userName is required/ },
  { name: "userName as a number (CONFORMANCE 50)", input: { userName: 123 }, status: 400, scimType: "invalidValue", detail: /userName/ },
  { name: 'active "yes"', input: u({ active: "yes" }), status: 400, scimType: "invalidValue", detail: /'active'/ },
  { name: "active 1", input: u({ active: 1 }), status: 400, scimType: "invalidValue", detail: /'active'/ },
  {
    name: "phone number as a number",
    input: u({ phoneNumbers: [{ value: 5555 }] }),
    status: 400,
    scimType: "invalidValue",
    detail: /phoneNumbers\[0\]\.value/,
  },
  { name: "name as a string", input: u({ name: "Bob" }), status: 400, scimType: "invalidValue", detail: /'name'/ },
  { name: "emails element as a string", input: u({ emails: ["a@x"] }), status: 400, scimType: "invalidValue", detail: /emails\[0\]/ },
  { name: "single-valued attribute as an array", input: u({ title: ["a", "b"] }), status: 400, scimType: "invalidValue", detail: /title/ },
  {
    name: "two primary emails (CONFORMANCE 50, RFC 7643 §2.4)",
    input: u({
      emails: [
        { value: "a@x", primary: true },
        { value: "b@x", primary: "True" },
      ],
    }),
    status: 400,
    scimType: "invalidValue",
    detail: /emails.*primary/,
  },
  { name: "string over 8192 characters", input: u({ title: "t".repeat(8193) }), status: 400, scimType: "invalidValue", detail: /title/ },
  {
    name: "101 phone numbers",
    input: u({ phoneNumbers: Array.from({ length: 101 }, (_, i) => ({ value: `${i}` })) }),
    status: 400,
    scimType: "invalidValue",
    detail: /phoneNumbers/,
  },
  { name: "extension as a string", input: u({ [ENT]: "Eng" }), status: 400, scimType: "invalidValue", detail: /enterprise/ },
  {
    name: "same attribute twice in different case",
    input: { userName: "a", USERNAME: "b" },
    status: 400,
    scimType: "invalidValue",
    detail: /more than once/,
  },
  { name: "password as a number", input: u({ password: 1234 }), status: 400, scimType: "invalidValue", detail: /password/ },
  {
    name: "group without displayName (CONFORMANCE 80)",
    rt: GROUP_RESOURCE,
    input: { members: [] },
    status: 400,
    scimType: "invalidValue",
    detail: /displayName is required/,
  },
  {
    name: "group member without value",
    rt: GROUP_RESOURCE,
    input: { displayName: "g", members: [{ display: "x" }] },
    status: 400,
    scimType: "invalidValue",
    detail: /members\[0\]\.value/,
  },
  {
    name: "group member value as a number",
    rt: GROUP_RESOURCE,
    input: { displayName: "g", members: [{ value: 7 }] },
    status: 400,
    scimType: "invalidValue",
    detail: /members\[0\]\.value/,
  },
];

describe("normalizeResource", () => {
  it.each(okCases)("$name", ({ input, expected, rt, password, quirk }) => {
    const result = normalizeResource(input, rt ?? USER_RESOURCE);
    expect(result.data).toEqual(expected);
    expect(result.password).toBe(password);
    if (quirk) expect(result.quirks).toContain(quirk);
  });

  it.each(errorCases)("rejects: $name", ({ input, rt, status, scimType, detail }) => {
    expectScimError(() => normalizeResource(input, rt ?? USER_RESOURCE), status, scimType, detail);
  });

  it("never pollutes prototypes and never writes them into data", () => {
    const input: unknown = JSON.parse(
      '{"userName":"p","__proto__":{"isAdmin":true},"emails":[{"value":"a@x","__proto__":{"isAdmin":true}}]}',
    );
    const { data } = normalizeResource(input, USER_RESOURCE);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect((data as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(JSON.stringify(data)).toBe('{"userName":"p","emails":[{"value":"a@x"}]}');
  });

  it("does not mutate its input and is idempotent on its own output", () => {
    const input = { UserName: "x", emails: { value: "a@x" }, active: "True", [`${ENT}:manager`]: "m" };
    const before = structuredClone(input);
    const first = normalizeResource(input, USER_RESOURCE);
    expect(input).toEqual(before);
    const second = normalizeResource(first.data, USER_RESOURCE);
    expect(second.data).toEqual(first.data);
    expect(second.quirks).toEqual([]);
  });

  it("records no quirks for a canonical body", () => {
    expect(normalizeResource({ userName: "a", active: true }, USER_RESOURCE).quirks).toEqual([]);
  });
});

describe("coerceValue", () => {
  const active = findAttribute(USER_SCHEMA.attributes, "active");
  const emails = findAttribute(USER_SCHEMA.attributes, "emails");
  if (!active || !emails) throw new Error("schema lost active/emails");

  it.each([
    { value: false, expected: false },
    { value: "False", expected: false },
    { value: "TRUE", expected: true },
    { value: null, expected: undefined },
    { value: "", expected: undefined },
  ])("active $value → $expected", ({ value, expected }) => {
    expect(coerceValue(active, value, [])).toBe(expected);
  });

  it("rejects 'maybe' for a boolean, naming the label", () => {
    expectScimError(() => coerceValue(active, "maybe", [], "active"), 400, "invalidValue", /'active'/);
  });

  it("wraps a single email and records the quirk", () => {
    const quirks: string[] = [];
    expect(coerceValue(emails, { value: "a@x" }, quirks)).toEqual([{ value: "a@x" }]);
    expect(quirks).toEqual(["emails sent as a single value instead of an array"]);
  });
});
