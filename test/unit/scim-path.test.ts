import { describe, expect, it } from "vitest";
import { canonicalScimPath } from "../../src/http/scim-path";

const BASE = "/api/scim/v2";

describe("canonicalScimPath: SCIM endpoints in any letter case", () => {
  it.each([
    { path: "/api/scim/v2/users", routed: "/api/scim/v2/Users" },
    { path: "/api/scim/v2/USERS/abc-DEF", routed: "/api/scim/v2/Users/abc-DEF" },
    { path: "/api/scim/v2/groups/G1", routed: "/api/scim/v2/Groups/G1" },
    { path: "/api/scim/v2/users/.SEARCH", routed: "/api/scim/v2/Users/.search" },
    { path: "/api/scim/v2/.Search", routed: "/api/scim/v2/.search" },
    { path: "/api/scim/v2/serviceproviderconfig", routed: "/api/scim/v2/ServiceProviderConfig" },
    { path: "/api/scim/v2/resourcetypes/user", routed: "/api/scim/v2/ResourceTypes/user" },
    { path: "/api/scim/v2/schemas", routed: "/api/scim/v2/Schemas" },
    { path: "/api/scim/v2/bulk", routed: "/api/scim/v2/Bulk" },
    { path: "/api/scim/v2/me", routed: "/api/scim/v2/Me" },
    // Ids keep their case; unknown endpoints and other paths are untouched.
    { path: "/api/scim/v2/Users/.search", routed: "/api/scim/v2/Users/.search" },
    { path: "/api/scim/v2/Users/USERS", routed: "/api/scim/v2/Users/USERS" },
    { path: "/api/scim/v2/accounts", routed: "/api/scim/v2/accounts" },
    { path: "/api/scim/v2", routed: "/api/scim/v2" },
    { path: "/admin/api/users", routed: "/admin/api/users" },
    { path: "/API/SCIM/V2/users", routed: "/API/SCIM/V2/users" },
  ])("$path → $routed", ({ path, routed }) => {
    expect(canonicalScimPath(path, BASE)).toBe(routed);
  });
});
