/**
 * Microsoft Entra ID provisioning, replayed in order (CONFORMANCE §1 [ET] request samples,
 * [EK] both PATCH shapes, and the gallery validation tests [EL]: Schema_Discoverability,
 * SCIM_Null_Update, user and group create / update / pagination, SCIM_Update_Manager,
 * disable, delete, restore by reassign, group member add and remove).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Json, PATCH_OP, read, SCIM_TOKEN, scim, setSettings } from "../helpers";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

// Entra sends application/scim+json and expects it back; it never sends If-Match.
const headers = { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json", Accept: "application/scim+json" };

/** One request with exactly Entra's headers. */
const call = async (method: string, path: string, body?: unknown) => read(await scim(method, path, body, { headers, token: null }));

const q = (filter: string) => `filter=${encodeURIComponent(filter)}`;
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
const tag = crypto.randomUUID().slice(0, 8);

/** Paths of null, "" and [] values: Entra wants unassigned attributes omitted ([EQ], item 104). */
function emptyValues(value: unknown, path = "$"): string[] {
  if (value === null || value === "" || (Array.isArray(value) && value.length === 0)) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => emptyValues(v, `${path}[${i}]`));
  if (typeof value === "object") return Object.entries(value).flatMap(([k, v]) => emptyValues(v, `${path}.${k}`));
  return [];
}

function entraUser(userName: string, externalId: string): Json {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
    externalId,
    userName,
    active: true,
    addresses: null,
    displayName: `Display ${userName}`,
    emails: [{ primary: true, type: "work", value: userName }],
    meta: { resourceType: "User" },
    name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
    roles: [],
    title: null,
    phoneNumbers: null,
    [ENTERPRISE]: { department: "Eng", employeeNumber: null, manager: null },
  };
}

