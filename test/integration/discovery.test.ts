import { beforeAll, describe, expect, it } from "vitest";
import { BASE, expectScimError, expectStatus, type Json, oktaUser, scim, setSettings, uniqueName } from "../helpers";

type Attr = {
  name: string;
  subAttributes?: Attr[];
  mutability: string;
  returned: string;
  caseExact: boolean;
  uniqueness: string;
  required: boolean;
};

describe("Discovery (RFC 7644 §4)", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("ServiceProviderConfig tells the truth", async () => {
    const res = await scim("GET", "/ServiceProviderConfig");
    const spc = await expectStatus(res, 200);
    expect(res.headers.get("content-type")).toBe("application/scim+json; charset=utf-8");
    expect(spc.schemas).toEqual(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]);
    expect(spc).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      meta: { resourceType: "ServiceProviderConfig", location: `${BASE}/ServiceProviderConfig` },
    });
    expect((spc.authenticationSchemes as Json[])[0]).toMatchObject({
      type: "oauthbearertoken",
      name: expect.any(String),
      description: expect.any(String),
    });
  });

  it("ResourceTypes: User first with the enterprise and site extensions; by id; unknown 404", async () => {
    const rts = await expectStatus(await scim("GET", "/ResourceTypes"), 200);
    const resources = rts.Resources as Json[];
    expect(rts.totalResults).toBe(resources.length);
    expect(resources[0]).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
      id: "User",
      endpoint: "/Users",
      schema: "urn:ietf:params:scim:schemas:core:2.0:User",
      schemaExtensions: [
        { schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", required: false },
        { schema: "urn:scim-edge:scim:schemas:extension:site:2.0:User", required: false },
      ],
      meta: { resourceType: "ResourceType", location: `${BASE}/ResourceTypes/User` },
    });
    expect((await expectStatus(await scim("GET", "/ResourceTypes/Group"), 200)).endpoint).toBe("/Groups");
    await expectScimError(await scim("GET", "/ResourceTypes/Nope"), 404);
  });

  it("Schemas: User Account with full characteristics; by URN; unknown 404", async () => {
    const list = await expectStatus(await scim("GET", "/Schemas"), 200);
    const ids = (list.Resources as Json[]).map((s) => s.id);
    expect(ids).toEqual([
      "urn:ietf:params:scim:schemas:core:2.0:User",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
      "urn:scim-edge:scim:schemas:extension:site:2.0:User",
      "urn:ietf:params:scim:schemas:core:2.0:Group",
      "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
      "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
      "urn:ietf:params:scim:schemas:core:2.0:Schema",
    ]);
    const group = await expectStatus(await scim("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"), 200);
    // RFC 7643 §4.2: two groups may share a name (Entra sends them).
    expect((group.attributes as Attr[]).find((a) => a.name === "displayName")).toMatchObject({ uniqueness: "none", required: true });
    const user = await expectStatus(await scim("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"), 200);
    expect(user.description).toBe("User Account");
    const attrs = user.attributes as Attr[];
    const byName = (n: string) => attrs.find((a) => a.name === n);
    expect(byName("userName")).toMatchObject({ caseExact: false, uniqueness: "server", required: true });
    expect(byName("id")).toMatchObject({ returned: "always", mutability: "readOnly", caseExact: true });
    expect(byName("password")).toMatchObject({ mutability: "writeOnly", returned: "never" });
    expect(byName("groups")).toMatchObject({ mutability: "readOnly" });
    expect(byName("displayName")?.mutability).toBe("readWrite");
    expect(byName("externalId")?.mutability).toBe("readWrite");
    // The Entra validator rejects emails.display; advertise only what round-trips.
    expect(byName("emails")?.subAttributes?.map((s) => s.name)).toEqual(["value", "type", "primary"]);
    expect(JSON.stringify(user)).not.toContain("null");
    await expectScimError(await scim("GET", "/Schemas/urn:nope"), 404);
  });

  it("the discovery resources' own schemas (RFC 7643 §8.7.2) define every attribute those resources carry", async () => {
    const definedBy = async (urn: string) =>
      ((await expectStatus(await scim("GET", `/Schemas/${urn}`), 200)).attributes as Attr[]).map((a) => a.name);
    const names = ((await expectStatus(await scim("GET", "/Schemas"), 200)).Resources as Json[]).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["ServiceProviderConfig", "ResourceType", "Schema"]));
    const keys = (resource: Json) => Object.keys(resource).filter((k) => k !== "schemas" && k !== "meta");
    const spc = await expectStatus(await scim("GET", "/ServiceProviderConfig"), 200);
    expect(await definedBy("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")).toEqual(expect.arrayContaining(keys(spc)));
    const rt = ((await expectStatus(await scim("GET", "/ResourceTypes"), 200)).Resources as Json[])[0] ?? {};
    expect(await definedBy("urn:ietf:params:scim:schemas:core:2.0:ResourceType")).toEqual(expect.arrayContaining(keys(rt)));
    const schema = await expectStatus(await scim("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"), 200);
    expect(await definedBy("urn:ietf:params:scim:schemas:core:2.0:Schema")).toEqual(expect.arrayContaining(keys(schema)));
  });

  it("endpoints answer in any letter case (Microsoft's collection sends /users), with a trailing slash too", async () => {
    const created = await expectStatus(await scim("POST", "/users", oktaUser(uniqueName("lower"))), 201);
    const id = created.id as string;
    expect(created.meta).toMatchObject({ location: expect.stringContaining(`/Users/${id}`) });
    expect((await expectStatus(await scim("GET", `/USERS/${id}`), 200)).id).toBe(id);
    expect((await expectStatus(await scim("GET", `/users/${id}/`), 200)).id).toBe(id);
    const search = await expectStatus(await scim("POST", "/users/.SEARCH", { filter: `id eq "${id}"` }), 200);
    expect(search.totalResults).toBe(1);
    expect((await expectStatus(await scim("POST", "/groups", { displayName: `Lower ${id}` }), 201)).displayName).toBe(`Lower ${id}`);
    expect((await expectStatus(await scim("GET", "/serviceproviderconfig"), 200)).patch).toEqual({ supported: true });
    expect((await expectStatus(await scim("GET", "/resourcetypes/User"), 200)).endpoint).toBe("/Users");
    await expectScimError(await scim("GET", "/accounts"), 404);
  });

  it("writes are 405 and filter is 403; paging parameters are ignored", async () => {
    for (const path of ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]) {
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        await expectScimError(await scim(method, path, undefined, { raw: "test" }), 405);
      }
      await expectScimError(await scim("GET", `${path}?filter=${encodeURIComponent('id eq "x"')}`), 403);
    }
    const paged = await expectStatus(await scim("GET", "/Schemas?startIndex=2&count=1"), 200);
    expect(paged.totalResults).toBe(7);
  });
});
