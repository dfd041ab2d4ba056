import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
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

/** The provisioning-log rows a request wrote (they carry its request id). */
async function logRows(requestId: string): Promise<{ method: string; path: string; status: number }[]> {
  const { results } = await env.DB.prepare("SELECT method, path, status FROM provisioning_log WHERE request_id = ? ORDER BY seq")
    .bind(requestId)
    .all<{ method: string; path: string; status: number }>();
  return results;
}

async function settledRows(requestId: string, n: number) {
  await vi.waitUntil(async () => (await logRows(requestId)).length >= n, { timeout: 5_000, interval: 50 });
  // A moment more: a row written twice would show now.
  await new Promise((r) => setTimeout(r, 100));
  return logRows(requestId);
}

describe("one log row per operation the client asked for", () => {
  it("POST /.search writes exactly one row: its own", async () => {
    await setSettings();
    const requestId = `search-${crypto.randomUUID()}`;
    const res = await scim("POST", "/.search", { filter: 'meta.resourceType eq "User"', count: 5 }, { headers: { "cf-ray": requestId } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await settledRows(requestId, 1)).toEqual([{ method: "POST", path: "/api/scim/v2/.search", status: 200 }]);
  });

  it("a Bulk of 4 operations (one failing) writes exactly 4 rows, one per operation, and none of its own", async () => {
    await setSettings();
    const requestId = `bulk-${crypto.randomUUID()}`;
    const res = await scim(
      "POST",
      "/Bulk",
      {
        schemas: [BULK],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "a", data: { userName: uniqueName("LogA") } },
          { method: "PATCH", path: "/Users/bulkId:a", data: { Operations: [{ op: "replace", path: "title", value: "T" }] } },
          { method: "PATCH", path: "/Users/bulkId:a", data: { Operations: [{ op: "replace", path: "nope", value: 1 }] } },
          { method: "DELETE", path: "/Users/bulkId:a" },
        ],
      },
      { headers: { "cf-ray": requestId } },
    );
    const body = await expectStatus(res, 200);
    expect((body.Operations as Json[]).map((o) => o.status)).toEqual(["201", "200", "400", "204"]);
    // Failed operations' rows are written after the response: order them by operation.
    const rows = (await settledRows(requestId, 4)).sort((a, b) =>
      (/operation (\d+)/.exec(a.path)?.[1] ?? "").localeCompare(/operation (\d+)/.exec(b.path)?.[1] ?? ""),
    );
    expect(rows.map((r) => [r.method, r.status])).toEqual([
      ["POST", 201],
      ["PATCH", 200],
      ["PATCH", 400],
      ["DELETE", 204],
    ]);
    expect(rows.every((r) => r.path.includes("(Bulk operation"))).toBe(true);
  });
});

describe("Bulk runs only what it may: /Users, /Users/{id}, /Groups, /Groups/{id}, each bulkId once", () => {
  const abuses = [
    {
      name: "a nested /Bulk",
      op: {
        method: "POST",
        path: "/Bulk",
        bulkId: "n",
        data: { schemas: [BULK], Operations: [{ method: "POST", path: "/Users", bulkId: "x", data: { userName: "nested@example.com" } }] },
      },
    },
    { name: "a path out of the SCIM API", op: { method: "PUT", path: "/../../../admin/api/settings", data: { scimEnabled: false } } },
    { name: "another SCIM endpoint", op: { method: "POST", path: "/ServiceProviderConfig", bulkId: "s", data: {} } },
    { name: "POST to one resource", op: { method: "POST", path: "/Users/123", bulkId: "p", data: { userName: "x@example.com" } } },
    { name: "PATCH to a collection", op: { method: "PATCH", path: "/Groups", data: { Operations: [] } } },
  ];
  it.each(abuses)("$name: 400 invalidValue for that operation, nothing ran", async ({ op }) => {
    const before = await env.DB.prepare("SELECT (SELECT count(*) FROM users) AS users, (SELECT data FROM settings) AS settings").first();
    const body = await expectStatus(await scim("POST", "/Bulk", { schemas: [BULK], Operations: [op] }), 200);
    const [result] = body.Operations as Json[];
    expect(result?.status).toBe("400");
    expect((result?.response as Json | undefined)?.scimType).toBe("invalidValue");
    expect(String((result?.response as Json | undefined)?.detail)).toMatch(/Users|Groups|POST creates|needs one resource/);
    const after = await env.DB.prepare("SELECT (SELECT count(*) FROM users) AS users, (SELECT data FROM settings) AS settings").first();
    expect(after).toEqual(before);
  });

  it("a repeated bulkId: the later operation is 400 invalidValue and does not run; references go to the first", async () => {
    const first = uniqueName("First");
    const second = uniqueName("Second");
    const body = await expectStatus(
      await scim("POST", "/Bulk", {
        schemas: [BULK],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "dup", data: { userName: first } },
          { method: "POST", path: "/Users", bulkId: "dup", data: { userName: second } },
          { method: "PATCH", path: "/Users/bulkId:dup", data: { Operations: [{ op: "replace", path: "title", value: "Referenced" }] } },
        ],
      }),
      200,
    );
    const ops = body.Operations as Json[];
    expect(ops.map((o) => o.status)).toEqual(["201", "400", "200"]);
    expect((ops[1]?.response as Json | undefined)?.scimType).toBe("invalidValue");
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${second}"`)}`));
    expect(found.totalResults).toBe(0);
    const referenced = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${first}"`)}`));
    expect(((referenced.Resources as Json[])[0] as Json).title).toBe("Referenced");
  });
});
