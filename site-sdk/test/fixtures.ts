import type { Role, ScimEvent, ScimGroup, ScimUser } from "../src/index.js";

const AT = "2026-12-01T10:00:00.000Z";
const BASE = "https://scim.example.com/api/scim/v2";

export function user(id: string, version: number, fields: { active?: boolean; role?: Role; title?: string } = {}): ScimUser {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    id,
    userName: `${id}@example.com`,
    ...(fields.title === undefined ? {} : { title: fields.title }),
    active: fields.active ?? true,
    roles: [{ value: fields.role ?? "registered", primary: true }],
    meta: { resourceType: "User", created: AT, lastModified: AT, location: `${BASE}/Users/${id}`, version: `W/"${version}"` },
  };
}

export function group(id: string, version: number, displayName = `Group ${id}`): ScimGroup {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    id,
    displayName,
    meta: { resourceType: "Group", created: AT, lastModified: AT, location: `${BASE}/Groups/${id}`, version: `W/"${version}"` },
  };
}

type UserFields = Parameters<typeof user>[2];

/** One event of each kind, valid by the published schemas, built from a few facts. */
export const events = {
  created: (id: string, v: number, f?: UserFields): ScimEvent => ({
    type: "user.created",
    timestamp: AT,
    data: { id, version: v, user: user(id, v, f), changes: {} },
  }),
  updated: (id: string, v: number, f?: UserFields): ScimEvent => ({
    type: "user.updated",
    timestamp: AT,
    data: { id, version: v, user: user(id, v, f), changes: { attributes: ["title"] } },
  }),
  deactivated: (id: string, v: number, f?: UserFields): ScimEvent => ({
    type: "user.deactivated",
    timestamp: AT,
    data: { id, version: v, user: user(id, v, { ...f, active: false }), changes: { active: { from: true, to: false } } },
  }),
  reactivated: (id: string, v: number, f?: UserFields): ScimEvent => ({
    type: "user.reactivated",
    timestamp: AT,
    data: { id, version: v, user: user(id, v, { ...f, active: true }), changes: { active: { from: false, to: true } } },
  }),
  roleChanged: (id: string, v: number, from: Role, to: Role): ScimEvent => ({
    type: "user.role_changed",
    timestamp: AT,
    data: { id, version: v, user: user(id, v, { role: to }), changes: { role: { from, to }, reason: `role changed: ${from} → ${to}` } },
  }),
  userDeleted: (id: string, v: number): ScimEvent => ({
    type: "user.deleted",
    timestamp: AT,
    data: { id, version: v, user: user(id, v), changes: {} },
  }),
  userSynced: (id: string, v: number, f?: UserFields): ScimEvent => ({
    type: "user.synced",
    timestamp: AT,
    data: { id, version: v, user: user(id, v, f), resync: "job_1" },
  }),
  groupCreated: (id: string, v: number, members: string[]): ScimEvent => ({
    type: "group.created",
    timestamp: AT,
    data: { id, version: v, group: group(id, v), changes: { members } },
  }),
  groupUpdated: (id: string, v: number, displayName: string): ScimEvent => ({
    type: "group.updated",
    timestamp: AT,
    data: { id, version: v, group: group(id, v, displayName), changes: { attributes: ["displayName"] } },
  }),
  added: (id: string, v: number, members: string[], displayName?: string): ScimEvent => ({
    type: "group.members_added",
    timestamp: AT,
    data: { id, version: v, group: group(id, v, displayName), changes: { members } },
  }),
  removed: (id: string, v: number, members: string[], displayName?: string): ScimEvent => ({
    type: "group.members_removed",
    timestamp: AT,
    data: { id, version: v, group: group(id, v, displayName), changes: { members } },
  }),
  groupDeleted: (id: string, v: number, members: string[]): ScimEvent => ({
    type: "group.deleted",
    timestamp: AT,
    data: { id, version: v, group: group(id, v), changes: { members } },
  }),
  groupSynced: (id: string, v: number, members: string[], part = 1, parts = 1, displayName?: string): ScimEvent => ({
    type: "group.synced",
    timestamp: AT,
    data: { id, version: v, group: group(id, v, displayName), members, part, parts, resync: "job_1" },
  }),
};
