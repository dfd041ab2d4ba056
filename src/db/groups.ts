import { and, eq, sql } from "drizzle-orm";
import type { GroupState } from "../resources/group";
import type { Db } from "./client";
import { groupMembers, groups, users } from "./schema";
import { idsIn } from "./sql";

export type GroupRow = typeof groups.$inferSelect;

/** A stored group row as state; the columns stand in if the JSON is unreadable. */
export function groupStateOf(row: GroupRow): GroupState {
  let data: Record<string, unknown> = { displayName: row.displayName };
  try {
    const parsed: unknown = JSON.parse(row.data);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    // keep the columns' view
  }
  return { id: row.id, data, version: row.version, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

export const selectGroupById = (db: Db, id: string) => db.select().from(groups).where(eq(groups.id, id));

/** A group's version (a membership-only write reads the one its batch left). */
export const selectGroupVersion = (db: Db, id: string) => db.select({ version: groups.version }).from(groups).where(eq(groups.id, id));

/** Which of `ids` are users (to refuse unknown member ids with their names). */
export const selectExistingUserIds = (db: Db, ids: readonly string[]) =>
  db
    .select({ id: users.id })
    .from(users)
    .where(sql`${users.id} IN ${idsIn(ids)}`);

/** Which of `ids` are already members of the group. */
export const selectMembersAmong = (db: Db, groupId: string, ids: readonly string[]) =>
  db
    .select({ userId: groupMembers.userId })
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), sql`${groupMembers.userId} IN ${idsIn(ids)}`));

export const selectAllMemberIds = (db: Db, groupId: string) =>
  db.select({ userId: groupMembers.userId }).from(groupMembers).where(eq(groupMembers.groupId, groupId));

/**
 * Each group's `members` as SCIM shows them, built by SQLite as one JSON array per group
 * (`{"value","$ref","display","type"}`, display the user's displayName else userName, in the
 * order they were added): the answer carries the text as it is (src/scim/json-text.ts).
 */
export function selectMembersJson(db: Db, groupIds: readonly string[], baseUrl: string) {
  // Qualified by hand: drizzle writes a bare "id" in the select list of a query without joins,
  // which inside this subquery would be the member's.
  const groupId = sql`${sql.identifier("groups")}.${sql.identifier("id")}`;
  const member = sql`json_object('value', gm.user_id, '$ref', ${`${baseUrl}/Users/`} || gm.user_id, 'display', coalesce(mu.display_name, mu.user_name), 'type', 'User')`;
  return db
    .select({
      groupId: groups.id,
      members: sql<string>`(SELECT json_group_array(${member} ORDER BY gm.added_at, gm.user_id)
        FROM ${groupMembers} gm JOIN ${users} mu ON mu.id = gm.user_id WHERE gm.group_id = ${groupId})`,
    })
    .from(groups)
    .where(sql`${groups.id} IN ${idsIn(groupIds)}`);
}

export function insertGroup(db: Db, row: typeof groups.$inferInsert) {
  return db.insert(groups).values(row);
}

export const addMembers = (db: Db, groupId: string, ids: readonly string[], at: string) =>
  db
    .insert(groupMembers)
    .select(sql`SELECT ${groupId}, value, ${at} FROM json_each(${JSON.stringify(ids)}) WHERE true`)
    .onConflictDoNothing();

export const removeMembers = (db: Db, groupId: string, ids: readonly string[]) =>
  db.delete(groupMembers).where(and(eq(groupMembers.groupId, groupId), sql`${groupMembers.userId} IN ${idsIn(ids)}`));

export const deleteAllMembers = (db: Db, groupId: string) => db.delete(groupMembers).where(eq(groupMembers.groupId, groupId));

/**
 * The users a membership change may affect: those named in it, plus every current member of
 * `allOf` when the change replaces or clears the whole list. Read only for a mapped role group.
 */
function affectedUsers(ids: readonly string[], allOf: string | null) {
  const named = sql`${users.id} IN ${idsIn(ids)}`;
  return allOf === null ? named : sql`(${named} OR ${users.id} IN (SELECT user_id FROM group_members WHERE group_id = ${allOf}))`;
}

/** At most `limit` of them: more than a change decides inline (src/membership/effects.ts INLINE_ROLE_LIMIT) is not read. */
export const selectUsersForRoles = (db: Db, ids: readonly string[], allOf: string | null, limit: number) =>
  db.select().from(users).where(affectedUsers(ids, allOf)).limit(limit);

/** Those users' memberships in the mapped role groups (two per user at most), for their role decisions. */
export const selectRoleMembershipsFor = (
  db: Db,
  ids: readonly string[],
  allOf: string | null,
  roleGroups: readonly string[],
  limit: number,
) =>
  db
    .select({ userId: groupMembers.userId, groupId: groupMembers.groupId })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(and(affectedUsers(ids, allOf), sql`${groupMembers.groupId} IN ${idsIn(roleGroups)}`))
    .limit(2 * limit);

/** id → displayName of the given groups (the mapped role groups, for the log's wording). */
export const selectGroupNames = (db: Db, ids: readonly string[]) =>
  db
    .select({ id: groups.id, displayName: groups.displayName })
    .from(groups)
    .where(sql`${groups.id} IN ${idsIn(ids)}`);
