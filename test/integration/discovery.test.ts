import { beforeAll, describe, expect, it } from "vitest";
import { BASE, expectScimError, expectStatus, type Json, scim, setSettings } from "../helpers";

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

  it("ResourceTypes: User first with the enterprise extension; by id; unknown 404", async () => {
    const rts = await expectStatus(await scim("GET", "/ResourceTypes"), 200);
    const resources = rts.Resources as Json[];
    expect(rts.totalResults).toBe(resources.length);
    expect(resources[0]).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
      id: "User",
      endpoint: "/Users",
      schema: "urn:ietf:params:scim:schemas:core:2.0:User",
      schemaExtensions: [{ schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", required: false }],
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
      "urn:ietf:params:scim:schemas:core:2.0:Group",
    ]);
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

  it("writes are 405 and filter is 403; paging parameters are ignored", async () => {
    for (const path of ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]) {
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        await expectScimError(await scim(method, path, undefined, { raw: "test" }), 405);
      }
      await expectScimError(await scim("GET", `${path}?filter=${encodeURIComponent('id eq "x"')}`), 403);
    }
    const paged = await expectStatus(await scim("GET", "/Schemas?startIndex=2&count=1"), 200);
    expect(paged.totalResults).toBe(3);
  });
});
