import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import { isRole, type Role } from "../roles/rules";
import type { UserState } from "../users/view";
import type { Db } from "./client";
import { groupMembers, groups, users } from "./schema";

export type UserRow = typeof users.$inferSelect;

/** The indexed columns derived from a user's SCIM data. */
export interface UserColumns {
  userName: string;
  userNameNorm: string;
  externalId: string | null;
  displayName: string | null;
  emailNorm: string | null;
  userType: string | null;
}

export function rowToState(row: UserRow): UserState {
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.data);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    data = { userName: row.userName };
  }
  return {
    id: row.id,
    data,
    active: row.active,
    role: isRole(row.role) ? row.role : "registered",
    typeRole: isRole(row.typeRole) ? row.typeRole : null,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export const selectUserById = (db: Db, id: string) => db.select().from(users).where(eq(users.id, id));

/** The user's memberships among the given groups (the mapped role groups). */
export function selectMembershipsIn(db: Db, userId: string, groupIds: string[]) {
  return db
    .select({ groupId: groupMembers.groupId })
    .from(groupMembers)
    .where(and(eq(groupMembers.userId, userId), inArray(groupMembers.groupId, groupIds.length ? groupIds : [""])));
}

/** The read-only `groups` of the given users, with display names. */
export function selectGroupsOfUsers(db: Db, userIds: SQL | string[]) {
  const condition = Array.isArray(userIds)
    ? inArray(groupMembers.userId, userIds.length ? userIds : [""])
    : sql`${groupMembers.userId} IN (${userIds})`;
  return db
    .select({ userId: groupMembers.userId, value: groups.id, display: groups.displayName })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(condition);
}

export function insertUser(db: Db, s: UserState, cols: UserColumns, passwordHash: string | null) {
  return db.insert(users).values({
    id: s.id,
    ...cols,
    active: s.active,
    role: s.role,
    typeRole: s.typeRole,
    data: JSON.stringify(s.data),
    passwordHash,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  });
}

/** Compare-and-set update: changes the row only if it is still at `expectedVersion`. */
export function updateUserCas(
  db: Db,
  s: UserState,
  cols: UserColumns,
  expectedVersion: number,
  passwordHash: string | undefined,
) {
  return db
    .update(users)
    .set({
      ...cols,
      active: s.active,
      role: s.role,
      typeRole: s.typeRole,
      data: JSON.stringify(s.data),
      ...(passwordHash !== undefined ? { passwordHash } : {}),
      version: s.version,
      updatedAt: s.updatedAt,
    })
    .where(and(eq(users.id, s.id), eq(users.version, expectedVersion)));
}

export const deleteUserCas = (db: Db, id: string, expectedVersion: number) =>
  db.delete(users).where(and(eq(users.id, id), eq(users.version, expectedVersion)));

export const deleteMembershipsOfUser = (db: Db, id: string) => db.delete(groupMembers).where(eq(groupMembers.userId, id));

export function roleOrRegistered(value: unknown): Role {
  return isRole(value) ? value : "registered";
}

/** Role-only compare-and-set update (group mapping changes a member's role). */
export function updateUserRoleCas(db: Db, id: string, role: Role, expectedVersion: number, at: string) {
  return db
    .update(users)
    .set({ role, version: expectedVersion + 1, updatedAt: at })
    .where(and(eq(users.id, id), eq(users.version, expectedVersion)));
}
