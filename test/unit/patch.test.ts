import { describe, expect, it } from "vitest";
import { applyPatch, type MemberOp } from "../../src/scim/patch";
import type { StoredResource } from "../../src/scim/resource";
import {
  ENTERPRISE_USER_SCHEMA_ID as ENT,
  GROUP_RESOURCE,
  PATCH_OP_SCHEMA,
  type ResourceTypeDef,
  SITE_USER_SCHEMA_ID as SITE,
  USER_RESOURCE,
} from "../../src/scim/schemas";
import { expectScimError } from "./scim-error";

const USER_ID = "2819c223-7f76-453a-919d-413861904646";
const GROUP_ID = "e9e30dba-f08f-4109-8486-d5c6a331660a";

const USER: StoredResource = {
  userName: "bjensen@example.com",
  name: { givenName: "Barbara", familyName: "Jensen", middleName: "Jane" },
  displayName: "Babs",
  active: true,
  emails: [
    { value: "bjensen@example.com", type: "work", primary: true },
    { value: "babs@home.example", type: "home" },
  ],
  [ENT]: { employeeNumber: "701", manager: { value: "m1" } },
};

/** USER without its work email, for CONFORMANCE 64. */
const USER_NO_WORK: StoredResource = { ...USER, emails: [{ value: "babs@home.example", type: "home" }] };

const GROUP: StoredResource = { displayName: "Eng", externalId: "g-ext" };

const patchBody = (...operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations: operations });

