import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  admin,
  createUser,
  expectStatus,
  type Json,
  oktaUser,
  ops,
  SITE_USER,
  scim,
  setSettings,
  siteRole,
  uniqueName,
  waitForRoleJob,
} from "../helpers";

/**
 * Roles the way IdPs assign them now: Entra app roles through `roles` (AppRoleAssignmentsComplex,
 * SingleAppRoleAssignment), Okta Identity Governance entitlements, and the highest role the
 * settings allow, through the Worker, the real D1 and (for settings changes) the real queue.
 */

const entraRole = (value: string) => ({ primary: false, type: "WindowsAzureActiveDirectoryRole", display: value, value });
const getUser = async (id: string) => expectStatus(await scim("GET", `/Users/${id}`), 200);

async function decisions(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT decisions FROM provisioning_log WHERE resource_id = ? AND decisions IS NOT NULL ORDER BY seq",
  )
    .bind(id)
    .all<{ decisions: string }>();
  return results.flatMap((r) => JSON.parse(r.decisions) as string[]);
}

interface Sent {
  type: string;
  version: number;
  user: Json;
  changes: Json;
}

async function events(id: string): Promise<Sent[]> {
  const { results } = await env.DB.prepare(
    "SELECT type, payload FROM events WHERE resource_id = ? AND job_id IS NULL ORDER BY resource_version",
  )
    .bind(id)
    .all<{ type: string; payload: string }>();
  return results.map((r) => {
    const data = (JSON.parse(r.payload) as { data: { version: number; user: Json; changes: Json } }).data;
    return { type: r.type, version: data.version, user: data.user, changes: data.changes };
  });
}

/** An Entra-provisioned user, as Entra's create sends it (CONFORMANCE 42: roles [] is unassigned). */
async function entraUser(): Promise<Json> {
  const userName = `${uniqueName("entra")}@contoso.example`;
  return createUser({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    externalId: uniqueName("ext"),
    userName,
    active: true,
    displayName: "Ada Entra",
    meta: { resourceType: "User" },
    roles: [],
  });
}

