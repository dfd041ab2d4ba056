import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BASE,
  createUser,
  expectScimError,
  expectStatus,
  fetchWorker,
  json,
  oktaUser,
  SCIM_TOKEN,
  scim,
  setSettings,
  siteRole,
  uniqueName,
} from "../helpers";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async function userRow(id: string) {
  return env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(id).first<Record<string, unknown>>();
}

async function eventTypes(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT type FROM events WHERE resource_id = ? ORDER BY resource_version")
    .bind(id)
    .all<{ type: string }>();
  return results.map((r) => r.type);
}

describe("Users: create and read", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("creates Okta's user: 201, Location = meta.location, values as sent, no password", async () => {
    const userName = uniqueName("Runscope");
    const res = await scim("POST", "/Users", oktaUser(userName), { headers: { "Content-Type": "application/json" } });
    const body = await expectStatus(res, 201);
    expect(res.headers.get("content-type")).toBe("application/scim+json; charset=utf-8");
    const meta = body.meta as Record<string, string>;
    expect(res.headers.get("location")).toBe(meta.location);
    expect(meta.location).toBe(`${BASE}/Users/${body.id as string}`);
    expect(meta.resourceType).toBe("User");
    expect(meta.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(res.headers.get("etag")).toBe(meta.version);
    expect(body.userName).toBe(userName);
    expect(body.active).toBe(true);
    expect(body.name).toEqual({ givenName: "Test", familyName: "User" });
    expect(body.emails).toEqual([{ primary: true, value: userName, type: "work" }]);
    expect(body).not.toHaveProperty("roles");
    expect(siteRole(body)).toBe("registered");
    expect(body).not.toHaveProperty("password");
    expect(body).not.toHaveProperty("groups");
    const row = await userRow(body.id as string);
    expect(String(row?.password_hash)).toMatch(/^pbkdf2-sha256\$/);
    expect(String(row?.data)).not.toContain("1mz050nq");
    expect(await eventTypes(body.id as string)).toEqual(["user.created"]);
    const again = await expectStatus(await scim("GET", `/Users/${body.id as string}`), 200);
    expect(again.userName).toBe(userName);
    expect(again).not.toHaveProperty("password");
  });

  it("409 uniqueness on a duplicate userName in any case, incl. non-ASCII letters", async () => {
    const userName = `Änne.${uniqueName("X")}`;
    await createUser(oktaUser(userName));
    for (const variant of [userName, userName.toUpperCase(), userName.toLowerCase()]) {
      await expectScimError(await scim("POST", "/Users", oktaUser(variant)), 409, "uniqueness");
    }
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE user_name_norm = ?")
      .bind(userName.normalize("NFKC").toLowerCase())
      .all<{ n: number }>();
    expect(results[0]?.n).toBe(1);
  });

  it("accepts Entra's create: enterprise extension, nulls, string booleans, manager as a string", async () => {
    const manager = await createUser(oktaUser(uniqueName("Mgr")));
    const userName = uniqueName("Entra");
    const body = await createUser({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName,
      active: "True",
      emails: [{ Primary: true, type: "work", value: userName }],
      meta: { resourceType: "User" },
      name: { formatted: "Ada L", familyName: "L", givenName: "Ada" },
      roles: [],
      addresses: null,
      phoneNumbers: null,
      title: null,
      [ENTERPRISE]: { employeeNumber: "534", department: "Eng", manager: manager.id },
    });
    expect(body.active).toBe(true);
    expect(body.emails).toEqual([{ primary: true, type: "work", value: userName }]);
    expect(body).not.toHaveProperty("addresses");
    expect(body).not.toHaveProperty("title");
    expect(body.schemas).toContain(ENTERPRISE);
    expect(body[ENTERPRISE]).toMatchObject({ employeeNumber: "534", department: "Eng", manager: { value: manager.id } });
    // roles: [] is unassigned (RFC 7643 §2.5): no roles on GET, the site role registered.
    expect(body).not.toHaveProperty("roles");
    expect(siteRole(body)).toBe("registered");
  });

  it("ignores unknown attributes and a client-sent id", async () => {
    const body = await createUser({ ...oktaUser(uniqueName()), id: "client-chosen", adreses: [{ x: 1 }] });
    expect(body.id).not.toBe("client-chosen");
    expect(body).not.toHaveProperty("adreses");
  });

  it("404 for unknown ids in every shape, never 400 or 500", async () => {
    for (const id of ["00919288221112222", "010101001010101011001010101011", encodeURIComponent("@!$^&*()"), `${crypto.randomUUID()}x`]) {
      await expectScimError(await scim("GET", `/Users/${id}`), 404);
      await expectScimError(await scim("PUT", `/Users/${id}`, oktaUser(uniqueName())), 404);
      await expectScimError(await scim("PATCH", `/Users/${id}`, { Operations: [] }), 404);
      await expectScimError(await scim("DELETE", `/Users/${id}`), 404);
    }
  });

  it("a deactivated user still answers 200 with active false", async () => {
    const u = await createUser(oktaUser(uniqueName(), { active: false }));
    const got = await expectStatus(await scim("GET", `/Users/${u.id as string}`), 200);
    expect(got.active).toBe(false);
  });
});

