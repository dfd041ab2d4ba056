import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, createUser, expectStatus, type Json, oktaUser, ops, scim, setSettings, uniqueName } from "../helpers";

/**
 * A record that remembers (docs/operations.md): each log row keeps the names it was written with,
 * and says what its request did in words; a group change shows on its members' timelines; a
 * deleted user stays findable (timeline by id, userName or email, log search, export).
 */

interface LogRow {
  seq: number;
  method: string;
  path: string;
  resourceId: string | null;
  resourceName: string | null;
  resourceDisplayName: string | null;
  resourceEmail: string | null;
  did: string[];
  decisions: string[];
}
interface TimelineItem {
  kind: "request" | "event";
  at: string;
  method?: string;
  did?: string[];
  via?: { type: string; id: string; name: string | null } | null;
  type?: string;
  words?: string[];
  reason?: string | null;
}
interface Timeline {
  userId: string;
  found: boolean;
  deleted: boolean;
  matchedBy: string | null;
  user: {
    userName: string;
    displayName: string | null;
    email: string | null;
    active: boolean;
    role: string;
    userType: string | null;
    roles: string[];
    groups: { id: string; name: string }[];
    asOf: string;
  } | null;
  items: TimelineItem[];
}

const logOf = async (query: string) => ((await expectStatus(await admin("GET", `/log?${query}`), 200)) as { entries: LogRow[] }).entries;
const timeline = async (key: string) =>
  (await expectStatus(await admin("GET", `/users/${encodeURIComponent(key)}/timeline`), 200)) as unknown as Timeline;
const patch = async (id: string, ...o: unknown[]) => expectStatus(await scim("PATCH", `/Users/${id}`, ops(...o)), 200);

let dave: Json;
let daveEmail: string;
let group: Json;

beforeAll(async () => {
  await setSettings({ allowModeratorPromotion: true, allowAdminPromotion: true });
  const userName = uniqueName("Dave");
  daveEmail = `dave.${Date.now().toString(36)}@mail.example.com`;
  dave = await createUser(
    oktaUser(userName, {
      displayName: "Dave Example",
      title: "Eng",
      emails: [{ primary: true, value: daveEmail, type: "work" }],
    }),
  );
  group = await expectStatus(
    await scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Site Moderators Record" }),
    201,
  );
});

describe("what a request did, in words", () => {
  it("a PATCH says each attribute's change from → to, and a deactivation says deactivated", async () => {
    await patch(dave.id as string, { op: "replace", path: "title", value: "Staff" });
    await patch(dave.id as string, { op: "replace", value: { active: false } });
    await patch(dave.id as string, { op: "replace", value: { active: true } });
    const rows = await logOf(`resourceId=${dave.id}`);
    const dids = rows.map((r) => r.did);
    expect(dids).toContainEqual(["title: Eng → Staff"]);
    expect(dids).toContainEqual(["deactivated"]);
    expect(dids).toContainEqual(["reactivated"]);
    expect(rows.find((r) => r.method === "POST")?.did).toEqual(["created"]);
  });

  it("a role change says from → to and where it came from", async () => {
    await patch(dave.id as string, { op: "replace", path: "userType", value: "Moderator" });
    const [row] = await logOf(`resourceId=${dave.id}`);
    expect(row?.did).toEqual(["userType: (none) → Moderator", "role registered → moderator (userType)"]);
  });

  it("a group change says what it did on its own row, and on each member's timeline", async () => {
    await expectStatus(await scim("PATCH", `/Groups/${group.id}`, ops({ op: "add", path: "members", value: [{ value: dave.id }] })), 204);
    const [row] = await logOf(`resourceId=${group.id}`);
    expect(row?.did).toEqual(["added 1 member"]);
    expect(row?.resourceName).toBe("Site Moderators Record");
    const t = await timeline(dave.id as string);
    const added = t.items.find((i) => i.kind === "request" && i.via?.id === group.id);
    expect(added?.did).toEqual(["added to Site Moderators Record"]);
    expect(added?.via).toMatchObject({ type: "Group", name: "Site Moderators Record" });
  });

  it("the timeline header: userType, the IdP's roles, groups and the effective role", async () => {
    // The IdP's own `roles` as stored (Entra app roles); the header reads them from the user's data.
    await env.DB.prepare(
      `UPDATE users SET data = json_set(data, '$.roles', json('[{"value":"Moderator","display":"Moderator"}]')) WHERE id = ?`,
    )
      .bind(dave.id)
      .run();
    const t = await timeline(dave.id as string);
    expect(t.found).toBe(true);
    expect(t.user).toMatchObject({
      userName: dave.userName,
      displayName: "Dave Example",
      email: daveEmail,
      active: true,
      role: "moderator",
      userType: "Moderator",
      groups: [{ id: group.id, name: "Site Moderators Record" }],
      asOf: "now",
    });
    expect(t.user?.roles).toContain("Moderator");
    // Events say what they told the site, from their own payload.
    const role = t.items.find((i) => i.kind === "event" && i.type === "user.role_changed");
    expect(role?.words).toEqual(["role registered → moderator"]);
    expect(role?.reason).toBe("role changed: registered → moderator (userType)");
  });
});

