import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createUser, expectScimError, expectStatus, type Json, json, oktaUser, scim, setSettings, uniqueName } from "../helpers";

const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

describe("/Bulk (RFC 7644 §3.7)", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("creates users and a group whose members refer to them by bulkId, in one request", async () => {
    const a = uniqueName("BulkA");
    const b = uniqueName("BulkB");
    const groupName = `Bulk group ${crypto.randomUUID()}`;
    const res = await expectStatus(
      await scim("POST", "/Bulk", {
        schemas: [BULK],
        Operations: [
          // The group comes first and refers to users created later: it waits for them.
          {
            method: "POST",
            path: "/Groups",
            bulkId: "g1",
            data: { displayName: groupName, members: [{ value: "bulkId:u1" }, { value: "bulkId:u2" }] },
          },
          { method: "POST", path: "/Users", bulkId: "u1", data: { userName: a } },
          { method: "POST", path: "/Users", bulkId: "u2", data: { userName: b } },
          { method: "PATCH", path: "/Users/bulkId:u1", data: { Operations: [{ op: "replace", value: { active: false } }] } },
        ],
      }),
      200,
    );
    expect(res.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]);
    const ops = res.Operations as Json[];
    expect(ops.map((o) => [o.method, o.bulkId, o.status])).toEqual([
      ["POST", "g1", "201"],
      ["POST", "u1", "201"],
      ["POST", "u2", "201"],
      ["PATCH", undefined, "200"],
    ]);
    const groupLocation = ops[0]?.location as string;
    const group = await json(await scim("GET", groupLocation));
    const memberNames = ((group.members as Json[]) ?? []).map((m) => m.display).sort();
    expect(memberNames).toEqual([a, b].sort());
    const userA = await json(await scim("GET", ops[1]?.location as string));
    expect(userA.active).toBe(false);
    expect(ops[3]?.location).toBe(ops[1]?.location);
  });

  it("per-operation 400s: POST without bulkId, missing path or data, bad method", async () => {
    const res = await expectStatus(
      await scim("POST", "/Bulk", {
        schemas: [BULK],
        Operations: [
          { method: "POST", path: "/Users", data: { userName: uniqueName() } },
          { method: "PUT", data: { userName: "x" } },
          { method: "PATCH", path: "/Users/x" },
          { method: "GET", path: "/Users" },
        ],
      }),
      200,
    );
    const ops = res.Operations as Json[];
    expect(ops.map((o) => o.status)).toEqual(["400", "400", "400", "400"]);
    for (const o of ops) expect((o.response as Json).scimType).toBe("invalidSyntax");
  });

  it("failOnErrors stops after that many errors; an unknown bulkId is 409", async () => {
    const res = await expectStatus(
      await scim("POST", "/Bulk", {
        schemas: [BULK],
        failOnErrors: 1,
        Operations: [
          { method: "POST", path: "/Users", bulkId: "dup1", data: { userName: "" } },
          { method: "POST", path: "/Users", bulkId: "ok", data: { userName: uniqueName() } },
        ],
      }),
      200,
    );
    expect((res.Operations as Json[]).map((o) => o.status)).toEqual(["400"]);
    const ref = await expectStatus(
      await scim("POST", "/Bulk", { Operations: [{ method: "PATCH", path: "/Users/bulkId:nope", data: { Operations: [] } }] }),
      200,
    );
    expect((ref.Operations as Json[])[0]?.status).toBe("409");
  });

  it("more than maxOperations or maxPayloadSize is 413 and nothing runs", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
    const many = Array.from({ length: 1001 }, (_, i) => ({
      method: "POST",
      path: "/Users",
      bulkId: `b${i}`,
      data: { userName: `${uniqueName()}${i}` },
    }));
    await expectScimError(await scim("POST", "/Bulk", { schemas: [BULK], Operations: many }), 413);
    const big = {
      schemas: [BULK],
      Operations: [{ method: "POST", path: "/Users", bulkId: "x", data: { userName: uniqueName(), title: "x".repeat(1_100_000) } }],
    };
    await expectScimError(await scim("POST", "/Bulk", big), 413);
    const after = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
    await expectScimError(await scim("POST", "/Bulk", { schemas: [BULK] }), 400, "invalidSyntax");
  });
});

describe("POST /.search at the root", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("searches Users and Groups as one list; meta.resourceType narrows it", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const u = await createUser(oktaUser(`root.${tag}@example.com`));
    const g = await expectStatus(await scim("POST", "/Groups", { displayName: `root.${tag}` }), 201);
    const both = await expectStatus(
      await scim("POST", "/.search", { filter: `id eq "${u.id as string}" or id eq "${g.id as string}"` }),
      200,
    );
    expect(both.totalResults).toBe(2);
    expect((both.Resources as Json[]).map((r) => (r.meta as Json).resourceType)).toEqual(["User", "Group"]);
    const users = await expectStatus(
      await scim("POST", "/.search", { filter: `meta.resourceType eq "User" and id eq "${u.id as string}"`, count: 10 }),
      200,
    );
    expect((users.Resources as Json[]).map((r) => r.id)).toEqual([u.id]);
    const second = await expectStatus(
      await scim("POST", "/.search", { filter: `id eq "${u.id as string}" or id eq "${g.id as string}"`, startIndex: 2, count: 1 }),
      200,
    );
    expect((second.Resources as Json[]).map((r) => r.id)).toEqual([g.id]);
    await expectScimError(await scim("POST", "/.search", { filter: "userName ssw login" }), 400, "invalidFilter");
  });
});
