import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createUser,
  expectScimError,
  expectStatus,
  type Json,
  json,
  oktaUser,
  ops,
  PATCH_OP,
  scim,
  setSettings,
  uniqueName,
} from "../helpers";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async function patch(id: string, body: unknown, status = 200): Promise<Json> {
  return expectStatus(await scim("PATCH", `/Users/${id}`, body), status);
}

async function newUser(extra: Record<string, unknown> = {}): Promise<Json> {
  return createUser(oktaUser(uniqueName(), extra));
}

describe("Users: PATCH shapes real IdPs send", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("Okta deactivate / reactivate: path-less replace with {active} → 200 with the user", async () => {
    const u = await newUser();
    const id = u.id as string;
    const off = await patch(id, ops({ op: "replace", value: { active: false } }));
    expect(off.active).toBe(false);
    expect(off.userName).toBe(u.userName);
    expect((await json(await scim("GET", `/Users/${id}`))).active).toBe(false);
    const on = await patch(id, ops({ op: "replace", value: { active: true } }));
    expect(on.active).toBe(true);
    const types = await env.DB.prepare("SELECT type FROM events WHERE resource_id = ? ORDER BY resource_version")
      .bind(id)
      .all<{ type: string }>();
    expect(types.results.map((r) => r.type)).toEqual(["user.created", "user.deactivated", "user.reactivated"]);
  });

  it("Okta Sync Password: accepted, stored hashed, never returned, no event", async () => {
    const u = await newUser();
    const id = u.id as string;
    const res = await patch(id, ops({ op: "replace", value: { password: "n3w-Secret!" } }));
    expect(res).not.toHaveProperty("password");
    const row = await env.DB.prepare("SELECT password_hash, data FROM users WHERE id = ?")
      .bind(id)
      .first<{ password_hash: string; data: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$/);
    expect(row?.data).not.toContain("n3w-Secret!");
    const n = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE resource_id = ?").bind(id).first<{ n: number }>();
    expect(n?.n).toBe(1);
  });

  it('Entra disable, old form: Replace with "False" / "True" strings; logs the quirk', async () => {
    const u = await newUser();
    const id = u.id as string;
    expect((await patch(id, ops({ op: "Replace", path: "active", value: "False" }))).active).toBe(false);
    expect((await patch(id, ops({ op: "Replace", path: "active", value: "True" }))).active).toBe(true);
    expect((await patch(id, ops({ op: "replace", path: "active", value: "false" }))).active).toBe(false);
    expect((await patch(id, ops({ op: "replace", path: "active", value: true }))).active).toBe(true);
    const log = await env.DB.prepare("SELECT quirks FROM provisioning_log WHERE resource_id = ? AND quirks IS NOT NULL")
      .bind(id)
      .all<{ quirks: string }>();
    expect(log.results.map((r) => r.quirks).join(" ")).toMatch(/False/);
  });

  it("Entra multi-replace with a value-path filter and name.familyName", async () => {
    const u = await newUser();
    const res = await patch(
      u.id as string,
      ops(
        { op: "Replace", path: 'emails[type eq "work"].value', value: "new@example.com" },
        { op: "Replace", path: "name.familyName", value: "F" },
      ),
    );
    expect(res.emails).toEqual([{ primary: true, value: "new@example.com", type: "work" }]);
    expect((res.name as Json).familyName).toBe("F");
  });

  it("Entra path-less replace with dotted and URN keys", async () => {
    const u = await newUser();
    const res = await patch(
      u.id as string,
      ops({
        op: "replace",
        value: { displayName: "B", "name.givenName": "K", "name.familyName": "U", [`${ENTERPRISE}:employeeNumber`]: "A" },
      }),
    );
    expect(res.displayName).toBe("B");
    expect(res.name).toMatchObject({ givenName: "K", familyName: "U" });
    expect(res[ENTERPRISE]).toEqual({ employeeNumber: "A" });
  });

  it("work email replace creates it when missing (no noTarget)", async () => {
    const u = await createUser({ userName: uniqueName() });
    const res = await patch(u.id as string, ops({ op: "replace", path: 'emails[type eq "work"].value', value: "w@example.com" }));
    expect(res.emails).toEqual([{ type: "work", value: "w@example.com" }]);
  });

  it('manager: set as string, as {value}, Entra array form; change; remove by "", null, remove op', async () => {
    const m1 = await newUser();
    const m2 = await newUser();
    const u = await newUser();
    const id = u.id as string;
    const path = `${ENTERPRISE}:manager`;
    const manager = (r: Json) => (r[ENTERPRISE] as Json | undefined)?.manager;
    expect(manager(await patch(id, ops({ op: "add", path, value: m1.id })))).toEqual({ value: m1.id });
    expect(manager(await patch(id, ops({ op: "replace", path, value: { value: m2.id } })))).toEqual({ value: m2.id });
    expect(
      manager(await patch(id, ops({ op: "Add", path: "manager", value: [{ $ref: `../Users/${m1.id as string}`, value: m1.id }] }))),
    ).toMatchObject({ value: m1.id });
    expect(manager(await patch(id, ops({ op: "Replace", path, value: "" })))).toBeUndefined();
    await patch(id, ops({ op: "add", path, value: m1.id }));
    expect(manager(await patch(id, ops({ op: "replace", path, value: null })))).toBeUndefined();
    await patch(id, ops({ op: "add", path, value: m1.id }));
    const removed = await patch(id, ops({ op: "remove", path }));
    expect(manager(removed)).toBeUndefined();
    expect(removed).not.toHaveProperty(ENTERPRISE);
  });

  it("null and empty updates remove the attribute (Entra SCIM_Null_Update)", async () => {
    const u = await newUser({ title: "CEO", nickName: "Babs" });
    const id = u.id as string;
    expect(await patch(id, ops({ op: "replace", path: "title", value: "" }))).not.toHaveProperty("title");
    expect(await patch(id, ops({ op: "replace", path: "nickName", value: null }))).not.toHaveProperty("nickName");
    const got = await json(await scim("GET", `/Users/${id}`));
    expect(got).not.toHaveProperty("title");
    expect(got).not.toHaveProperty("nickName");
  });

  it("userName replace; a collision is 409 uniqueness", async () => {
    const a = await newUser();
    const b = await newUser();
    const fresh = uniqueName("Renamed");
    expect((await patch(a.id as string, ops({ op: "Replace", path: "userName", value: fresh }))).userName).toBe(fresh);
    await expectScimError(
      await scim("PATCH", `/Users/${a.id as string}`, ops({ op: "replace", path: "userName", value: b.userName })),
      409,
      "uniqueness",
    );
  });

  it("Operations: [] is a no-op 200; replacing with the current value is 200", async () => {
    const u = await newUser();
    const id = u.id as string;
    expect(await patch(id, { schemas: [PATCH_OP], Operations: [] })).toEqual(u);
    expect((await patch(id, ops({ op: "replace", path: "displayName", value: u.displayName }))).displayName).toBe(u.displayName);
  });

  it("?attributes on PATCH returns only those plus id", async () => {
    const u = await newUser();
    const res = await expectStatus(
      await scim("PATCH", `/Users/${u.id as string}?attributes=userName,active`, ops({ op: "replace", value: { active: false } })),
      200,
    );
    expect(Object.keys(res).sort()).toEqual(["active", "id", "schemas", "userName"]);
  });
});