describe("Users: bad input is refused and changes nothing", () => {
  beforeAll(async () => {
    await setSettings();
  });

  const cases: {
    name: string;
    request: { body?: unknown; raw?: string; headers?: Record<string, string> };
    status: number;
    scimType?: string;
  }[] = [
    { name: "malformed JSON", request: { raw: '{"acve": tre,' }, status: 400, scimType: "invalidSyntax" },
    { name: "empty body", request: { raw: "" }, status: 400, scimType: "invalidSyntax" },
    { name: "a JSON array", request: { raw: "[1,2]" }, status: 400, scimType: "invalidSyntax" },
    { name: "a JSON string", request: { raw: '"user"' }, status: 400, scimType: "invalidSyntax" },
    { name: "no userName", request: { body: { name: { givenName: "x" } } }, status: 400, scimType: "invalidValue" },
    { name: "empty userName", request: { body: { userName: "" } }, status: 400, scimType: "invalidValue" },
    { name: "numeric userName", request: { body: { userName: 123 } }, status: 400, scimType: "invalidValue" },
    { name: "active yes", request: { body: { userName: "a@b.c", active: "yes" } }, status: 400, scimType: "invalidValue" },
    {
      name: "two primary emails",
      request: {
        body: {
          userName: "p@b.c",
          emails: [
            { value: "a@b.c", primary: true },
            { value: "c@b.c", primary: true },
          ],
        },
      },
      status: 400,
      scimType: "invalidValue",
    },
    { name: "text/plain", request: { raw: '{"userName":"t@b.c"}', headers: { "Content-Type": "text/plain" } }, status: 415 },
    {
      name: "form encoded",
      request: { raw: "userName=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } },
      status: 415,
    },
  ];

  for (const { name, request: req, status, scimType } of cases) {
    it(`POST with ${name} → ${status}${scimType ? ` ${scimType}` : ""}`, async () => {
      const before = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
      const opts: { raw?: string; headers?: Record<string, string> } = {};
      if (req.raw !== undefined) opts.raw = req.raw;
      if (req.headers) opts.headers = req.headers;
      await expectScimError(await scim("POST", "/Users", req.body, opts), status, scimType);
      const after = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
      expect(after?.n).toBe(before?.n);
    });
  }

  it("accepts a JSON body with no Content-Type", async () => {
    const res = await scim("POST", "/Users", undefined, {
      raw: JSON.stringify({ userName: uniqueName() }),
      headers: { "Content-Type": "" },
    });
    await expectStatus(res, 201);
  });

  it("a 60 MB chunked body (no Content-Length) is refused with 413 after reading about 1 MiB", async () => {
    const CHUNK = 64 * 1024;
    const TOTAL = 60 * 1024 * 1024;
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= TOTAL) return controller.close();
        pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
      },
    });
    const userName = uniqueName("Chunked");
    const res = await fetchWorker(`${BASE}/Users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json" },
      body,
      duplex: "half",
    } as RequestInit);
    await expectScimError(res, 413);
    expect(pulled).toBeLessThanOrEqual(1024 * 1024 + 2 * CHUNK);
    const found = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`));
    expect(found.totalResults).toBe(0);
  });

  it("413 for a body over 1 MiB", async () => {
    const big = JSON.stringify({ userName: uniqueName(), title: "x".repeat(1024 * 1024) });
    await expectScimError(await scim("POST", "/Users", undefined, { raw: big }), 413);
  });

  it("405 with Allow on collection writes", async () => {
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const res = await scim(method, "/Users", method === "DELETE" ? undefined : {});
      await expectScimError(res, 405);
      expect(res.headers.get("allow")).toBe("GET, POST");
    }
  });

  it("404 SCIM error for an unknown endpoint; 501 for /Me", async () => {
    await expectScimError(await scim("GET", `/${crypto.randomUUID()}`), 404);
    await expectScimError(await scim("GET", "/Me"), 501);
  });
});

