/**
 * Site role rules (SPEC §5, §6). Pure: given the current role, what userType asserts and what
 * group membership grants, decide the role and say why in words for the provisioning log.
 */
export type Role = "registered" | "moderator" | "admin";

const ROLES: readonly Role[] = ["registered", "moderator", "admin"];
const RANK: Record<Role, number> = { registered: 0, moderator: 1, admin: 2 };

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** userType names a role only when it is, case-insensitively, Registered, Moderator or Admin. */
export function roleFromUserType(userType: unknown): Role | undefined {
  if (typeof userType !== "string") return undefined;
  const lower = userType.trim().toLowerCase();
  return isRole(lower) ? lower : undefined;
}

export interface PromotionSettings {
  allowModeratorPromotion: boolean;
  allowAdminPromotion: boolean;
}

export interface RoleSources {
  current: Role;
  /** The role userType asserts (the latest recognised value), or null if it never named one. */
  typeRole: Role | null;
  /** The highest role granted by membership of the mapped moderator/admin groups, or null. */
  groupRole: Role | null;
}

export interface RoleDecision {
  role: Role;
  changed: boolean;
  /** A line for the provisioning log, when there was something to decide. */
  reason?: string;
}

function higher(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The effective role is the highest any source grants. A change whose current or new role is
 * admin needs allowAdminPromotion; otherwise one touching moderator needs
 * allowModeratorPromotion. A change not allowed keeps the current role.
 */
export function decideRole(sources: RoleSources, settings: PromotionSettings): RoleDecision {
  const { current } = sources;
  const wanted = higher(sources.typeRole, sources.groupRole);
  if (wanted === null || wanted === current) return { role: current, changed: false };
  const via = wanted === sources.groupRole && wanted !== sources.typeRole ? "group mapping" : "userType";
  const involvesAdmin = current === "admin" || wanted === "admin";
  if (involvesAdmin && !settings.allowAdminPromotion) {
    return { role: current, changed: false, reason: `role kept: ${current} (${via} asks for ${wanted}); admin promotion off` };
  }
  if (!involvesAdmin && !settings.allowModeratorPromotion) {
    return { role: current, changed: false, reason: `role kept: ${current} (${via} asks for ${wanted}); moderator promotion off` };
  }
  return { role: wanted, changed: true, reason: `role changed: ${current} → ${wanted} (${via})` };
}

/**
 * The role the mapped groups grant to a member of `groupIds`. With a mapping configured, a
 * user in none of the mapped groups is granted `registered`, so leaving the group demotes;
 * with no mapping, groups have no say (null).
 */
export function roleFromGroups(
  groupIds: readonly string[],
  mapping: { moderatorGroup: string | null; adminGroup: string | null },
): Role | null {
  if (mapping.adminGroup !== null && groupIds.includes(mapping.adminGroup)) return "admin";
  if (mapping.moderatorGroup !== null && groupIds.includes(mapping.moderatorGroup)) return "moderator";
  return mapping.adminGroup === null && mapping.moderatorGroup === null ? null : "registered";
}
