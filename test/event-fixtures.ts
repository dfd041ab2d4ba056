import type { EventData, EventType } from "../src/events/catalog";

const AT = "2026-12-01T10:00:00.000Z";
const BASE = "https://scim.test/api/scim/v2";

/** A user as the service renders it (src/resources/user.ts). */
function sampleUser(id: string, version: number, active = true): EventData<"user.created">["user"] {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    id,
    userName: `${id}@example.com`,
    active,
    roles: [{ value: "registered", primary: true }],
    meta: { resourceType: "User", created: AT, lastModified: AT, location: `${BASE}/Users/${id}`, version: `W/"${version}"` },
  };
}

function sampleGroup(id: string, version: number, displayName = "Engineering"): EventData<"group.created">["group"] {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    id,
    displayName,
    meta: { resourceType: "Group", created: AT, lastModified: AT, location: `${BASE}/Groups/${id}`, version: `W/"${version}"` },
  };
}

/**
 * The `data` of an event of `type` about `resourceId` (without id and version, which the outbox
 * writes), valid by its published schema: for tests that write events straight into the outbox.
 */
export function sampleData(type: EventType, resourceId: string, version = 1, members: string[] = ["u1"]): Record<string, unknown> {
  const user = (active = true) => sampleUser(resourceId, version, active);
  const group = sampleGroup(resourceId, version);
  switch (type) {
    case "user.created":
    case "user.deleted":
      return { user: user(), changes: {} };
    case "user.updated":
      return { user: user(), changes: { attributes: ["title"] } };
    case "user.deactivated":
      return { user: user(false), changes: { active: { from: true, to: false } } };
    case "user.reactivated":
      return { user: user(), changes: { active: { from: false, to: true } } };
    case "user.role_changed":
      return {
        user: user(),
        changes: { role: { from: "moderator", to: "registered" }, reason: "role changed: moderator → registered (userType)" },
      };
    case "user.synced":
      return { user: user(), resync: "job_test" };
    case "group.created":
    case "group.deleted":
    case "group.members_added":
    case "group.members_removed":
      return { group, changes: { members } };
    case "group.updated":
      return { group, changes: { attributes: ["displayName"] } };
    case "group.synced":
      return { group, members, part: 1, parts: 1, resync: "job_test" };
  }
}
