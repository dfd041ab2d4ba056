import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  admin,
  createUser,
  expectStatus,
  type Json,
  oktaUser,
  ops,
  scim,
  setSettings,
  siteRole,
  uniqueName,
  waitForRoleJob,
} from "../helpers";

/**
 * The four sequences of issue "roles and the guard must follow the current state" that broke
 * the promise "the IdP decides who is a moderator or an admin": each as written there, through
 * the Worker, the real D1 and (for settings changes) the real queue. Its own file: its own D1.
 */

const role = siteRole;
const roleOf = async (id: string) => role(await expectStatus(await scim("GET", `/Users/${id}`), 200));

async function decisions(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT decisions FROM provisioning_log WHERE resource_id = ? AND decisions IS NOT NULL ORDER BY seq",
  )
    .bind(id)
    .all<{ decisions: string }>();
  return results.flatMap((r) => JSON.parse(r.decisions) as string[]);
}

async function roleEvents(id: string): Promise<{ from: string; to: string; reason: string }[]> {
  const { results } = await env.DB.prepare(
    "SELECT payload FROM events WHERE resource_id = ? AND type = 'user.role_changed' ORDER BY resource_version",
  )
    .bind(id)
    .all<{ payload: string }>();
  return results.map((r) => {
    const changes = (JSON.parse(r.payload) as { data: { changes: { role: { from: string; to: string }; reason: string } } }).data.changes;
    return { ...changes.role, reason: changes.reason };
  });
}

async function pushGroup(displayName: string, members: string[]): Promise<string> {
  const g = await expectStatus(await scim("POST", "/Groups", { displayName, members: members.map((value) => ({ value })) }), 201);
  return g.id as string;
}

describe("a role never outlives its source", () => {
  it("userType Admin while admin promotion is off, then removed: turning admin promotion on and a title change leave the user registered", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: false, allowAdminPromotion: false, moderatorGroup: null, adminGroup: null });
    const u = await createUser(oktaUser(uniqueName(), { userType: "Admin" }));
    const id = u.id as string;
    expect(role(u)).toBe("registered");
    await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "remove", path: "userType" })), 200);
    await setSettings({ allowAdminPromotion: true });
    expect((await waitForRoleJob()).state).toBe("done");
    expect(await roleOf(id)).toBe("registered");
    const titled = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "title", value: "Engineer" })), 200);
    expect(role(titled)).toBe("registered");
    expect(await roleEvents(id)).toEqual([]);
    expect((await decisions(id)).filter((d) => d.includes("→ admin"))).toEqual([]);
  });

  it("admin through userType and the mapped admin group: losing userType keeps admin (the group), leaving the group demotes, with a decision", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true, moderatorGroup: null, adminGroup: null });
    const u = await createUser(oktaUser(uniqueName(), { userType: "Admin" }));
    const id = u.id as string;
    expect(role(u)).toBe("admin");
    const admins = await pushGroup("Site Admins", [id]);
    await setSettings({ adminGroup: admins });
    expect((await waitForRoleJob()).state).toBe("done");
    await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "remove", path: "userType" })), 200);
    expect(await roleOf(id)).toBe("admin");
    const left = await scim("PATCH", `/Groups/${admins}`, ops({ op: "remove", path: `members[value eq "${id}"]` }));
    expect(left.status, await left.clone().text()).toBe(204);
    expect(await roleOf(id)).toBe("registered");
    expect((await roleEvents(id)).map((e) => `${e.from}→${e.to}`)).toEqual(["admin→registered"]);
    const groupLog = await env.DB.prepare("SELECT decisions FROM provisioning_log WHERE resource_id = ? AND method = 'PATCH'")
      .bind(admins)
      .first<{ decisions: string }>();
    expect(groupLog?.decisions).toContain("role changed: admin → registered (no userType, in no mapped group)");
    await setSettings({ adminGroup: null });
    await waitForRoleJob();
  });
});

describe("mapping a group applies to the members it already has", () => {
  it("push Site Moderators with members, then pick it: every member is a moderator, each with a role_changed event and a decision", {
    timeout: 60_000,
  }, async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: false, moderatorGroup: null, adminGroup: null });
    const members = await Promise.all([1, 2, 3].map(async () => (await createUser(oktaUser(uniqueName()))).id as string));
    const outsider = (await createUser(oktaUser(uniqueName()))).id as string;
    const mods = await pushGroup("Site Moderators", members);
    for (const id of members) expect(await roleOf(id)).toBe("registered");
    await setSettings({ moderatorGroup: mods });
    const job = await waitForRoleJob();
    expect(job).toMatchObject({ state: "done", changed: 3 });
    for (const id of members) {
      expect(await roleOf(id)).toBe("moderator");
      expect(await roleEvents(id)).toEqual([
        { from: "registered", to: "moderator", reason: "role changed: registered → moderator (mapped group Site Moderators)" },
      ]);
      expect(await decisions(id)).toContain("role changed: registered → moderator (mapped group Site Moderators)");
    }
    expect(await roleOf(outsider)).toBe("registered");
    // The admin page's progress: the job says what it did.
    const jobs = await expectStatus(await admin("GET", "/jobs"), 200);
    expect((jobs.jobs as Json[])[0]).toMatchObject({ processed: job.total, reason: expect.stringContaining("moderatorGroup") });
    // Unmapping demotes them again, the same way.
    await setSettings({ moderatorGroup: null });
    expect(await waitForRoleJob()).toMatchObject({ state: "done", changed: 3 });
    for (const id of members) expect(await roleOf(id)).toBe("registered");
  });

  it("turning a promotion setting off keeps existing roles", { timeout: 60_000 }, async () => {
    await setSettings({ allowModeratorPromotion: true, moderatorGroup: null, adminGroup: null });
    await waitForRoleJob();
    const u = await createUser(oktaUser(uniqueName(), { userType: "Moderator" }));
    expect(role(u)).toBe("moderator");
    await setSettings({ allowModeratorPromotion: false });
    const jobs = await expectStatus(await admin("GET", "/jobs"), 200);
    expect((jobs.jobs as Json[]).every((j) => j.state !== "running")).toBe(true);
    expect(await roleOf(u.id as string)).toBe("moderator");
    const after = await expectStatus(await scim("PATCH", `/Users/${u.id as string}`, ops({ op: "remove", path: "userType" })), 200);
    expect(role(after)).toBe("moderator");
    expect(await decisions(u.id as string)).toContain(
      "role kept: moderator (no userType and no mapped group asks for registered); moderator promotion off",
    );
  });
});