describe("Entra app roles through roles", () => {
  it("AppRoleAssignmentsComplex PATCH promotes and demotes under the settings; GET reads back what Entra mapped", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: false, moderatorGroup: null, adminGroup: null });
    const u = await entraUser();
    const id = u.id as string;
    expect(u).not.toHaveProperty("roles");
    expect(siteRole(u)).toBe("registered");

    // Admin app role while admin promotion is off: kept, and said why.
    const admin1 = await expectStatus(
      await scim("PATCH", `/Users/${id}`, ops({ op: "Add", path: "roles", value: [entraRole("Admin")] })),
      200,
    );
    expect(admin1.roles).toEqual([entraRole("Admin")]);
    expect(siteRole(admin1)).toBe("registered");
    expect(await decisions(id)).toContain("role kept: registered (roles asks for admin); admin promotion off");

    // Entra re-sends what it mapped each cycle: the same Add is no change (no event, same ETag).
    const before = await events(id);
    const again = await expectStatus(
      await scim("PATCH", `/Users/${id}`, ops({ op: "Add", path: "roles", value: [entraRole("Admin")] })),
      200,
    );
    expect(again.roles).toEqual([entraRole("Admin")]);
    expect((again.meta as Json).version).toBe((admin1.meta as Json).version);
    expect(await events(id)).toEqual(before);

    // Turning admin promotion on re-evaluates: admin.
    await setSettings({ allowAdminPromotion: true });
    expect(await waitForRoleJob()).toMatchObject({ state: "done" });
    expect(siteRole(await getUser(id))).toBe("admin");

    // A second app role that names no site role: kept as sent, the role unchanged, no event, a new ETag.
    const eventsBefore = (await events(id)).length;
    const withUser = await expectStatus(
      await scim("PATCH", `/Users/${id}`, ops({ op: "Add", path: "roles", value: [entraRole("User")] })),
      200,
    );
    expect(withUser.roles).toEqual([entraRole("Admin"), entraRole("User")]);
    expect(siteRole(withUser)).toBe("admin");
    expect((withUser.meta as Json).version).not.toBe((again.meta as Json).version);
    expect((await events(id)).length).toBe(eventsBefore);
    expect(await decisions(id)).toContain('roles "User" kept as sent; it names no site role (Registered, Moderator or Admin)');

    // The Admin assignment removed (a remove with the value): the remaining "User" grants no site role.
    const demoted = await expectStatus(
      await scim("PATCH", `/Users/${id}`, ops({ op: "Remove", path: "roles", value: [entraRole("Admin")] })),
      200,
    );
    expect(demoted.roles).toEqual([entraRole("User")]);
    expect(siteRole(demoted)).toBe("registered");

    // AssertiveAppRoleAssignmentsComplex: a replace of the whole list; Moderator promotes.
    const mod = await expectStatus(
      await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "roles", value: [entraRole("Moderator")] })),
      200,
    );
    expect(siteRole(mod)).toBe("moderator");

    const roleEvents = (await events(id)).filter((e) => e.type === "user.role_changed");
    expect(roleEvents.map((e) => e.changes)).toEqual([
      { role: { from: "registered", to: "admin" }, reason: "role changed: registered → admin (roles)" },
      {
        role: { from: "admin", to: "registered" },
        reason: "role changed: admin → registered (no userType, no site role in roles and no mapped group)",
      },
      { role: { from: "registered", to: "moderator" }, reason: "role changed: registered → moderator (roles)" },
    ]);
    // The site receives the effective role in user.roles, never the roles Entra wrote, and no
    // user.updated for them.
    for (const e of await events(id)) {
      expect(e.user.roles, e.type).toEqual([{ value: siteRoleAt(e), primary: true }]);
      expect(e.type === "user.updated" ? e.changes.attributes : [], e.type).not.toContain("roles");
    }
  });

  it('SingleAppRoleAssignment: roles[primary eq "True"].value promotes, a second one replaces it', async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true, moderatorGroup: null, adminGroup: null });
    const u = await entraUser();
    const id = u.id as string;
    const path = 'roles[primary eq "True"].value';
    const first = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "Replace", path, value: "Admin" })), 200);
    expect(first.roles).toEqual([{ primary: true, value: "Admin" }]);
    expect(siteRole(first)).toBe("admin");
    const second = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "Replace", path, value: "Moderator" })), 200);
    expect(second.roles).toEqual([{ primary: true, value: "Moderator" }]);
    expect(siteRole(second)).toBe("moderator");
  });

  it("Entra's PATCH without the flag: the assignment JSON-encoded in value names the role, and is kept as sent", async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true, moderatorGroup: null, adminGroup: null });
    const u = await entraUser();
    const value = JSON.stringify({ id: "06b07648-ecfe-589f-9d2f-6325724a46ee", value: "Admin", displayName: "Admin" });
    const patched = await expectStatus(
      await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "Add", path: "roles", value: [{ value }] })),
      200,
    );
    expect(patched.roles).toEqual([{ value }]);
    expect(siteRole(patched)).toBe("admin");
  });
});

/** The role a payload's own state says (the event carries the user as it was at that version). */
const siteRoleAt = (e: Sent): string | undefined => (e.user[SITE_USER] as { role?: string } | undefined)?.role;

describe("Okta Identity Governance entitlements through roles", () => {
  it("POST with roles creates a moderator; the site's user.created says moderator", async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: false, moderatorGroup: null, adminGroup: null });
    const roles = [{ value: "moderator", display: "Moderator" }];
    const u = await createUser(oktaUser(uniqueName("okta"), { userType: "Employee", roles }));
    expect(u.roles).toEqual(roles);
    expect(siteRole(u)).toBe("moderator");
    expect(u.schemas).toContain(SITE_USER);
    const [created] = await events(u.id as string);
    expect(created?.type).toBe("user.created");
    expect(created?.user.roles).toEqual([{ value: "moderator", primary: true }]);
    // The entitlement revoked: registered again.
    const revoked = await expectStatus(await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "remove", path: "roles" })), 200);
    expect(revoked).not.toHaveProperty("roles");
    // userType Employee names no role, but roles, once written, now says "no role": registered.
    expect(siteRole(revoked)).toBe("registered");
    const [, changed] = await events(u.id as string);
    expect(changed?.changes).toEqual({
      role: { from: "moderator", to: "registered" },
      reason: 'role changed: moderator → registered (userType "Employee" names no role, no site role in roles and no mapped group)',
    });
  });

  it("filters find users by the effective role and by the roles an IdP wrote", async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true, moderatorGroup: null, adminGroup: null });
    const tag = uniqueName("f");
    const a = await createUser(oktaUser(`${tag}-a@x.example`, { externalId: tag, roles: [{ value: "admin" }] }));
    const m = await createUser(oktaUser(`${tag}-m@x.example`, { externalId: tag, userType: "Moderator" }));
    await createUser(oktaUser(`${tag}-r@x.example`, { externalId: tag }));
    const find = async (filter: string) =>
      (
        (await expectStatus(await scim("GET", `/Users?filter=${encodeURIComponent(`externalId eq "${tag}" and (${filter})`)}`), 200))
          .Resources as Json[]
      )
        .map((r) => r.id)
        .sort();
    expect(await find(`${SITE_USER}:role eq "admin"`)).toEqual([a.id]);
    expect(await find(`${SITE_USER}:role ne "registered"`)).toEqual([a.id, m.id].sort());
    expect(await find('roles.value eq "ADMIN"')).toEqual([a.id]);
    expect(await find("roles pr")).toEqual([a.id]);
    const sorted = (await expectStatus(
      await scim("GET", `/Users?filter=${encodeURIComponent(`externalId eq "${tag}"`)}&sortBy=${SITE_USER}:role`),
      200,
    )) as { Resources: Json[] };
    expect(sorted.Resources.map((r) => siteRole(r))).toEqual(["admin", "moderator", "registered"]);
  });
});

