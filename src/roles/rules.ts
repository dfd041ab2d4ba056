/**
 * Site role rules (SPEC §5, §6), pure: one decision over the user's *current* sources, the
 * current role and the two promotion settings. Nothing is remembered between decisions: a role
 * that no current source grants is not kept alive by a source that granted it once.
 *
 * The wanted role (README "Roles: the rules"):
 *
 * | current userType                      | a group is mapped | wanted role                                  |
 * |---------------------------------------|-------------------|----------------------------------------------|
 * | Registered, Moderator, Admin (any case) | no              | that role                                    |
 * | Registered, Moderator, Admin (any case) | yes             | the higher of that role and the group role   |
 * | absent (never sent, or removed)       | no                | registered                                   |
 * | absent                                | yes               | the group role                               |
 * | any other value (Okta's "Employee")   | no                | the current role: the value names no role    |
 * | any other value                       | yes               | the group role                               |
 *
 * The group role is admin for a member of the admin group, else moderator for a member of the
 * moderator group, else registered. Then the gate: a change whose current or wanted role is
 * admin needs allowAdminPromotion; any other change needs allowModeratorPromotion. A change the
 * gate refuses keeps the current role, and the reason says which setting is off.
 */
export type Role = "registered" | "moderator" | "admin";

const ROLES: readonly Role[] = ["registered", "moderator", "admin"];
const RANK: Record<Role, number> = { registered: 0, moderator: 1, admin: 2 };

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** What the current userType says: a role, nothing (absent), or a value that names no role. */
export type UserTypeSource = { kind: "role"; role: Role } | { kind: "absent" } | { kind: "other"; value: string };

/** userType names a role only when it is, case-insensitively, Registered, Moderator or Admin. */
export function userTypeSource(userType: unknown): UserTypeSource {
  if (typeof userType !== "string" || userType.trim() === "") return { kind: "absent" };
  const lower = userType.trim().toLowerCase();
  return isRole(lower) ? { kind: "role", role: lower } : { kind: "other", value: userType };
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

export interface PromotionSettings {
  allowModeratorPromotion: boolean;
  allowAdminPromotion: boolean;
}

export interface RoleSources {
  current: Role;
  userType: UserTypeSource;
  group: GroupSource | null;
}

export interface RoleDecision {
  role: Role;
  changed: boolean;
  /** A line for the provisioning log, when there was something to decide. */
  reason?: string;
  /** Where a changed role came from, in words ("userType", "mapped group Site Moderators"). */
  via?: string;
}

/** The role the sources want, and in words where it comes from; undefined: keep the current role. */
function wantedRole(sources: RoleSources): { role: Role; via: string } | undefined {
  const { userType, group } = sources;
  const fromGroup = group && { role: group.role, via: group.group === undefined ? "in no mapped group" : `mapped group ${group.group}` };
  if (userType.kind === "role") {
    if (!fromGroup || RANK[userType.role] > RANK[fromGroup.role]) return { role: userType.role, via: "userType" };
    if (RANK[fromGroup.role] > RANK[userType.role]) return fromGroup;
    return { role: userType.role, via: `userType and ${fromGroup.via}` };
  }
  if (fromGroup)
    return userType.kind === "absent" && group?.group === undefined ? { ...fromGroup, via: `no userType, ${fromGroup.via}` } : fromGroup;
  return userType.kind === "absent" ? { role: "registered", via: "no userType and no mapped group" } : undefined;
}

/** The decision: the wanted role, unless the gate refuses the change (SPEC §5). */
export function decideRole(sources: RoleSources, settings: PromotionSettings): RoleDecision {
  const { current } = sources;
  const wanted = wantedRole(sources);
  if (wanted === undefined || wanted.role === current) return { role: current, changed: false };
  const involvesAdmin = current === "admin" || wanted.role === "admin";
  if (involvesAdmin && !settings.allowAdminPromotion) {
    return { role: current, changed: false, reason: `role kept: ${current} (${wanted.via} asks for ${wanted.role}); admin promotion off` };
  }
  if (!involvesAdmin && !settings.allowModeratorPromotion) {
    return {
      role: current,
      changed: false,
      reason: `role kept: ${current} (${wanted.via} asks for ${wanted.role}); moderator promotion off`,
    };
  }
  return { role: wanted.role, changed: true, via: wanted.via, reason: `role changed: ${current} → ${wanted.role} (${wanted.via})` };
}
