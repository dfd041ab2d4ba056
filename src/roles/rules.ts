/**
 * Site role rules (SPEC §5, §6), pure: one decision over the user's *current* sources, the
 * current role and the two promotion settings. Nothing is remembered between decisions: a role
 * that no current source grants is not kept alive by a source that granted it once.
 *
 * 1. What each source grants (src/roles/sources.ts), README "Roles: the rules":
 *    - userType: the role it names (Registered, Moderator, Admin in any case); absent or any
 *      other value (Okta's "Employee") grants nothing;
 *    - roles: the highest role its entries name (an entry's `value`, else its `display`); only
 *      other values (Entra's "User" app role), or none left of those the IdP wrote before (an
 *      entitlement revoked), grants nothing; roles the IdP never wrote for the user say nothing;
 *    - mapped groups, when a group is mapped: admin for a member of the admin group, else moderator
 *      for a member of the moderator group, else registered ("in no mapped group").
 * 2. The wanted role is the highest role any source grants. When none grants one it is
 *    registered, except that a userType naming no role, for a user whose IdP has never written
 *    `roles` and with no group mapped, leaves the role as it is (SPEC §5: "any other userType
 *    value leaves the role as it is"). Once an IdP writes `roles`, its silence is "no role":
 *    revoking the last entitlement demotes even a user whose userType is "Employee".
 * 3. The gate: a change whose current or new role is admin needs allowAdminPromotion; any other
 *    change needs allowModeratorPromotion. Keeping the current role needs nothing.
 * 4. When the gate refuses the wanted role, the user gets the highest role that some source
 *    grants and the gate allows (keeping the current role, when a source grants it, is always
 *    allowed); when the gate allows none of them, the current role is kept. So a user never gets
 *    a role that no current source grants, and a setting that is off freezes what it governs:
 *    an admin stays admin while admin promotion is off, whatever the sources say now.
 * Each decision that changes or keeps a role against the sources says why, in the reason.
 */
import { RANK, type Role } from "./role";
import { type GroupSource, type RolesSource, roleSourcesOf, type UserRoleSources, type UserTypeSource } from "./sources";

export interface PromotionSettings {
  allowModeratorPromotion: boolean;
  allowAdminPromotion: boolean;
}

export interface RoleSources extends UserRoleSources {
  current: Role;
  group: GroupSource | null;
}

export interface RoleDecision {
  role: Role;
  changed: boolean;
  /** A line for the provisioning log, when there was something to decide. */
  reason?: string;
}

/** One source's grant, and the source in words. */
interface Grant {
  role: Role;
  via: string;
}

function grantsOf({ userType, roles, group }: RoleSources): Grant[] {
  const grants: Grant[] = [];
  if (userType.kind === "role") grants.push({ role: userType.role, via: "userType" });
  if (roles.kind === "role") grants.push({ role: roles.role, via: "roles" });
  if (group) {
    const via =
      group.group === undefined ? `${userType.kind === "absent" ? "no userType, " : ""}in no mapped group` : `mapped group ${group.group}`;
    grants.push({ role: group.role, via });
  }
  return grants;
}

/** "a", "a and b", "a, b and c". */
function listed(parts: readonly string[]): string {
  return parts.length < 2 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

/** The sources that grant `role`, in words ("userType and mapped group Site Admins"). */
const viaOf = (grants: readonly Grant[], role: Role): string => listed(grants.filter((g) => g.role === role).map((g) => g.via));

/** Why registered, when no source grants a role: what each says ("no userType and no mapped group"). */
function noGrantVia(userType: UserTypeSource, roles: RolesSource, group: GroupSource | null): string {
  const parts = [userType.kind === "other" ? `userType "${userType.value}" names no role` : "no userType"];
  if (roles.kind === "other") parts.push("no site role in roles");
  if (group === null) parts.push("no mapped group");
  return listed(parts);
}

/** The role the sources want and in words where it comes from; undefined: leave the role as it is. */
function wantedRole(sources: RoleSources, grants: readonly Grant[]): Grant | undefined {
  const top = grants.reduce<Grant | undefined>((best, g) => (best === undefined || RANK[g.role] > RANK[best.role] ? g : best), undefined);
  if (top) return { role: top.role, via: viaOf(grants, top.role) };
  const { userType, roles, group } = sources;
  if (userType.kind === "other" && roles.kind === "absent" && group === null) return undefined;
  return { role: "registered", via: noGrantVia(userType, roles, group) };
}

/** The setting a change from `current` to `to` needs (SPEC §5), or undefined when it is no change. */
function settingFor(current: Role, to: Role): "admin" | "moderator" | undefined {
  if (current === to) return undefined;
  return current === "admin" || to === "admin" ? "admin" : "moderator";
}

function allows(settings: PromotionSettings, current: Role, to: Role): boolean {
  const setting = settingFor(current, to);
  return setting === undefined || (setting === "admin" ? settings.allowAdminPromotion : settings.allowModeratorPromotion);
}

/** The decision (SPEC §5): the wanted role, or the highest granted role the gate allows. */
export function decideRole(sources: RoleSources, settings: PromotionSettings): RoleDecision {
  const { current } = sources;
  const grants = grantsOf(sources);
  const wanted = wantedRole(sources, grants);
  if (wanted === undefined || wanted.role === current) return { role: current, changed: false };
  if (allows(settings, current, wanted.role)) {
    return { role: wanted.role, changed: true, reason: `role changed: ${current} → ${wanted.role} (${wanted.via})` };
  }
  const off = `${settingFor(current, wanted.role)} promotion off`;
  // The highest role some source grants that the gate allows (the current one, when granted, always is).
  const fallback = grants
    .filter((g) => allows(settings, current, g.role))
    .reduce<Role | undefined>((best, g) => (best === undefined || RANK[g.role] > RANK[best] ? g.role : best), undefined);
  if (fallback === undefined) {
    return { role: current, changed: false, reason: `role kept: ${current} (${wanted.via} asks for ${wanted.role}); ${off}` };
  }
  const refused = `${wanted.role} from ${wanted.via} refused: ${off}`;
  if (fallback === current) {
    return { role: current, changed: false, reason: `role kept: ${current} (${viaOf(grants, current)}); ${refused}` };
  }
  return { role: fallback, changed: true, reason: `role changed: ${current} → ${fallback} (${viaOf(grants, fallback)}); ${refused}` };
}

/**
 * The decision for a user as stored: its own sources read from its SCIM data (userType, roles),
 * the group source from its memberships. The one entry point of every place a role is decided.
 */
export function decideUserRole(
  user: { role: Role; data: Readonly<Record<string, unknown>>; rolesManaged: boolean },
  group: GroupSource | null,
  settings: PromotionSettings,
): RoleDecision {
  return decideRole({ current: user.role, ...roleSourcesOf(user.data, user.rolesManaged), group }, settings);
}
