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
  scim,
  setSettings,
  siteRole,
  uniqueName,
} from "../helpers";

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

let n = 0;
const groupName = (prefix = "Group") => `${prefix} ${Date.now().toString(36)}-${++n}`;

async function newGroup(body: Record<string, unknown> = {}): Promise<Json> {
  return expectStatus(await scim("POST", "/Groups", { schemas: [GROUP], displayName: groupName(), ...body }), 201);
}

async function users(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await createUser(oktaUser(uniqueName("Member")))).id as string);
  return ids;
}

async function memberIds(groupId: string): Promise<string[]> {
  const g = await expectStatus(await scim("GET", `/Groups/${groupId}`), 200);
  return ((g.members as Json[] | undefined) ?? []).map((m) => m.value as string).sort();
}

async function patchGroup(groupId: string, body: unknown, status = 204): Promise<Response> {
  const res = await scim("PATCH", `/Groups/${groupId}`, body);
  expect(res.status, await res.clone().text()).toBe(status);
  return res;
}

async function eventTypes(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT type FROM events WHERE resource_id = ? ORDER BY resource_version")
    .bind(id)
    .all<{ type: string }>();
  return results.map((r) => r.type);
}

describe("Groups: create, read, lookup", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("Okta push: POST with members [] → 201 with Location, id, displayName, meta; no members key", async () => {
    const name = groupName("Test SCIMv2");
    const res = await scim("POST", "/Groups", { schemas: [GROUP], displayName: name, members: [] });
    const g = await expectStatus(res, 201);
    expect(res.headers.get("location")).toBe((g.meta as Json).location);
    expect(g).toMatchObject({ displayName: name, meta: { resourceType: "Group" } });
    expect(g).not.toHaveProperty("members");
    expect(await eventTypes(g.id as string)).toEqual(["group.created"]);
  });

  it("Entra create with its schema URN, externalId and meta → 201; members listed with display", async () => {
    const [u1] = await users(1);
    const g = await newGroup({
      schemas: [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      meta: { resourceType: "Group" },
      members: [{ value: u1, display: "VP" }],
    });
    expect(g.externalId).toBe("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
    expect(g.members).toEqual([{ value: u1, $ref: expect.stringContaining(`/Users/${u1 as string}`), display: "Test User", type: "User" }]);
  });

  it("two groups may share a displayName (RFC 7643 §4.2; Entra sends them), and displayName eq finds both", async () => {
    const g = await newGroup();
    const name = g.displayName as string;
    const twin = await expectStatus(await scim("POST", "/Groups", { displayName: name.toUpperCase() }), 201);
    expect(twin.id).not.toBe(g.id);
    // A rename onto an existing name is as fine as a create.
    const other = await newGroup();
    await expectStatus(await scim("PUT", `/Groups/${other.id as string}`, { schemas: [GROUP], displayName: name }), 200);
    const found = await expectStatus(await scim("GET", `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`), 200);
    expect(found.totalResults).toBe(3);
    expect((found.Resources as Json[]).map((r) => r.id)).toEqual([g.id, twin.id, other.id]);
  });

  it("400 without displayName; 400 naming an unknown member", async () => {
    await expectScimError(await scim("POST", "/Groups", { schemas: [GROUP] }), 400, "invalidValue");
    const err = await expectScimError(
      await scim("POST", "/Groups", { displayName: groupName(), members: [{ value: "nobody-here" }] }),
      400,
      "invalidValue",
    );
    expect(err.detail).toContain("nobody-here");
  });

  it("lookups: displayName eq (Okta, Entra with excludedAttributes=members), externalId eq, members filters", async () => {
    const [u1, u2] = await users(2);
    const ext = `ext-${crypto.randomUUID()}`;
    const g = await newGroup({ externalId: ext, members: [{ value: u1 }] });
    const by = async (filter: string, extra = "") =>
      (await json(await scim("GET", `/Groups?filter=${encodeURIComponent(filter)}${extra}`))).Resources as Json[];
    expect((await by(`displayName eq "${g.displayName as string}"`)).map((r) => r.id)).toEqual([g.id]);
    const entra = await by(`displayName eq "${g.displayName as string}"`, "&excludedAttributes=members");
    expect(entra[0]).not.toHaveProperty("members");
    expect(entra[0]?.id).toBe(g.id);
    expect((await by(`externalId eq "${ext}"`)).map((r) => r.id)).toEqual([g.id]);
    expect((await by(`members[value eq "${u1 as string}"]`)).map((r) => r.id)).toEqual([g.id]);
    expect((await by(`members eq "${u1 as string}"`)).map((r) => r.id)).toEqual([g.id]);
    expect(await by(`members eq "${u2 as string}"`)).toEqual([]);
    expect(await by(`displayName eq "${crypto.randomUUID()}"`)).toEqual([]);
  });

  it("GET /Groups/{id}?excludedAttributes=members has no members key; unknown id is 404", async () => {
    const [u1] = await users(1);
    const g = await newGroup({ members: [{ value: u1 }] });
    const got = await expectStatus(await scim("GET", `/Groups/${g.id as string}?excludedAttributes=members`), 200);
    expect(got).not.toHaveProperty("members");
    await expectScimError(await scim("GET", "/Groups/not-a-group"), 404);
  });

  it("the user's groups attribute reflects membership and is read-only", async () => {
    const [u1] = await users(1);
    const g = await newGroup({ members: [{ value: u1 }] });
    const user = await json(await scim("GET", `/Users/${u1 as string}`));
    expect(user.groups).toEqual([
      { value: g.id, $ref: expect.stringContaining(`/Groups/${g.id as string}`), display: g.displayName, type: "direct" },
    ]);
    await expectScimError(
      await scim("PATCH", `/Users/${u1 as string}`, ops({ op: "add", path: "groups", value: [{ value: g.id }] })),
      400,
      "mutability",
    );
  });
});

describe("Groups: PATCH shapes from Okta and Entra", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("Entra: Add several members at once → 204; adding an existing member is a no-op", async () => {
    const [a, b] = await users(2);
    const g = await newGroup();
    const id = g.id as string;
    await patchGroup(id, ops({ op: "Add", path: "members", value: [{ $ref: null, value: a }, { value: b }] }));
    expect(await memberIds(id)).toEqual([a, b].sort());
    await patchGroup(id, ops({ op: "Add", path: "members", value: [{ value: a }] }));
    expect(await memberIds(id)).toEqual([a, b].sort());
    expect(await eventTypes(id)).toEqual(["group.created", "group.members_added"]);
  });

  it("a PATCH answered 204 carries the new ETag (RFC 7644 §3.14), which a conditional GET then matches", async () => {
    const [a] = await users(1);
    const g = await newGroup();
    const id = g.id as string;
    const before = (g.meta as Json).version as string;
    const res = await scim("PATCH", `/Groups/${id}`, ops({ op: "add", path: "members", value: [{ value: a }] }));
    expect(res.status).toBe(204);
    const etag = res.headers.get("ETag");
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect(etag).not.toBe(before);
    const after = await scim("GET", `/Groups/${id}`);
    expect(after.headers.get("ETag")).toBe(etag);
    expect(((await after.json()) as Json).meta).toMatchObject({ version: etag });
    expect((await scim("GET", `/Groups/${id}`, undefined, { headers: { "If-None-Match": etag ?? "" } })).status).toBe(304);
  });

  it("Entra old-form remove with a value array removes only those; the flag form and non-members work", async () => {
    const [a, b, c] = await users(3);
    const g = await newGroup({ members: [{ value: a }, { value: b }, { value: c }] });
    const id = g.id as string;
    await patchGroup(id, ops({ op: "Remove", path: "members", value: [{ $ref: null, value: a }] }));
    expect(await memberIds(id)).toEqual([b, c].sort());
    await patchGroup(id, ops({ op: "remove", path: `members[value eq "${b as string}"]` }));
    expect(await memberIds(id)).toEqual([c]);
    await patchGroup(id, ops({ op: "remove", path: `members[value eq "${a as string}"]` }));
    expect(await memberIds(id)).toEqual([c]);
  });

  it("Okta membership update: rename with echoed id, remove by filter, add with a value array", async () => {
    const [a, b] = await users(2);
    const g = await newGroup({ members: [{ value: a }] });
    const id = g.id as string;
    const newName = groupName("Renamed");
    await patchGroup(id, ops({ op: "replace", value: { id, displayName: newName } }));
    await patchGroup(
      id,
      ops(
        { op: "remove", path: `members[value eq "${a as string}"]` },
        { op: "add", path: "members", value: [{ value: b, display: "test.user@okta.local" }] },
      ),
    );
    const got = await json(await scim("GET", `/Groups/${id}`));
    expect(got.displayName).toBe(newName);
    expect(await memberIds(id)).toEqual([b]);
    await expectScimError(
      await scim("PATCH", `/Groups/${id}`, ops({ op: "replace", value: { id: "other", displayName: "x" } })),
      400,
      "mutability",
    );
  });

  it("replace members sets exactly that set; [] empties; path-less replace with members; remove all", async () => {
    const [a, b, c] = await users(3);
    const g = await newGroup({ members: [{ value: a }, { value: b }] });
    const id = g.id as string;
    await patchGroup(id, ops({ op: "replace", path: "members", value: [{ value: b }, { value: c }] }));
    expect(await memberIds(id)).toEqual([b, c].sort());
    await patchGroup(id, ops({ op: "replace", path: "members", value: [] }));
    expect(await memberIds(id)).toEqual([]);
    await patchGroup(id, ops({ op: "replace", value: { members: [{ value: a }] } }));
    expect(await memberIds(id)).toEqual([a]);
    await patchGroup(id, ops({ op: "remove", path: "members" }));
    expect(await memberIds(id)).toEqual([]);
  });

  it("Entra rename by path, Add on externalId; 200 with the resource when attributes is asked", async () => {
    const g = await newGroup();
    const id = g.id as string;
    await patchGroup(id, ops({ op: "Replace", path: "displayName", value: `Entra Renamed ${id}` }));
    await patchGroup(id, ops({ op: "Add", path: "externalId", value: "ext-added" }));
    const res = await scim(
      "PATCH",
      `/Groups/${id}?excludedAttributes=members`,
      ops({ op: "replace", path: "displayName", value: `Final ${id}` }),
    );
    const body = await expectStatus(res, 200);
    expect(body).toMatchObject({ id, displayName: `Final ${id}`, externalId: "ext-added" });
  });

  it("unknown member id on add → 400 invalidValue naming it, nothing changed; unknown group → 404", async () => {
    const [a] = await users(1);
    const g = await newGroup({ members: [{ value: a }] });
    const id = g.id as string;
    const res = await scim("PATCH", `/Groups/${id}`, ops({ op: "add", path: "members", value: [{ value: "ghost-1" }] }));
    const err = await expectScimError(res, 400, "invalidValue");
    expect(err.detail).toContain("ghost-1");
    expect(await memberIds(id)).toEqual([a]);
    await expectScimError(await scim("PATCH", "/Groups/nope", ops({ op: "remove", path: "members" })), 404);
  });

  it("PUT replaces displayName and members; members left out keep the membership", async () => {
    const [a, b] = await users(2);
    const g = await newGroup({ members: [{ value: a }] });
    const id = g.id as string;
    const put = await expectStatus(await scim("PUT", `/Groups/${id}`, { id, displayName: `Put ${id}`, members: [{ value: b }] }), 200);
    expect(put.displayName).toBe(`Put ${id}`);
    expect(await memberIds(id)).toEqual([b]);
    await expectStatus(await scim("PUT", `/Groups/${id}`, { displayName: `Put2 ${id}` }), 200);
    expect(await memberIds(id)).toEqual([b]);
  });

  it("DELETE → 204, GET 404, second DELETE 404; deleting a user removes it from groups", async () => {
    const [a, b] = await users(2);
    const g = await newGroup({ members: [{ value: a }, { value: b }] });
    const id = g.id as string;
    expect((await scim("DELETE", `/Users/${a as string}`)).status).toBe(204);
    expect(await memberIds(id)).toEqual([b]);
    expect((await scim("DELETE", `/Groups/${id}`)).status).toBe(204);
    await expectScimError(await scim("GET", `/Groups/${id}`), 404);
    await expectScimError(await scim("DELETE", `/Groups/${id}`), 404);
    // The deleted user left the group: the site hears that as a membership change of the group too.
    expect(await eventTypes(id)).toEqual(["group.created", "group.members_removed", "group.deleted"]);
    const left = await env.DB.prepare("SELECT payload FROM events WHERE resource_id = ? AND type = 'group.members_removed'")
      .bind(id)
      .first<{ payload: string }>();
    expect((JSON.parse(left?.payload ?? "{}") as { data: { changes: { members: string[] } } }).data.changes.members).toEqual([a]);
  });
});