describe("Users: PATCH errors are atomic and specific", () => {
  beforeAll(async () => {
    await setSettings();
  });

  const errors: { name: string; body: unknown; status: number; scimType: string }[] = [
    { name: "invalid op", body: ops({ op: "invalid-op", path: "title", value: "x" }), status: 400, scimType: "invalidSyntax" },
    { name: "Operations missing", body: { schemas: [PATCH_OP] }, status: 400, scimType: "invalidSyntax" },
    {
      name: "Operations not an array",
      body: { schemas: [PATCH_OP], Operations: { op: "add" } },
      status: 400,
      scimType: "invalidSyntax",
    },
    { name: "unknown path", body: ops({ op: "replace", path: "foo", value: 1 }), status: 400, scimType: "invalidPath" },
    { name: "bad boolean", body: ops({ op: "replace", path: "active", value: "maybe" }), status: 400, scimType: "invalidValue" },
    { name: "read-only id", body: ops({ op: "replace", path: "id", value: "x" }), status: 400, scimType: "mutability" },
    {
      name: "read-only meta.created",
      body: ops({ op: "replace", path: "meta.created", value: "2020-01-01T00:00:00Z" }),
      status: 400,
      scimType: "mutability",
    },
    { name: "read-only groups", body: ops({ op: "add", path: "groups", value: [{ value: "g" }] }), status: 400, scimType: "mutability" },
    { name: "remove without path", body: ops({ op: "remove", value: { nickName: "x" } }), status: 400, scimType: "noTarget" },
    {
      name: "valid then invalid (atomic)",
      body: ops({ op: "replace", path: "title", value: "Applied?" }, { op: "bogus" }),
      status: 400,
      scimType: "invalidSyntax",
    },
    {
      name: "valid then unknown path (atomic)",
      body: ops({ op: "replace", path: "title", value: "Applied?" }, { op: "add", path: "nope", value: 1 }),
      status: 400,
      scimType: "invalidPath",
    },
  ];

  for (const { name, body, status, scimType } of errors) {
    it(`${name} → ${status} ${scimType}, user unchanged`, async () => {
      const u = await newUser({ title: "Original" });
      await expectScimError(await scim("PATCH", `/Users/${u.id as string}`, body), status, scimType);
      expect(await json(await scim("GET", `/Users/${u.id as string}`))).toEqual(u);
    });
  }

  it("malformed JSON body is 400 invalidSyntax", async () => {
    const u = await newUser();
    await expectScimError(await scim("PATCH", `/Users/${u.id as string}`, undefined, { raw: "{Operations:" }), 400, "invalidSyntax");
  });
});

describe("Users: concurrent PATCHes never lose an update", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("parallel PATCHes to different attributes all apply (or answer 409), never silently lost", async () => {
    const u = await newUser();
    const id = u.id as string;
    const attrs = ["title", "nickName", "displayName", "locale", "timezone", "preferredLanguage"];
    const results = await Promise.all(attrs.map((a) => scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: a, value: `v-${a}` }))));
    const final = await json(await scim("GET", `/Users/${id}`));
    results.forEach((res, i) => {
      const attr = attrs[i] as string;
      expect([200, 409]).toContain(res.status);
      if (res.status === 200) expect(final[attr]).toBe(`v-${attr}`);
      else expect(final[attr]).not.toBe(`v-${attr}`);
    });
    // The retry (5 attempts with jitter) lets concurrent writers through: most, not none, apply.
    const applied = results.filter((r) => r.status === 200).length;
    expect(applied).toBeGreaterThanOrEqual(attrs.length - 1);
    // Every applied PATCH is one event with its own version, counted from the user's creation.
    expect(final.meta).toMatchObject({ version: `W/"${1 + applied}"` });
    const versions = await env.DB.prepare("SELECT resource_version AS v FROM events WHERE resource_id = ? ORDER BY v")
      .bind(id)
      .all<{ v: number }>();
    const vs = versions.results.map((r) => r.v);
    expect(new Set(vs).size).toBe(vs.length);
  });
});
