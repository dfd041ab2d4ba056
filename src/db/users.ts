import { eq, inArray, type SQL, sql } from "drizzle-orm";
import type { GroupRef, UserColumns, UserState } from "../resources/user";
import { isRole } from "../roles/role";
import type { Db } from "./client";
import type { u } from "./filter-sql";
import { groupMembers, groups, users } from "./schema";

export type UserRow = typeof users.$inferSelect;

/** A row's stored SCIM data; an unreadable JSON document reads as just the userName. */
export function storedUserData(row: Pick<UserRow, "data" | "userName">): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(row.data);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return {};
  } catch {
    return { userName: row.userName };
  }
}

/** A stored row as state. */
export function userStateOf(row: StoredUser): UserState {
  return {
    id: row.id,
    data: storedUserData(row),
    active: row.active,
    role: isRole(row.role) ? row.role : "registered",
    rolesManaged: row.rolesManaged,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * The columns a user's state is read from. Reads leave out the rest: the folded copy, the
 * password hash and the indexed columns would about double what every GET and write load carries.
 */
export const stateColumns = (t: typeof users | typeof u) => ({
  id: t.id,
  userName: t.userName,
  data: t.data,
  active: t.active,
  role: t.role,
  rolesManaged: t.rolesManaged,
  version: t.version,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
});

type StoredUser = Pick<UserRow, keyof ReturnType<typeof stateColumns>>;

export const selectUserById = (db: Db, id: string) => db.select(stateColumns(users)).from(users).where(eq(users.id, id));

/** The groups one user belongs to, as full rows (their events need the whole group). */
export const selectGroupRowsOfUser = (db: Db, userId: string) =>
  db
    .select({ group: groups })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId));

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

/** The `groups` column of a list page (src/db/lists.ts); anything unexpected reads as no groups. */
export function parseGroupRefs(json: string): GroupRef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((g: unknown) => {
    if (typeof g !== "object" || g === null) return [];
    const { value, display } = g as Record<string, unknown>;
    return typeof value === "string" && typeof display === "string" ? [{ value, display }] : [];
  });
}

export function insertUser(db: Db, s: UserState, cols: UserColumns, passwordHash: string | null) {
  return db.insert(users).values({
    id: s.id,
    ...cols,
    active: s.active,
    role: s.role,
    rolesManaged: s.rolesManaged,
    data: JSON.stringify(s.data),
    passwordHash,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  });
}

/** The columns a user write sets besides its version (src/write/cas.ts updateUser). */
export function userSet(s: UserState, cols: UserColumns, passwordHash: string | undefined) {
  return {
    ...cols,
    active: s.active,
    role: s.role,
    rolesManaged: s.rolesManaged,
    data: JSON.stringify(s.data),
    ...(passwordHash !== undefined ? { passwordHash } : {}),
    updatedAt: s.updatedAt,
  };
}

/**
 * One row `{ holds }`: 1 while no user but `id` has this folded userName (a write's uniqueness
 * claim), as users_user_name_norm_uq counts it: a legacy duplicate the refold recorded
 * (user_name_dup, src/db/fold.ts) neither takes the name from others nor is refused it.
 */
export const userNameFree = (db: Db, id: string, userNameNorm: string) =>
  db
    .select({
      holds: sql<number>`NOT (coalesce((SELECT ${users.userNameDup} = ${userNameNorm} FROM ${users} WHERE ${users.id} = ${id}), 0) = 0
        AND EXISTS (SELECT 1 FROM ${users} o WHERE o.user_name_norm = ${userNameNorm} AND o.id <> ${id} AND o.user_name_dup IS NOT o.user_name_norm))`,
    })
    .from(sql`(SELECT 1)`);

export const deleteMembershipsOfUser = (db: Db, id: string) => db.delete(groupMembers).where(eq(groupMembers.userId, id));