describe("a deleted user stays findable", () => {
  let deletedAt = "";
  beforeAll(async () => {
    expect((await scim("DELETE", `/Users/${dave.id}`)).status).toBe(204);
    deletedAt = new Date().toISOString();
  });

  it("its log rows keep its names, the deletion's row too", async () => {
    const rows = await logOf(`resourceId=${dave.id}`);
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) {
      expect(r.resourceName).toBe(dave.userName);
      expect(r.resourceEmail).toBe(daveEmail);
      expect(r.resourceDisplayName).toBe("Dave Example");
    }
    expect(rows[0]?.method).toBe("DELETE");
    expect(rows[0]?.did).toEqual(["deleted", "removed from Site Moderators Record"]);
  });

  it("the log finds it by userName and by email", async () => {
    for (const q of [String(dave.userName).toLowerCase(), daveEmail.toUpperCase()]) {
      const rows = await logOf(`q=${encodeURIComponent(q)}`);
      expect(rows.filter((r) => r.resourceId === dave.id).length, q).toBeGreaterThan(5);
    }
  });

  it("its timeline opens by id, userName or email, with its history, its last known state and its words", async () => {
    for (const [key, by] of [
      [dave.id as string, "id"],
      [String(dave.userName).toUpperCase(), "userName"],
      [daveEmail, "email"],
    ] as const) {
      const t = await timeline(key);
      expect(t.userId, key).toBe(dave.id);
      expect(t.found).toBe(false);
      expect(t.deleted).toBe(true);
      expect(t.matchedBy).toBe(by);
      expect(t.user).toMatchObject({
        userName: dave.userName,
        displayName: "Dave Example",
        email: daveEmail,
        role: "moderator",
        asOf: "last event",
      });
      const words = t.items.flatMap((i) => i.did ?? i.words ?? []);
      expect(words).toEqual(expect.arrayContaining(["deleted", "title: Eng → Staff", "deactivated", "added to Site Moderators Record"]));
    }
  });

  it("the export names it", async () => {
    const from = new Date(Date.parse(deletedAt) - 3_600_000).toISOString();
    const res = await admin("GET", `/log/export?format=csv&from=${encodeURIComponent(from)}`);
    const text = await res.text();
    expect(res.status, text.slice(0, 200)).toBe(200);
    const lines = text.split("\r\n").filter((l) => l.includes(String(dave.id)));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).toContain(String(dave.userName));
      expect(line).toContain(daveEmail);
    }
  });

  it("a key nobody had is not found and says so", async () => {
    const t = await timeline("nobody-ever@example.com");
    expect(t).toMatchObject({ found: false, deleted: false, user: null, items: [] });
  });
});

describe("names as written", () => {
  it("a renamed user's older rows keep the old name; newer ones have the new", async () => {
    const u = await createUser(oktaUser(uniqueName("Before")));
    const renamed = uniqueName("After");
    await patch(u.id as string, { op: "replace", path: "userName", value: renamed });
    const rows = await logOf(`resourceId=${u.id}`);
    expect(rows[0]?.resourceName).toBe(renamed);
    expect(rows.at(-1)?.resourceName).toBe(u.userName);
    expect(rows[0]?.did).toEqual([`userName: ${u.userName} → ${renamed}`]);
  });

  it("a row from before rows kept names shows today's (a live join)", async () => {
    const u = await createUser(oktaUser(uniqueName("Legacy")));
    await env.DB.prepare(
      "UPDATE provisioning_log SET subject_name = NULL, subject_email = NULL, subject_display_name = NULL WHERE resource_id = ?",
    )
      .bind(u.id)
      .run();
    const [row] = await logOf(`resourceId=${u.id}`);
    expect(row?.resourceName).toBe(u.userName);
  });
});
