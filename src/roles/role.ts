/** The site roles (SPEC §5), lowest first: admins have moderator privileges; moderators do not have admin privileges. */
const ROLES = ["registered", "moderator", "admin"] as const;

export type Role = (typeof ROLES)[number];

/** A role's place in the order: a higher rank has every privilege of a lower one. */
export const RANK: Readonly<Record<Role, number>> = { registered: 0, moderator: 1, admin: 2 };

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