describe("Groups: concurrency", () => {
  beforeAll(async () => {
    await setSettings();
  });

  it("parallel membership PATCHes on one group lose no member", async () => {
    const ids = await users(12);
    const g = await newGroup();
    const id = g.id as string;
    const results = await Promise.all(
      ids.map((u) => scim("PATCH", `/Groups/${id}`, ops({ op: "add", path: "members", value: [{ value: u }] }))),
    );
    for (const r of results) expect(r.status, await r.clone().text()).toBe(204);
    expect(await memberIds(id)).toEqual([...ids].sort());
    const versions = await env.DB.prepare("SELECT resource_version AS v FROM events WHERE resource_id = ?").bind(id).all<{ v: number }>();
    const vs = versions.results.map((r) => r.v);
    expect(new Set(vs).size).toBe(vs.length);
  });
});

describe("Groups: group-to-role mapping", () => {
  const role = async (id: string) => siteRole(await json(await scim("GET", `/Users/${id}`)));

  it("membership of the mapped groups promotes and demotes at once, under the promotion settings", async () => {
    await setSettings();
    const mods = await newGroup();
    const admins = await newGroup();
    const [u] = await users(1);
    const uid = u as string;
    await setSettings({ moderatorGroup: mods.id, adminGroup: admins.id, allowModeratorPromotion: true, allowAdminPromotion: false });
    await patchGroup(mods.id as string, ops({ op: "add", path: "members", value: [{ value: uid }] }));
    expect(await role(uid)).toBe("moderator");
    await patchGroup(admins.id as string, ops({ op: "add", path: "members", value: [{ value: uid }] }));
    expect(await role(uid)).toBe("moderator");
    await setSettings({ allowAdminPromotion: true });
    await patchGroup(admins.id as string, ops({ op: "remove", path: `members[value eq "${uid}"]` }));
    await patchGroup(admins.id as string, ops({ op: "add", path: "members", value: [{ value: uid }] }));
    expect(await role(uid)).toBe("admin");
    await patchGroup(admins.id as string, ops({ op: "remove", path: `members[value eq "${uid}"]` }));
    expect(await role(uid)).toBe("moderator");
    await patchGroup(mods.id as string, ops({ op: "remove", path: "members" }));
    expect(await role(uid)).toBe("registered");
    const { results } = await env.DB.prepare(
      "SELECT payload FROM events WHERE resource_id = ? AND type = 'user.role_changed' ORDER BY resource_version",
    )
      .bind(uid)
      .all<{ payload: string }>();
    const changes = results.map(
      (r) => (JSON.parse(r.payload) as { data: { changes: { role: { to: string }; reason: string } } }).data.changes,
    );
    expect(changes.map((c) => c.role.to)).toEqual(["moderator", "admin", "moderator", "registered"]);
    expect(changes[0]?.reason).toMatch(/mapped group/);
    const log = await env.DB.prepare(
      "SELECT decisions FROM provisioning_log WHERE resource_id = ? AND decisions LIKE '%admin promotion off%'",
    )
      .bind(admins.id as string)
      .all();
    expect(log.results.length).toBeGreaterThan(0);
    await setSettings({ moderatorGroup: null, adminGroup: null, allowModeratorPromotion: false, allowAdminPromotion: false });
  });

  it("the effective role is the highest source: userType Admin stays admin when leaving the moderator group", async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true });
    const mods = await newGroup();
    const u = await createUser(oktaUser(uniqueName(), { userType: "Admin" }));
    const uid = u.id as string;
    await setSettings({ moderatorGroup: mods.id });
    await patchGroup(mods.id as string, ops({ op: "add", path: "members", value: [{ value: uid }] }));
    expect(await role(uid)).toBe("admin");
    await patchGroup(mods.id as string, ops({ op: "remove", path: "members" }));
    expect(await role(uid)).toBe("admin");
    await setSettings({ moderatorGroup: null, allowModeratorPromotion: false, allowAdminPromotion: false });
  });
});