describe("Entra: users, in the order the provisioning engine sends them", () => {
  let id = "";
  let managerId = "";
  const userName = `Test_User_${tag}@contoso.com`;
  const externalId = crypto.randomUUID();

  beforeAll(async () => {
    await setSettings();
  });

  it("Test Connection: a filter on a random GUID answers an empty 200 list, scim+json", async () => {
    const r = await call("GET", `/Users?${q(`userName eq "${crypto.randomUUID()}"`)}`);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/scim\+json/);
    expect(r.json).toMatchObject({ totalResults: 0, Resources: [], startIndex: 1, itemsPerPage: 0 });
  });

  it("Schema_Discoverability: /Schemas lists every attribute Entra maps", async () => {
    const r = await call("GET", "/Schemas");
    expect(r.status).toBe(200);
    const user = (r.json.Resources as Json[]).find((s) => s.id === "urn:ietf:params:scim:schemas:core:2.0:User");
    const names = ((user?.attributes as Json[]) ?? []).map((a) => a.name);
    for (const n of [
      "userName",
      "externalId",
      "active",
      "displayName",
      "emails",
      "name",
      "title",
      "addresses",
      "phoneNumbers",
      "preferredLanguage",
    ]) {
      expect(names).toContain(n);
    }
  });

  it("create: lookup by matching attribute (none), then POST with nulls and the enterprise URN → 201", async () => {
    expect((await call("GET", `/Users?${q(`userName eq "${userName}"`)}`)).json.totalResults).toBe(0);
    const manager = await call("POST", "/Users", entraUser(`Manager_${tag}@contoso.com`, crypto.randomUUID()));
    expect(manager.status).toBe(201);
    managerId = manager.json.id as string;
    const r = await call("POST", "/Users", entraUser(userName, externalId));
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    id = r.json.id as string;
    expect(r.json).not.toHaveProperty("title");
    expect(r.json).not.toHaveProperty("addresses");
    expect(emptyValues(r.json)).toEqual([]);
    expect((r.json.meta as Json).resourceType).toBe("User");
  });

  it("lookups by userName (any case), externalId and work email", async () => {
    for (const filter of [
      `userName eq "${userName.toUpperCase()}"`,
      `externalId eq "${externalId}"`,
      `emails[type eq "work"].value eq "${userName}"`,
    ]) {
      const r = await call("GET", `/Users?${q(filter)}`);
      expect(r.status).toBe(200);
      expect(
        (r.json.Resources as Json[]).map((u) => u.id),
        filter,
      ).toEqual([id]);
    }
  });

  it("update without the flag: Replace with capital op, value-path filter, string booleans", async () => {
    const r = await call(
      "PATCH",
      `/Users/${id}`,
      patch(
        { op: "Replace", path: 'emails[type eq "work"].value', value: `updated.${userName}` },
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
        { op: "Add", path: "nickName", value: "Babs" },
      ),
    );
    expect(r.status).toBe(200);
    expect(r.json.emails).toEqual([{ primary: true, type: "work", value: `updated.${userName}` }]);
    expect((r.json.name as Json).familyName).toBe("updatedFamilyName");
    expect(r.json.nickName).toBe("Babs");
  });

  it("update with the flag (aadOptscim062020): path-less replace with dotted and URN keys", async () => {
    const r = await call(
      "PATCH",
      `/Users/${id}`,
      patch({ op: "replace", value: { displayName: "New Display", "name.givenName": "Kim", [`${ENTERPRISE}:employeeNumber`]: "E-1" } }),
    );
    expect(r.status).toBe(200);
    const got = (await call("GET", `/Users/${id}`)).json;
    expect(got.displayName).toBe("New Display");
    expect((got.name as Json).givenName).toBe("Kim");
    expect((got[ENTERPRISE] as Json).employeeNumber).toBe("E-1");
  });

  it("SCIM_Update_Manager: set (tutorial form), change, remove", async () => {
    const set = await call(
      "PATCH",
      `/Users/${id}`,
      patch({ op: "Add", path: "manager", value: [{ $ref: `../Users/${managerId}`, value: managerId }] }),
    );
    expect(((set.json[ENTERPRISE] as Json).manager as Json).value).toBe(managerId);
    const changed = await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: `${ENTERPRISE}:manager`, value: id }));
    expect(((changed.json[ENTERPRISE] as Json).manager as Json).value).toBe(id);
    const removed = await call("PATCH", `/Users/${id}`, patch({ op: "Remove", path: `${ENTERPRISE}:manager` }));
    expect((removed.json[ENTERPRISE] as Json | undefined)?.manager).toBeUndefined();
  });

  it('SCIM_Null_Update: "" then null remove the attribute', async () => {
    await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: "title", value: "Lead" }));
    expect((await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: "title", value: "" }))).json).not.toHaveProperty("title");
    await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: "title", value: "Lead" }));
    expect((await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: "title", value: null }))).json).not.toHaveProperty("title");
  });

  it('disable with "False" (no flag) and false (flag); restore by reassign with "True"; GET and filter show it', async () => {
    expect((await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: "active", value: "False" }))).json.active).toBe(false);
    const filtered = await call("GET", `/Users?${q(`userName eq "${userName}" and active eq false`)}`);
    expect((filtered.json.Resources as Json[]).map((u) => u.id)).toEqual([id]);
    expect((await call("PATCH", `/Users/${id}`, patch({ op: "Replace", path: "active", value: "True" }))).json.active).toBe(true);
    expect((await call("PATCH", `/Users/${id}`, patch({ op: "replace", path: "active", value: false }))).json.active).toBe(false);
    expect((await call("GET", `/Users/${id}`)).json.active).toBe(false);
    expect((await call("PATCH", `/Users/${id}`, patch({ op: "replace", path: "active", value: true }))).json.active).toBe(true);
  });

  it("Operations: [] from the validator is a 200 no-op", async () => {
    expect((await call("PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: [] })).status).toBe(200);
  });

  it("hard delete: 204, then 404, and the lookup is empty", async () => {
    expect((await call("DELETE", `/Users/${id}`)).status).toBe(204);
    expect((await call("GET", `/Users/${id}`)).status).toBe(404);
    expect((await call("GET", `/Users?${q(`userName eq "${userName}"`)}`)).json.totalResults).toBe(0);
  });
});

describe("Entra: pagination (gallery validation)", () => {
  it("≥ 11 users paged by 5: each page answers the startIndex asked for", async () => {
    await setSettings();
    const prefix = `page.${tag}`;
    for (let i = 0; i < 11; i++) {
      expect((await call("POST", "/Users", entraUser(`${prefix}.${i}@contoso.com`, crypto.randomUUID()))).status).toBe(201);
    }
    const seen: string[] = [];
    for (const start of [1, 6, 11]) {
      const r = await call("GET", `/Users?startIndex=${start}&count=5&${q(`userName sw "${prefix}"`)}`);
      expect(r.status).toBe(200);
      expect(r.json.startIndex).toBe(start);
      expect(r.json.totalResults).toBe(11);
      seen.push(...(r.json.Resources as Json[]).map((u) => u.id as string));
    }
    expect(new Set(seen).size).toBe(11);
  });
});

describe("Entra: groups", () => {
  let groupId = "";
  const displayName = `Entra Group ${tag}`;
  const externalId = crypto.randomUUID();
  const members: string[] = [];

  beforeAll(async () => {
    await setSettings();
    for (let i = 0; i < 3; i++)
      members.push((await call("POST", "/Users", entraUser(`member.${tag}.${i}@contoso.com`, crypto.randomUUID()))).json.id as string);
  });

  it("lookup (excludedAttributes=members, displayName eq) finds none; create with the ADSCIM URN → 201", async () => {
    const none = await call("GET", `/Groups?excludedAttributes=members&${q(`displayName eq "${displayName}"`)}`);
    expect(none.json).toMatchObject({ totalResults: 0, Resources: [] });
    const r = await call("POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group", ADSCIM_GROUP],
      externalId,
      displayName,
      meta: { resourceType: "Group" },
    });
    expect(r.status).toBe(201);
    groupId = r.json.id as string;
  });

  it("GET by id and by externalId without members", async () => {
    const byId = await call("GET", `/Groups/${groupId}?excludedAttributes=members`);
    expect(byId.json).toMatchObject({ id: groupId, displayName, externalId });
    const byExt = await call("GET", `/Groups?excludedAttributes=members&${q(`externalId eq "${externalId}"`)}`);
    expect((byExt.json.Resources as Json[]).map((g) => g.id)).toEqual([groupId]);
  });

  it("Add several members → 204; Remove one, old form → 204 and only it leaves; flag form too", async () => {
    const add = await call(
      "PATCH",
      `/Groups/${groupId}`,
      patch({ op: "Add", path: "members", value: members.map((m) => ({ $ref: null, value: m })) }),
    );
    expect(add.status).toBe(204);
    const remove = await call(
      "PATCH",
      `/Groups/${groupId}`,
      patch({ op: "Remove", path: "members", value: [{ $ref: null, value: members[0] }] }),
    );
    expect(remove.status).toBe(204);
    const flag = await call("PATCH", `/Groups/${groupId}`, patch({ op: "remove", path: `members[value eq "${members[1] as string}"]` }));
    expect(flag.status).toBe(204);
    const got = await call("GET", `/Groups/${groupId}`);
    expect(((got.json.members as Json[]) ?? []).map((m) => m.value)).toEqual([members[2]]);
    const ofUser = await call("GET", `/Groups?${q(`members[value eq "${members[2] as string}"]`)}&excludedAttributes=members`);
    expect((ofUser.json.Resources as Json[]).map((g) => g.id)).toEqual([groupId]);
  });

  it("rename by Replace displayName → 204; group pagination answers startIndex", async () => {
    expect(
      (await call("PATCH", `/Groups/${groupId}`, patch({ op: "Replace", path: "displayName", value: `${displayName} renamed` }))).status,
    ).toBe(204);
    expect((await call("GET", `/Groups/${groupId}?excludedAttributes=members`)).json.displayName).toBe(`${displayName} renamed`);
    const page = await call("GET", "/Groups?startIndex=1&count=5&excludedAttributes=members");
    expect(page.json.startIndex).toBe(1);
    expect((page.json.Resources as Json[]).length).toBeLessThanOrEqual(5);
  });

  it("delete → 204 and then 404", async () => {
    expect((await call("DELETE", `/Groups/${groupId}`)).status).toBe(204);
    expect((await call("GET", `/Groups/${groupId}`)).status).toBe(404);
  });
});
