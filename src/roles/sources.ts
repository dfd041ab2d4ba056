/**
 * What each of a user's role sources says now (SPEC §5, §6), read from the user's stored SCIM
 * data and its memberships; pure. Every place a role is decided reads the sources through here
 * (`roleSourcesOf`), so the user's own writes, a mapped group's membership change and the
 * background re-evaluation can never read a different set of sources.
 */
import { isRole, RANK, type Role } from "./role";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);

/** The role a text names: Registered, Moderator or Admin, in any letter case, around spaces. */
function roleNamed(text: unknown): Role | undefined {
  if (typeof text !== "string") return undefined;
  const lower = text.trim().toLowerCase();
  return isRole(lower) ? lower : undefined;
}

/** What the current userType says: a role, nothing (absent), or a value that names no role. */
export type UserTypeSource = { kind: "role"; role: Role } | { kind: "absent" } | { kind: "other"; value: string };

/** userType names a role only when it is, case-insensitively, Registered, Moderator or Admin. */
export function userTypeSource(userType: unknown): UserTypeSource {
  if (nonEmpty(userType) === undefined) return { kind: "absent" };
  const role = roleNamed(userType);
  return role ? { kind: "role", role } : { kind: "other", value: String(userType) };
}

/**
 * What the current `roles` attribute says: nothing (the IdP has never written it for this user),
 * the highest role its entries name, or no site role: entries none of which names one (Entra's
 * "User" app role), or none left of the roles the IdP wrote before (an entitlement revoked).
 */
export type RolesSource = { kind: "absent" } | { kind: "role"; role: Role } | { kind: "other" };

/**
 * Entra's PATCH of an app role without the aadOptscim062020 flag sends the assignment JSON-encoded
 * in `value` (`{"id":"…","value":"Admin","displayName":"Admin"}`; Microsoft's "Provisioning a role
 * to a SCIM app"): the role is its inner value, else its displayName.
 */
function entraEncoded(value: string): string | undefined {
  if (!value.trimStart().startsWith("{")) return undefined;
  try {
    const inner: unknown = JSON.parse(value);
    return isRecord(inner) ? (nonEmpty(inner.value) ?? nonEmpty(inner.displayName)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The text one `roles` entry names its role by: its `value` (Okta sends a /Roles id, Entra the app
 * role's value), or, when it has none, its `display`.
 */
function roleEntryName(entry: unknown): string | undefined {
  if (!isRecord(entry)) return undefined;
  const value = nonEmpty(entry.value);
  if (value !== undefined) return entraEncoded(value) ?? value;
  return nonEmpty(entry.display);
}

export function rolesSource(roles: unknown, managed: boolean): RolesSource {
  const entries = Array.isArray(roles) ? roles : [];
  if (entries.length === 0) return managed ? { kind: "other" } : { kind: "absent" };
  let best: Role | undefined;
  for (const entry of entries) {
    const role = roleNamed(roleEntryName(entry));
    if (role && (best === undefined || RANK[role] > RANK[best])) best = role;
  }
  return best ? { kind: "role", role: best } : { kind: "other" };
}

/** The entries of `roles` that name no site role, as their names (for the log: kept as sent, no role). */
export function rolesNamingNothing(roles: unknown): string[] {
  const entries = Array.isArray(roles) ? roles : [];
  return entries.flatMap((entry) => {
    const name = roleEntryName(entry);
    return roleNamed(name) ? [] : [name ?? JSON.stringify(entry)];
  });
}

/** The role the mapped groups grant, and the name of the group that grants it (for the log). */
export interface GroupSource {
  role: Role;
  /** The granting group's displayName (or id); undefined for "in no mapped group". */
  group: string | undefined;
}

export interface RoleMapping {
  moderatorGroup: string | null;
  adminGroup: string | null;
}

/**
 * The group source of a user who is a member of `groupIds` (only the mapped ones matter), or
 * null when no group is mapped: then groups have no say. `names` gives displayNames for the log.
 */
export function groupSource(
  groupIds: Iterable<string>,
  mapping: RoleMapping,
  names: ReadonlyMap<string, string> = new Map(),
): GroupSource | null {
  if (mapping.adminGroup === null && mapping.moderatorGroup === null) return null;
  const member = new Set(groupIds);
  const named = (id: string) => names.get(id) ?? id;
  if (mapping.adminGroup !== null && member.has(mapping.adminGroup)) return { role: "admin", group: named(mapping.adminGroup) };
  if (mapping.moderatorGroup !== null && member.has(mapping.moderatorGroup)) {
    return { role: "moderator", group: named(mapping.moderatorGroup) };
  }
  return { role: "registered", group: undefined };
}

/** The two sources a user's own data holds: its userType and its roles. */
export interface UserRoleSources {
  userType: UserTypeSource;
  roles: RolesSource;
}

/** Whether this data holds `roles` entries: writing them makes `roles` the user's source for good (UserState.rolesManaged). */
export const writesRoles = (data: Readonly<Record<string, unknown>>): boolean => Array.isArray(data.roles) && data.roles.length > 0;

/**
 * The user's own sources from its stored SCIM data (canonical attribute names, src/scim/resource.ts)
 * and whether its IdP has written `roles` before.
 */
export function roleSourcesOf(data: Readonly<Record<string, unknown>>, rolesManaged: boolean): UserRoleSources {
  return { userType: userTypeSource(data.userType), roles: rolesSource(data.roles, rolesManaged || writesRoles(data)) };
}