/** The resource with some top-level keys replaced (undefined deletes the key). */
function changed(base: StoredResource, changes: Record<string, unknown>): StoredResource {
  const out: StoredResource = structuredClone(base);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

interface OkCase {
  name: string;
  body: unknown;
  expected: StoredResource;
  base?: StoredResource;
  rt?: ResourceTypeDef;
  memberOps?: MemberOp[];
  password?: string;
  quirk?: string;
}

interface ErrorCase {
  name: string;
  body: unknown;
  status: number;
  scimType: string;
  detail?: RegExp;
  base?: StoredResource;
  rt?: ResourceTypeDef;
}

/** An Entra app role as AppRoleAssignmentsComplex sends it (Microsoft's "Provisioning a role to a SCIM app"). */
const entraRole = (value: string) => ({ primary: false, type: "WindowsAzureActiveDirectoryRole", display: value, value });
const WITH_ROLES: StoredResource = { ...USER, roles: [entraRole("Admin"), entraRole("User")] };

const userCases: OkCase[] = [
  {
    name: "roles: Entra AppRoleAssignmentsComplex adds an app role",
    body: patchBody({ op: "Add", path: "roles", value: [entraRole("Admin")] }),
    expected: changed(USER, { roles: [entraRole("Admin")] }),
    quirk: 'op sent capitalised as "Add"',
  },
  {
    name: "roles: the same add again changes nothing (Entra re-sends what it mapped)",
    base: WITH_ROLES,
    body: patchBody({ op: "Add", path: "roles", value: [entraRole("Admin")] }),
    expected: WITH_ROLES,
  },
  {
    name: "roles: Entra AssertiveAppRoleAssignmentsComplex replaces the list",
    base: WITH_ROLES,
    body: patchBody({ op: "replace", path: "roles", value: [entraRole("Moderator")] }),
    expected: changed(USER, { roles: [entraRole("Moderator")] }),
  },
  {
    name: "roles: a remove with a value list drops only those",
    base: WITH_ROLES,
    body: patchBody({ op: "Remove", path: "roles", value: [entraRole("Admin")] }),
    expected: changed(USER, { roles: [entraRole("User")] }),
  },
  {
    name: "roles: remove by a value filter, case-insensitively",
    base: WITH_ROLES,
    body: patchBody({ op: "remove", path: 'roles[value eq "admin"]' }),
    expected: changed(USER, { roles: [entraRole("User")] }),
  },
  {
    name: "roles: remove without a value drops them all",
    base: WITH_ROLES,
    body: patchBody({ op: "remove", path: "roles" }),
    expected: USER,
  },
  {
    name: "roles: Entra SingleAppRoleAssignment creates the primary role (value filter on a boolean sent as a string)",
    body: patchBody({ op: "Replace", path: 'roles[primary eq "True"].value', value: "Admin" }),
    expected: changed(USER, { roles: [{ primary: true, value: "Admin" }] }),
  },
  {
    name: "roles: SingleAppRoleAssignment again replaces that role's value",
    base: changed(USER, { roles: [{ primary: true, value: "Admin" }] }),
    body: patchBody({ op: "Replace", path: 'roles[primary eq "True"].value', value: "Moderator" }),
    expected: changed(USER, { roles: [{ primary: true, value: "Moderator" }] }),
  },
  {
    name: "roles: Okta's path-less replace of its entitlements",
    body: patchBody({ op: "replace", value: { roles: [{ value: "moderator", display: "Moderator" }] } }),
    expected: changed(USER, { roles: [{ value: "moderator", display: "Moderator" }] }),
  },
  {
    name: "Okta deactivate: path-less replace {active:false} (CONFORMANCE 56)",
    body: patchBody({ op: "replace", value: { active: false } }),
    expected: changed(USER, { active: false }),
    quirk: "path-less replace",
  },
  {
    name: "Okta reactivate: path-less replace {active:true}",
    base: changed(USER, { active: false }),
    body: patchBody({ op: "replace", value: { active: true } }),
    expected: USER,
  },
  {
    name: 'Entra old form: "Replace" active "False" (CONFORMANCE 58)',
    body: patchBody({ op: "Replace", path: "active", value: "False" }),
    expected: changed(USER, { active: false }),
    quirk: 'op sent capitalised as "Replace"',
  },
  {
    name: "Entra old form records the string boolean",
    body: patchBody({ op: "Replace", path: "active", value: "False" }),
    expected: changed(USER, { active: false }),
    quirk: 'active sent as string "False"',
  },
  {
    name: 'active "True" reactivates',
    base: changed(USER, { active: false }),
    body: patchBody({ op: "Replace", path: "active", value: "True" }),
    expected: USER,
  },
  {
    name: "Entra flag form: replace active false (CONFORMANCE 59)",
    body: patchBody({ op: "replace", path: "active", value: false }),
    expected: changed(USER, { active: false }),
  },
  {
    name: "replace name.familyName",
    body: patchBody({ op: "replace", path: "name.familyName", value: "Smith" }),
    expected: changed(USER, { name: { givenName: "Barbara", familyName: "Smith", middleName: "Jane" } }),
  },
  {
    name: "Entra multi-replace: work email value and familyName (CONFORMANCE 60)",
    body: patchBody(
      { op: "Replace", path: 'emails[type eq "work"].value', value: "x@y" },
      { op: "Replace", path: "name.familyName", value: "F" },
    ),
    expected: changed(USER, {
      name: { givenName: "Barbara", familyName: "F", middleName: "Jane" },
      emails: [
        { value: "x@y", type: "work", primary: true },
        { value: "babs@home.example", type: "home" },
      ],
    }),
  },
  {
    name: 'replace emails[type eq "work"].value with no work email creates it (CONFORMANCE 64)',
    base: USER_NO_WORK,
    body: patchBody({ op: "replace", path: 'emails[type eq "work"].value', value: "w@x" }),
    expected: changed(USER, {
      emails: [
        { value: "babs@home.example", type: "home" },
        { type: "work", value: "w@x" },
      ],
    }),
  },
  {
    name: 'add emails[type eq "work"].value with no work email also creates it',
    base: USER_NO_WORK,
    body: patchBody({ op: "add", path: 'emails[type eq "work"].value', value: "w@x" }),
    expected: changed(USER, {
      emails: [
        { value: "babs@home.example", type: "home" },
        { type: "work", value: "w@x" },
      ],
    }),
  },
  {
    name: "filtered replace creates the emails attribute when the user has none",
    base: changed(USER, { emails: undefined }),
    body: patchBody({ op: "Replace", path: 'emails[type eq "work"].value', value: "w@x" }),
    expected: changed(USER, { emails: [{ type: "work", value: "w@x" }] }),
  },
  {
    name: 'replace emails[type eq "home"] with an object (CONFORMANCE 67)',
    body: patchBody({ op: "replace", path: 'emails[type eq "home"]', value: { type: "home", value: "h@x" } }),
    expected: changed(USER, {
      emails: [
        { value: "bjensen@example.com", type: "work", primary: true },
        { type: "home", value: "h@x" },
      ],
    }),
  },
  {
    name: 'remove emails[type eq "work" and value ew "example.com"] (CONFORMANCE 67)',
    body: patchBody({ op: "remove", path: 'emails[type eq "work" and value ew "example.com"]' }),
    expected: changed(USER, { emails: [{ value: "babs@home.example", type: "home" }] }),
  },
  {
    name: "remove the last matching email removes the attribute",
    base: USER_NO_WORK,
    body: patchBody({ op: "remove", path: 'emails[type eq "home"]' }),
    expected: changed(USER, { emails: undefined }),
  },
  {
    name: "remove name.middleName (CONFORMANCE 67)",
    body: patchBody({ op: "remove", path: "name.middleName" }),
    expected: changed(USER, { name: { givenName: "Barbara", familyName: "Jensen" } }),
  },
  {
    name: "add on emails appends, and an equal value is not duplicated",
    body: patchBody({
      op: "add",
      path: "emails",
      value: [
        { value: "babs@home.example", type: "home" },
        { value: "o@x", type: "other" },
      ],
    }),
    expected: changed(USER, {
      emails: [
        { value: "bjensen@example.com", type: "work", primary: true },
        { value: "babs@home.example", type: "home" },
        { value: "o@x", type: "other" },
      ],
    }),
  },
  {
    name: "add a new primary email demotes the old one (RFC 7644 §3.5.2)",
    body: patchBody({ op: "add", path: "emails", value: [{ value: "n@x", type: "work", primary: true }] }),
    expected: changed(USER, {
      emails: [
        { value: "bjensen@example.com", type: "work", primary: false },
        { value: "babs@home.example", type: "home" },
        { value: "n@x", type: "work", primary: true },
      ],
    }),
  },
  {
    name: "add a single email object (not an array) is wrapped and appended",
    body: patchBody({ op: "add", path: "emails", value: { value: "o@x" } }),
    expected: changed(USER, {
      emails: [
        { value: "bjensen@example.com", type: "work", primary: true },
        { value: "babs@home.example", type: "home" },
        { value: "o@x" },
      ],
    }),
    quirk: "emails sent as a single value instead of an array",
  },
  {
    name: "replace on emails without a filter replaces the whole array",
    body: patchBody({ op: "replace", path: "emails", value: [{ value: "only@x", type: "work" }] }),
    expected: changed(USER, { emails: [{ value: "only@x", type: "work" }] }),
  },
  {
    name: "remove emails without a filter removes them all",
    body: patchBody({ op: "remove", path: "emails" }),
    expected: changed(USER, { emails: undefined }),
  },
  {
    name: "remove emails with a value list removes only the listed values",
    body: patchBody({ op: "remove", path: "emails", value: [{ value: "babs@home.example" }] }),
    expected: changed(USER, { emails: [{ value: "bjensen@example.com", type: "work", primary: true }] }),
  },
  {
    name: "Add on a single-valued attribute is a replace (CONFORMANCE 62)",
    body: patchBody({ op: "Add", path: "nickName", value: "Babs" }),
    expected: changed(USER, { nickName: "Babs" }),
  },
  {
    name: "add on name merges sub-attributes (RFC 7644 §3.5.2.1)",
    body: patchBody({ op: "add", path: "name", value: { honorificPrefix: "Ms." } }),
    expected: changed(USER, { name: { givenName: "Barbara", familyName: "Jensen", middleName: "Jane", honorificPrefix: "Ms." } }),
  },
  {
    name: "Replace userName (CONFORMANCE 63)",
    body: patchBody({ op: "Replace", path: "userName", value: "new@x" }),
    expected: changed(USER, { userName: "new@x" }),
  },
  {
    name: "replacing with the current value is fine (CONFORMANCE 72)",
    body: patchBody({ op: "replace", path: "displayName", value: "Babs" }, { op: "replace", value: { active: true } }),
    expected: USER,
  },
  {
    name: "Operations: [] is a no-op (CONFORMANCE 69)",
    body: patchBody(),
    expected: USER,
  },
  {
    name: "Entra path-less replace with dotted and URN keys (CONFORMANCE 61)",
    body: patchBody({
      op: "replace",
      value: {
        displayName: "B",
        "name.givenName": "K",
        "name.familyName": "U",
        [`${ENT}:employeeNumber`]: "A",
      },
    }),
    expected: changed(USER, {
      displayName: "B",
      name: { givenName: "K", familyName: "U", middleName: "Jane" },
      [ENT]: { employeeNumber: "A", manager: { value: "m1" } },
    }),
    quirk: "path-less value keys read as paths (dotted or URN-prefixed)",
  },
  {
    name: "add of the whole extension object with its own schemas key (scim2-tester; as POST takes it)",
    body: patchBody({ op: "add", path: ENT, value: { schemas: [ENT], department: "Eng", costCenter: "42" } }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701", manager: { value: "m1" }, department: "Eng", costCenter: "42" } }),
  },
  {
    name: "replace of the whole extension object: given attributes replaced, others kept (RFC 7644 §3.5.2.3)",
    body: patchBody({ op: "replace", path: ENT, value: { schemas: [ENT], employeeNumber: "702", manager: { value: "m2" } } }),
    expected: changed(USER, { [ENT]: { employeeNumber: "702", manager: { value: "m2" } } }),
  },
  {
    name: "path-less replace with an extension object carrying schemas",
    body: patchBody({ op: "replace", value: { [ENT]: { schemas: [ENT], division: "North" } } }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701", manager: { value: "m1" }, division: "North" } }),
  },
  {
    name: "path-less add with an enterprise extension object",
    body: patchBody({ op: "add", value: { [ENT]: { department: "Eng" } } }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701", manager: { value: "m1" }, department: "Eng" } }),
  },
  {
    name: "path-less value ignores unknown vendor schema URNs",
    body: patchBody({ op: "replace", value: { "urn:vendor:custom:2.0:User": { x: 1 }, title: "T" } }),
    expected: changed(USER, { title: "T" }),
    quirk: "ignored unknown schema 'urn:vendor:custom:2.0:User' in a path-less value",
  },
  {
    name: "path-less value with the resource's own id: id ignored (CONFORMANCE 71)",
    body: patchBody({ op: "replace", value: { id: USER_ID, displayName: "X" } }),
    expected: changed(USER, { displayName: "X" }),
  },
  {
    name: "manager set via path with a bare string (CONFORMANCE 65)",
    body: patchBody({ op: "replace", path: "manager", value: "m2" }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701", manager: { value: "m2" } } }),
    quirk: "manager sent as a bare string",
  },
  {
    name: "manager set via the URN path with a bare string (SCIM-SDK#686)",
    base: changed(USER, { [ENT]: undefined }),
    body: patchBody({ op: "add", path: `${ENT}:manager`, value: "m2" }),
    expected: changed(USER, { [ENT]: { manager: { value: "m2" } } }),
  },
  {
    name: "manager set with {value}; a stale $ref is not kept",
    base: changed(USER, { [ENT]: { manager: { value: "m1", $ref: "https://x/Users/m1" } } }),
    body: patchBody({ op: "replace", path: `${ENT}:manager`, value: { value: "m2" } }),
    expected: changed(USER, { [ENT]: { manager: { value: "m2" } } }),
  },
  {
    name: "manager set with the Entra tutorial array of one {$ref, value}",
    body: patchBody({ op: "Add", path: "manager", value: [{ $ref: "https://x/Users/m3", value: "m3" }] }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701", manager: { $ref: "https://x/Users/m3", value: "m3" } } }),
  },
  {
    name: 'manager removed with Replace value "" (CONFORMANCE 65)',
    body: patchBody({ op: "Replace", path: `${ENT}:manager`, value: "" }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701" } }),
  },
  {
    name: "manager removed with value null",
    body: patchBody({ op: "replace", path: "manager", value: null }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701" } }),
  },
  {
    name: "manager removed with a remove op; an emptied extension disappears",
    base: changed(USER, { [ENT]: { manager: { value: "m1" } } }),
    body: patchBody({ op: "remove", path: `${ENT}:manager` }),
    expected: changed(USER, { [ENT]: undefined }),
  },
  {
    name: 'replace title "" then null leaves it absent (CONFORMANCE 66)',
    base: changed(USER, { title: "Boss" }),
    body: patchBody({ op: "replace", path: "title", value: "" }, { op: "replace", path: "title", value: null }),
    expected: USER,
  },
  {
    name: "remove of an unassigned attribute is a no-op",
    body: patchBody({ op: "remove", path: "nickName" }),
    expected: USER,
  },
  {
    name: "Okta Sync Password: path-less password goes to result.password only (CONFORMANCE 57)",
    body: patchBody({ op: "replace", value: { password: "s3cret!" } }),
    expected: USER,
    password: "s3cret!",
  },
  {
    name: "password via path",
    body: patchBody({ op: "replace", path: "password", value: "p2" }),
    expected: USER,
    password: "p2",
  },
  {
    name: "member names and op in any case, extra keys ignored (CONFORMANCE 75)",
    body: { operations: [{ OP: "REPLACE", Path: "displayName", Value: "Z", name: "rename" }] },
    expected: changed(USER, { displayName: "Z" }),
  },
  {
    name: "a filtered sub-attribute path sets primary and demotes the other",
    body: patchBody({ op: "replace", path: 'emails[type eq "home"].primary', value: true }),
    expected: changed(USER, {
      emails: [
        { value: "bjensen@example.com", type: "work", primary: false },
        { value: "babs@home.example", type: "home", primary: true },
      ],
    }),
  },
  {
    name: "path names in any case come out canonical",
    body: patchBody({ op: "replace", path: 'EMAILS[TYPE eq "work"].VALUE', value: "w2@x" }),
    expected: changed(USER, {
      emails: [
        { value: "w2@x", type: "work", primary: true },
        { value: "babs@home.example", type: "home" },
      ],
    }),
  },
  {
    name: "remove a sub-attribute of the matching values only",
    body: patchBody({ op: "remove", path: 'emails[type eq "work"].primary' }),
    expected: changed(USER, {
      emails: [
        { value: "bjensen@example.com", type: "work" },
        { value: "babs@home.example", type: "home" },
      ],
    }),
  },
  {
    name: "Entra Add on an attribute that already has a value replaces it (quirk 13)",
    base: changed(USER, { title: "Old" }),
    body: patchBody({ op: "Add", path: "title", value: "New" }),
    expected: changed(USER, { title: "New" }),
  },
  {
    name: "no schemas in the PATCH body is tolerated",
    body: { Operations: [{ op: "replace", path: "nickName", value: "N" }] },
    expected: changed(USER, { nickName: "N" }),
  },
  {
    name: "a path naming the whole extension applies its attributes",
    body: patchBody({ op: "replace", path: ENT, value: { department: "Ops" } }),
    expected: changed(USER, { [ENT]: { employeeNumber: "701", manager: { value: "m1" }, department: "Ops" } }),
  },
];

const groupCases: OkCase[] = [
  {
    name: "Entra add members, several at once (CONFORMANCE 85)",
    body: patchBody({ op: "Add", path: "members", value: [{ $ref: null, value: "u1" }, { value: "u2" }] }),
    expected: GROUP,
    memberOps: [{ op: "add", ids: ["u1", "u2"] }],
  },
  {
    name: "Entra old remove form removes only the listed members (CONFORMANCE 86)",
    body: patchBody({ op: "Remove", path: "members", value: [{ $ref: null, value: "u1" }] }),
    expected: GROUP,
    memberOps: [{ op: "remove", ids: ["u1"] }],
    quirk: "members removed by a value list (old Entra form)",
  },
  {
    name: "Entra old remove form, plain value list",
    body: patchBody({ op: "Remove", path: "members", value: [{ value: "u1" }] }),
    expected: GROUP,
    memberOps: [{ op: "remove", ids: ["u1"] }],
  },
  {
    name: 'remove members[value eq "u1"] (flag form)',
    body: patchBody({ op: "remove", path: 'members[value eq "u1"]' }),
    expected: GROUP,
    memberOps: [{ op: "remove", ids: ["u1"] }],
  },
  {
    name: "remove members without a value removes all (CONFORMANCE 89)",
    body: patchBody({ op: "remove", path: "members" }),
    expected: GROUP,
    memberOps: [{ op: "removeAll" }],
  },
  {
    name: "remove members with an empty value list removes nobody",
    body: patchBody({ op: "remove", path: "members", value: [] }),
    expected: GROUP,
    memberOps: [],
  },
  {
    name: "Okta remove by filter then add, in order (CONFORMANCE 87)",
    body: patchBody(
      { op: "remove", path: 'members[value eq "89bb"]' },
      { op: "add", path: "members", value: [{ value: "23a3", display: "test.user@okta.local" }] },
    ),
    expected: GROUP,
    memberOps: [
      { op: "remove", ids: ["89bb"] },
      { op: "add", ids: ["23a3"] },
    ],
  },
  {
    name: "replace members with a full set",
    body: patchBody({ op: "replace", path: "members", value: [{ value: "u1" }, { value: "u2" }] }),
    expected: GROUP,
    memberOps: [{ op: "replace", ids: ["u1", "u2"] }],
  },
  {
    name: "replace members with [] empties the group",
    body: patchBody({ op: "replace", path: "members", value: [] }),
    expected: GROUP,
    memberOps: [{ op: "replace", ids: [] }],
  },
  {
    name: "Okta path-less replace with id, displayName and members (CONFORMANCE 87-88)",
    body: patchBody({ op: "replace", value: { id: GROUP_ID, displayName: "New", members: [{ value: "u1", display: "U" }] } }),
    expected: changed(GROUP, { displayName: "New" }),
    memberOps: [{ op: "replace", ids: ["u1"] }],
    quirk: "path-less value repeated the resource id",
  },
  {
    name: "Add externalId on a group (rancher#55776)",
    base: { displayName: "Eng" },
    body: patchBody({ op: "Add", path: "externalId", value: "x" }),
    expected: { displayName: "Eng", externalId: "x" },
  },
  {
    name: "Entra rename via path displayName (CONFORMANCE 88)",
    body: patchBody({ op: "Replace", path: "displayName", value: "Renamed" }),
    expected: changed(GROUP, { displayName: "Renamed" }),
  },
  {
    name: "members filter joined with or",
    body: patchBody({ op: "remove", path: 'members[value eq "a" or value eq "b"]' }),
    expected: GROUP,
    memberOps: [{ op: "remove", ids: ["a", "b"] }],
  },
  {
    name: "path-less add with members and externalId",
    body: patchBody({ op: "add", value: { externalId: "x2", members: [{ value: "u9" }] } }),
    expected: changed(GROUP, { externalId: "x2" }),
    memberOps: [{ op: "add", ids: ["u9"] }],
  },
  {
    name: "adding a member twice in one value is one id",
    body: patchBody({ op: "add", path: "members", value: [{ value: "u1" }, { value: "u1" }] }),
    expected: GROUP,
    memberOps: [{ op: "add", ids: ["u1"] }],
  },
];

const errorCases: ErrorCase[] = [
  { name: "body is an array", body: [], status: 400, scimType: "invalidSyntax" },
  { name: "Operations missing (CONFORMANCE 69)", body: { schemas: [PATCH_OP_SCHEMA] }, status: 400, scimType: "invalidSyntax" },
  { name: "Operations not an array", body: { Operations: { op: "add" } }, status: 400, scimType: "invalidSyntax" },
  { name: "operation not an object", body: patchBody("replace"), status: 400, scimType: "invalidSyntax" },
  { name: "op missing", body: patchBody({ path: "title", value: "x" }), status: 400, scimType: "invalidSyntax" },
  {
    name: 'op "invalid-op" is named',
    body: patchBody({ op: "invalid-op", path: "title", value: "x" }),
    status: 400,
    scimType: "invalidSyntax",
    detail: /invalid-op/,
  },
  {
    name: "remove without path (CONFORMANCE 68)",
    body: patchBody({ op: "remove", value: { nickName: "x" } }),
    status: 400,
    scimType: "noTarget",
  },
  {
    name: "remove with a filter matching nothing",
    body: patchBody({ op: "remove", path: 'emails[type eq "other"]' }),
    status: 400,
    scimType: "noTarget",
  },
  {
    name: "filtered replace matching nothing that cannot be created (co filter)",
    body: patchBody({ op: "replace", path: 'emails[value co "zzz"].value', value: "x@y" }),
    status: 400,
    scimType: "noTarget",
  },
  {
    name: "unknown path (CONFORMANCE 70)",
    body: patchBody({ op: "replace", path: "foo", value: 1 }),
    status: 400,
    scimType: "invalidPath",
  },
  { name: "unknown key in a path-less value", body: patchBody({ op: "replace", value: { foo: 1 } }), status: 400, scimType: "invalidPath" },
  { name: "path not a string", body: patchBody({ op: "replace", path: 5, value: 1 }), status: 400, scimType: "invalidPath" },
  {
    name: 'active "maybe" (CONFORMANCE 70)',
    body: patchBody({ op: "replace", path: "active", value: "maybe" }),
    status: 400,
    scimType: "invalidValue",
    detail: /active/,
  },
  {
    name: "userName 123",
    body: patchBody({ op: "replace", path: "userName", value: 123 }),
    status: 400,
    scimType: "invalidValue",
    detail: /userName/,
  },
  { name: "name as a string", body: patchBody({ op: "replace", path: "name", value: "Bob" }), status: 400, scimType: "invalidValue" },
  { name: "path id (CONFORMANCE 71)", body: patchBody({ op: "replace", path: "id", value: "x" }), status: 400, scimType: "mutability" },
  {
    name: "path meta.created",
    body: patchBody({ op: "replace", path: "meta.created", value: "2020-01-01T00:00:00Z" }),
    status: 400,
    scimType: "mutability",
  },
  {
    name: "path groups (CONFORMANCE 92)",
    body: patchBody({ op: "add", path: "groups", value: [{ value: "g" }] }),
    status: 400,
    scimType: "mutability",
  },
  {
    name: "path of the effective site role (read-only: decided from the sources)",
    body: patchBody({ op: "replace", path: `${SITE}:role`, value: "admin" }),
    status: 400,
    scimType: "mutability",
  },
  {
    name: "the effective site role in a path-less value",
    body: patchBody({ op: "replace", value: { [SITE]: { role: "admin" } } }),
    status: 400,
    scimType: "mutability",
  },
  {
    name: "path manager.displayName",
    body: patchBody({ op: "replace", path: "manager.displayName", value: "B" }),
    status: 400,
    scimType: "mutability",
  },
  {
    name: "path-less value with another id",
    body: patchBody({ op: "replace", value: { id: "other", displayName: "X" } }),
    status: 400,
    scimType: "mutability",
  },
  { name: "path-less groups", body: patchBody({ op: "add", value: { groups: [{ value: "g" }] } }), status: 400, scimType: "mutability" },
  {
    name: 'userName replaced with "" (RFC 7644 §3.5.2)',
    body: patchBody({ op: "replace", path: "userName", value: "" }),
    status: 400,
    scimType: "mutability",
    detail: /userName/,
  },
  { name: "userName removed", body: patchBody({ op: "remove", path: "userName" }), status: 400, scimType: "mutability" },
  {
    name: "active removed: never a silent no-op, never a guessed deactivation",
    body: patchBody({ op: "remove", path: "active" }),
    status: 400,
    scimType: "invalidValue",
    detail: /send \{"op":"replace","path":"active","value":false\} to deactivate/,
  },
  {
    name: "active replaced with null",
    body: patchBody({ op: "replace", path: "active", value: null }),
    status: 400,
    scimType: "invalidValue",
    detail: /'active' can't be removed or unassigned/,
  },
  {
    name: "path-less active: null",
    body: patchBody({ op: "replace", value: { active: null } }),
    status: 400,
    scimType: "invalidValue",
  },
  {
    name: "unknown attribute inside a whole-extension value is a bad value, not a bad path",
    body: patchBody({ op: "add", path: ENT, value: { schemas: [ENT], shoeSize: "XL" } }),
    status: 400,
    scimType: "invalidValue",
    detail: /'shoeSize' is not an attribute of urn:ietf:params:scim:schemas:extension:enterprise:2\.0:User \(it has employeeNumber/,
  },
  {
    name: "two primaries in one added value",
    body: patchBody({
      op: "add",
      path: "emails",
      value: [
        { value: "a@x", primary: true },
        { value: "b@x", primary: true },
      ],
    }),
    status: 400,
    scimType: "invalidValue",
  },
  {
    name: "emails.primary true on every value gives two primaries",
    body: patchBody({ op: "replace", path: "emails.primary", value: true }),
    status: 400,
    scimType: "invalidValue",
    detail: /primary/,
  },
  {
    name: "adding past 100 emails",
    body: patchBody({ op: "add", path: "emails", value: Array.from({ length: 99 }, (_, i) => ({ value: `${i}@x` })) }),
    status: 400,
    scimType: "invalidValue",
    detail: /emails/,
  },
  { name: "add without value", body: patchBody({ op: "add", path: "title" }), status: 400, scimType: "invalidSyntax" },
  {
    name: "path-less replace with a non-object value",
    body: patchBody({ op: "replace", value: "x" }),
    status: 400,
    scimType: "invalidSyntax",
  },
  { name: "remove of password", body: patchBody({ op: "remove", path: "password" }), status: 400, scimType: "mutability" },
  {
    name: "group: add with a members filter",
    rt: GROUP_RESOURCE,
    base: GROUP,
    body: patchBody({ op: "add", path: 'members[value eq "u1"]', value: { value: "u1" } }),
    status: 400,
    scimType: "invalidPath",
  },
  {
    name: "group: remove with a non-id members filter",
    rt: GROUP_RESOURCE,
    base: GROUP,
    body: patchBody({ op: "remove", path: 'members[type eq "User"]' }),
    status: 400,
    scimType: "invalidPath",
  },
  {
    name: "group: member without value",
    rt: GROUP_RESOURCE,
    base: GROUP,
    body: patchBody({ op: "add", path: "members", value: [{ display: "x" }] }),
    status: 400,
    scimType: "invalidValue",
  },
  {
    name: 'group: displayName ""',
    rt: GROUP_RESOURCE,
    base: GROUP,
    body: patchBody({ op: "replace", path: "displayName", value: "" }),
    status: 400,
    scimType: "mutability",
  },
];

function run(c: { base?: StoredResource; rt?: ResourceTypeDef; body: unknown }) {
  const rt = c.rt ?? USER_RESOURCE;
  const base = c.base ?? (rt === GROUP_RESOURCE ? GROUP : USER);
  return applyPatch(deepFreeze(structuredClone(base)), c.body, rt, { id: rt === GROUP_RESOURCE ? GROUP_ID : USER_ID });
}

describe("applyPatch: users", () => {
  it.each(userCases)("$name", (c) => {
    const result = run(c);
    expect(result.data).toEqual(c.expected);
    expect(result.memberOps).toEqual([]);
    expect(result.password).toBe(c.password);
    if (c.quirk) expect(result.quirks).toContain(c.quirk);
  });
});

describe("applyPatch: groups", () => {
  it.each(groupCases)("$name", (c) => {
    const result = run({ ...c, rt: GROUP_RESOURCE });
    expect(result.data).toEqual(c.expected);
    expect(result.memberOps).toEqual(c.memberOps ?? []);
    if (c.quirk) expect(result.quirks).toContain(c.quirk);
  });
});

describe("applyPatch: errors", () => {
  it.each(errorCases)("$name → $status $scimType", (c) => {
    expectScimError(() => run(c), c.status, c.scimType, c.detail);
  });
});

describe("applyPatch: atomicity and safety", () => {
  it("[valid replace, invalid op] throws and leaves the input unchanged (CONFORMANCE 73)", () => {
    const input = structuredClone(USER);
    const snapshot = structuredClone(USER);
    const body = patchBody({ op: "replace", path: "active", value: false }, { op: "frobnicate", path: "title", value: "x" });
    expectScimError(() => applyPatch(input, body, USER_RESOURCE, { id: USER_ID }), 400, "invalidSyntax");
    expect(input).toEqual(snapshot);
  });

  it("[valid member add, bad path] throws without returning member ops", () => {
    const body = patchBody({ op: "add", path: "members", value: [{ value: "u1" }] }, { op: "replace", path: "nope", value: 1 });
    expectScimError(() => applyPatch(GROUP, body, GROUP_RESOURCE, { id: GROUP_ID }), 400, "invalidPath");
  });

  it("never mutates its input on success, and the result shares nothing with it", () => {
    const input = structuredClone(USER);
    const snapshot = structuredClone(USER);
    const result = applyPatch(input, patchBody({ op: "add", path: "emails", value: [{ value: "n@x", primary: true }] }), USER_RESOURCE, {
      id: USER_ID,
    });
    expect(input).toEqual(snapshot);
    (result.data.emails as Record<string, unknown>[]).forEach((e) => (e.value = "changed"));
    expect(input).toEqual(snapshot);
  });

  it("prototype-pollution keys never reach a prototype", () => {
    const body: unknown = JSON.parse(
      `{"Operations":[
        {"op":"add","path":"name","value":{"__proto__":{"polluted":true},"givenName":"P"},"__proto__":{"polluted":true}},
        {"op":"replace","path":"emails[type eq \\"work\\"]","value":{"value":"w@x","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}
      ]}`,
    );
    const result = applyPatch(USER, body, USER_RESOURCE, { id: USER_ID });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(result.data.name)).toBe(Object.prototype);
    expect(result.data.name).toEqual({ givenName: "P", familyName: "Jensen", middleName: "Jane" });
    expect(JSON.stringify(result.data.emails)).toBe('[{"value":"w@x"},{"value":"babs@home.example","type":"home"}]');
  });

  it("a __proto__ key in a path-less value is an unknown path, not a prototype write", () => {
    const body: unknown = JSON.parse('{"Operations":[{"op":"replace","value":{"__proto__":{"polluted":true}}}]}');
    expectScimError(() => applyPatch(USER, body, USER_RESOURCE, { id: USER_ID }), 400, "invalidPath");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("BulkSchedule: the order of a Bulk request's operations, linear in the request", () => {
  it("reads each operation's references once and runs the lowest ready one first", async () => {
    const { BulkSchedule } = await import("../../src/scim/bulk");
    const ops = [
      { index: 0, refs: ["b"] },
      { index: 1, refs: [] },
      { index: 2, refs: ["a", "b"] },
      { index: 3, refs: [] },
      { index: 4, refs: ["never"] },
    ];
    let reads = 0;
    const schedule = new BulkSchedule(ops, (op) => {
      reads++;
      return new Set(op.refs);
    });
    const order: number[] = [];
    const made = new Set<string>();
    for (let op = schedule.next(); op; op = schedule.next()) {
      order.push(op.index);
      const creates = op.index === 1 ? "b" : op.index === 3 ? "a" : undefined;
      if (creates !== undefined) {
        made.add(creates);
        schedule.created(creates);
      }
    }
    expect(order).toEqual([1, 0, 3, 2]);
    expect(reads).toBe(ops.length);
    expect(schedule.stuck(made).map((s) => [s.op.index, s.missing])).toEqual([[4, ["never"]]]);
  });

  it("schedules 1,000 independent operations by reading each once", async () => {
    const { BulkSchedule } = await import("../../src/scim/bulk");
    let reads = 0;
    const ops = Array.from({ length: 1000 }, (_, index) => ({ index }));
    const schedule = new BulkSchedule(ops, () => {
      reads++;
      return new Set<string>();
    });
    let n = 0;
    while (schedule.next()) n++;
    expect([n, reads]).toEqual([1000, 1000]);
  });
});
