import { and, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { GroupRef, UserColumns, UserState } from "../resources/user";
import { isRole, type Role } from "../roles/rules";
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
    data: JSON.stringify(s.data),
    passwordHash,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  });
}

/** Compare-and-set update: changes the row only if it is still at `expectedVersion`. */
export function updateUserCas(db: Db, s: UserState, cols: UserColumns, expectedVersion: number, passwordHash: string | undefined) {
  return db
    .update(users)
    .set({
      ...cols,
      active: s.active,
      role: s.role,
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

/** Role-only compare-and-set update (group mapping changes a member's role). */
export function updateUserRoleCas(db: Db, id: string, role: Role, expectedVersion: number, at: string) {
  return db
    .update(users)
    .set({ role, version: expectedVersion + 1, updatedAt: at })
    .where(and(eq(users.id, id), eq(users.version, expectedVersion)));
}

/** Rows whose folded copy is still to be filled in (users_unfolded_idx), oldest first. */
export const selectUnfolded = (db: Db, limit: number) =>
  db
    .select({ seq: users.seq, version: users.version, data: users.data, userName: users.userName })
    .from(users)
    .where(isNull(users.dataFold))
    .orderBy(users.seq)
    .limit(limit);

/**
 * Fills in data_fold for many rows in ONE statement (their folds as one JSON parameter). A row
 * written since it was read (its version moved) is left alone: that write set its own fold.
 */
export const fillFolded = (db: Db, folds: readonly { seq: number; version: number; fold: string }[]) =>
  db.run(sql`UPDATE ${users} SET data_fold = json_extract(f.value, '$.fold')
    FROM json_each(${JSON.stringify(folds)}) AS f
    WHERE ${users.seq} = json_extract(f.value, '$.seq') AND ${users.version} = json_extract(f.value, '$.version') AND ${users.dataFold} IS NULL`);
