import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createUser, expectStatus, oktaUser, ops, scim, setSettings, siteRole, uniqueName } from "../helpers";

const role = siteRole;

async function decisions(id: string): Promise<string> {
  const { results } = await env.DB.prepare("SELECT decisions FROM provisioning_log WHERE resource_id = ? AND decisions IS NOT NULL")
    .bind(id)
    .all<{ decisions: string }>();
  return results.flatMap((r) => JSON.parse(r.decisions) as string[]).join("\n");
}

describe("Roles through userType (seed: promotion and demotion)", () => {
  it("promotion off: userType Admin is stored as sent, role kept, the log says why", async () => {
    await setSettings({ allowModeratorPromotion: false, allowAdminPromotion: false });
    const u = await createUser(oktaUser(uniqueName(), { userType: "Admin" }));
    expect(u.userType).toBe("Admin");
    expect(role(u)).toBe("registered");
    expect(await decisions(u.id as string)).toMatch(/role kept: registered.*admin promotion off/);
  });

  it("moderator promotion on: PATCH userType Moderator promotes, Registered demotes, with role_changed events", async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: false });
    const u = await createUser(oktaUser(uniqueName()));
    const id = u.id as string;
    const up = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", path: "userType", value: "moderator" })), 200);
    expect(role(up)).toBe("moderator");
    expect(up.userType).toBe("moderator");
    const admin = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", value: { userType: "Admin" } })), 200);
    expect(role(admin)).toBe("moderator");
    const down = await expectStatus(await scim("PATCH", `/Users/${id}`, ops({ op: "replace", value: { userType: "Registered" } })), 200);
    expect(role(down)).toBe("registered");
    const { results } = await env.DB.prepare(
      "SELECT type, payload FROM events WHERE resource_id = ? AND type = 'user.role_changed' ORDER BY resource_version",
    )
      .bind(id)
      .all<{ type: string; payload: string }>();
    expect(results).toHaveLength(2);
    const first = JSON.parse(results[0]?.payload ?? "{}") as { data: { changes: { role: unknown } } };
    expect(first.data.changes.role).toEqual({ from: "registered", to: "moderator" });
    expect(await decisions(id)).toMatch(/admin promotion off/);
  });

  it("admin promotion on: a new user with userType Admin starts as admin; Employee leaves it unchanged", async () => {
    await setSettings({ allowModeratorPromotion: false, allowAdminPromotion: true });
    const u = await createUser(oktaUser(uniqueName(), { userType: "ADMIN" }));
    expect(role(u)).toBe("admin");
    const put = await expectStatus(
      await scim("PUT", `/Users/${u.id as string}`, { ...oktaUser(u.userName as string), userType: "Employee" }),
      200,
    );
    expect(put.userType).toBe("Employee");
    expect(role(put)).toBe("admin");
    expect(await decisions(u.id as string)).toMatch(/userType "Employee" does not name a site role/);
    await setSettings({ allowModeratorPromotion: false, allowAdminPromotion: false });
  });

  it("roles is a source too: POST with roles Admin makes an admin, and GET returns roles as sent", async () => {
    await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true });
    const roles = [{ value: "admin", primary: true }];
    const u = await createUser(oktaUser(uniqueName(), { roles }));
    expect(role(u)).toBe("admin");
    expect(u.roles).toEqual(roles);
    await setSettings({ allowModeratorPromotion: false, allowAdminPromotion: false });
  });
});