describe("Users: replace (PUT)", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("Okta update: GET then PUT the whole object incl. id, meta, groups → 200, readOnly ignored", async () => {
    const u = await createUser(oktaUser(uniqueName()));
    const got = await expectStatus(await scim("GET", `/Users/${u.id as string}`), 200);
    const put = await expectStatus(
      await scim("PUT", `/Users/${u.id as string}`, { ...got, groups: [], name: { ...(got.name as object), middleName: "M" } }),
      200,
    );
    expect((put.name as Record<string, string>).middleName).toBe("M");
    expect(put.id).toBe(u.id);
    expect(String((put.meta as Record<string, string>).lastModified) >= String((u.meta as Record<string, string>).lastModified)).toBe(true);
    expect(await eventTypes(u.id as string)).toEqual(["user.created", "user.updated"]);
  });

  it("Okta custom app deactivates and reactivates with PUT; omitted active keeps the value", async () => {
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const { password: _pw, ...base } = oktaUser(u.userName as string);
    expect((await expectStatus(await scim("PUT", `/Users/${id}`, { ...base, active: false }), 200)).active).toBe(false);
    const { active: _a, ...noActive } = base;
    expect((await expectStatus(await scim("PUT", `/Users/${id}`, { ...noActive, title: "T" }), 200)).active).toBe(false);
    expect((await expectStatus(await scim("PUT", `/Users/${id}`, { ...base, active: true }), 200)).active).toBe(true);
    // The last PUT omits title, so it is cleared too (RFC 7644 §3.5.1): an update and a reactivation.
    expect(await eventTypes(id)).toEqual(["user.created", "user.deactivated", "user.updated", "user.updated", "user.reactivated"]);
  });

  it("PUT clears readWrite attributes left out, and 409 when taking another user's userName", async () => {
    const a = await createUser(oktaUser(uniqueName(), { title: "Boss" }));
    const b = await createUser(oktaUser(uniqueName()));
    const put = await expectStatus(await scim("PUT", `/Users/${a.id as string}`, { userName: a.userName }), 200);
    expect(put).not.toHaveProperty("title");
    expect(put).not.toHaveProperty("emails");
    await expectScimError(
      await scim("PUT", `/Users/${a.id as string}`, { userName: (b.userName as string).toUpperCase() }),
      409,
      "uniqueness",
    );
    const still = await json(await scim("GET", `/Users/${a.id as string}`));
    expect(still.userName).toBe(a.userName);
  });

  it("PUT without userName is 400 and leaves the user as it was", async () => {
    const a = await createUser(oktaUser(uniqueName()));
    await expectScimError(await scim("PUT", `/Users/${a.id as string}`, { title: "x" }), 400, "invalidValue");
    const still = await json(await scim("GET", `/Users/${a.id as string}`));
    expect(still).toEqual(a);
  });

  it("a PUT that changes nothing answers 200 without a new version or event", async () => {
    const a = await createUser(oktaUser(uniqueName()));
    const { password: _pw, ...same } = oktaUser(a.userName as string, { externalId: a.externalId });
    const put = await expectStatus(await scim("PUT", `/Users/${a.id as string}`, same), 200);
    expect((put.meta as Record<string, string>).version).toBe((a.meta as Record<string, string>).version);
    expect(await eventTypes(a.id as string)).toEqual(["user.created"]);
  });
});

describe("Users: ETags", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("If-None-Match current → 304; stale If-Match → 412 and nothing changes; * and current succeed", async () => {
    const a = await createUser(oktaUser(uniqueName()));
    const id = a.id as string;
    const etag = (a.meta as Record<string, string>).version as string;
    const notModified = await scim("GET", `/Users/${id}`, undefined, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    const patch = { Operations: [{ op: "replace", path: "title", value: "New" }] };
    await expectScimError(await scim("PATCH", `/Users/${id}`, patch, { headers: { "If-Match": 'W/"999"' } }), 412);
    await expectScimError(await scim("PUT", `/Users/${id}`, { userName: a.userName }, { headers: { "If-Match": 'W/"999"' } }), 412);
    await expectScimError(await scim("DELETE", `/Users/${id}`, undefined, { headers: { "If-Match": 'W/"999"' } }), 412);
    expect(await json(await scim("GET", `/Users/${id}`))).toEqual(a);
    const ok = await expectStatus(await scim("PATCH", `/Users/${id}`, patch, { headers: { "If-Match": etag } }), 200);
    expect(ok.title).toBe("New");
    await expectStatus(await scim("PATCH", `/Users/${id}`, patch, { headers: { "If-Match": "*" } }), 200);
  });
});

describe("Users: delete", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("204, then 404, second DELETE 404, lookup empty, re-create with the same userName 201", async () => {
    const userName = uniqueName();
    const a = await createUser(oktaUser(userName));
    const id = a.id as string;
    const res = await scim("DELETE", `/Users/${id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectScimError(await scim("GET", `/Users/${id}`), 404);
    await expectScimError(await scim("DELETE", `/Users/${id}`), 404);
    const list = await json(await scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`));
    expect(list.totalResults).toBe(0);
    const again = await createUser(oktaUser(userName));
    expect(again.id).not.toBe(id);
    expect(await eventTypes(id)).toEqual(["user.created", "user.deleted"]);
  });
});
