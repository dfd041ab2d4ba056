import { env } from "cloudflare:test";
import { expect } from "vitest";
import { expectStatus, type Json, scim, siteRole } from "./helpers";

/**
 * The directory as GET answers it: each user (without groups), each group's attributes and members.
 * A user's meta.version and lastModified also move when only its groups change, which the group's
 * events carry (no user event): the site's copy of the user is the state of its last user event.
 * The site sees the effective role as `roles` (one entry), never the roles an IdP wrote.
 */
export async function directory() {
  const users: Record<string, Json> = {};
  for (const { id } of (await env.DB.prepare("SELECT id FROM users").all<{ id: string }>()).results) {
    const { groups: _groups, roles: _written, ...user } = await expectStatus(await scim("GET", `/Users/${id}`), 200);
    const last = await env.DB.prepare(
      "SELECT json_extract(payload, '$.data.user.meta') AS meta FROM events WHERE resource_id = ? AND resource_type = 'User' ORDER BY resource_version DESC, seq DESC LIMIT 1",
    )
      .bind(id)
      .first<{ meta: string }>();
    const lastMeta = JSON.parse(last?.meta ?? "{}") as Json;
    const meta = user.meta as Json;
    // Everything the user is but its meta's version and time, which must be those of its last event.
    expect({ ...meta, version: lastMeta.version, lastModified: lastMeta.lastModified }).toEqual(lastMeta);
    users[id] = { ...user, roles: [{ value: siteRole(user), primary: true }], meta: lastMeta };
  }
  const groups: Record<string, { group: Json; members: string[] }> = {};
  for (const { id } of (await env.DB.prepare("SELECT id FROM groups").all<{ id: string }>()).results) {
    const group = await expectStatus(await scim("GET", `/Groups/${id}?excludedAttributes=members`), 200);
    const members = (
      await env.DB.prepare("SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id").bind(id).all<{ user_id: string }>()
    ).results.map((r) => r.user_id);
    groups[id] = { group, members: members.sort() };
  }
  return { users, groups };
}