describe("the highest role allowed, and every decision explained", () => {
  it("a re-evaluation logs bob's decision in his timeline, and names the users a setting kept, with the group by name", {
    timeout: 90_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: false, allowAdminPromotion: false, moderatorGroup: null, adminGroup: null });
    await waitForRoleJob().catch(() => undefined);
    const bob = await createUser(oktaUser(`bob.${uniqueName()}@x.example`, { userType: "Admin" }));
    const alice = await createUser(oktaUser(`alice.${uniqueName()}@x.example`, { userType: "Admin" }));
    const bobId = bob.id as string;
    const groupName = `Site Moderators ${uniqueName()}`;
    const group = await expectStatus(await scim("POST", "/Groups", { displayName: groupName, members: [{ value: bobId }] }), 201);
    const groupId = group.id as string;
    await setSettings({ moderatorGroup: groupId });
    expect(await waitForRoleJob()).toMatchObject({ state: "done" });
    expect(siteRole(await getUser(bobId))).toBe("registered");

    await setSettings({ allowModeratorPromotion: true });
    const job = await waitForRoleJob();
    expect(job).toMatchObject({ state: "done" });
    expect(siteRole(await getUser(bobId))).toBe("moderator");
    const said = `role changed: registered → moderator (mapped group ${groupName}); admin from userType refused: admin promotion off`;
    expect(await decisions(bobId)).toContain(said);
    const timeline = await expectStatus(await admin("GET", `/users/${bobId}/timeline`), 200);
    const items = timeline.items as { kind: string; decisions?: string[]; method?: string }[];
    expect(items.some((i) => i.kind === "request" && i.method === "JOB" && i.decisions?.includes(said))).toBe(true);
    const [changed] = (await events(bobId)).filter((e) => e.type === "user.role_changed");
    expect(changed?.changes).toEqual({ role: { from: "registered", to: "moderator" }, reason: said });

    // alice's role a setting kept: said in the job's row for her chunk, by her userName.
    const { results } = await env.DB.prepare(
      "SELECT path, decisions FROM provisioning_log WHERE method = 'JOB' AND request_id = ? AND decisions IS NOT NULL",
    )
      .bind(job.id as string)
      .all<{ path: string; decisions: string }>();
    const lines = results.flatMap((r) => JSON.parse(r.decisions) as string[]);
    expect(lines).toContain(
      `${alice.userName as string}: role kept: registered (in no mapped group); admin from userType refused: admin promotion off`,
    );
    expect(lines.some((l) => l.startsWith("role re-evaluation done:"))).toBe(true);
    // People and groups by name, never by UUID.
    const everything = JSON.stringify(results) + JSON.stringify(job);
    expect(everything).not.toContain(groupId);
    const first = await env.DB.prepare(
      "SELECT reason FROM jobs WHERE kind = 'roles' AND reason LIKE '%moderatorGroup%' ORDER BY created_at DESC",
    ).first<{ reason: string }>();
    expect(first?.reason).toBe(`moderatorGroup: null → ${JSON.stringify(groupName)}`);

    await setSettings({ moderatorGroup: null, allowModeratorPromotion: false });
    await waitForRoleJob();
  });
});
