import { and, desc, eq, sql } from "drizzle-orm";
import { foldCase } from "../scim/text";
import type { Db } from "./client";
import { events, groupMembers, groups, logRelated, provisioningLog, users } from "./schema";
import { primaryEmail } from "./subjects";

/**
 * The reads of one user's timeline (src/admin/log.ts): who the typed key is (a user now, or one
 * that was deleted, found by what the record kept), its groups, and the log rows of other
 * resources that touched it (a group's members added or removed). Each is one index seek or range.
 */

/** Groups one user's header lists at most. */
export const TIMELINE_GROUPS = 50;

/** A user as the timeline's header shows it: names, status, userType, the IdP's roles and the effective role. */
const timelineUserColumns = {
  id: users.id,
  userName: users.userName,
  displayName: users.displayName,
  email: primaryEmail,
  active: users.active,
  role: users.role,
  userType: users.userType,
  /** The `roles` the IdP wrote (Entra app roles, Okta entitlements), as stored JSON. */
  rolesJson: sql<string | null>`CASE WHEN json_valid(${users.data}) THEN json_extract(${users.data}, '$.roles') END`,
  version: users.version,
  updatedAt: users.updatedAt,
};

/**
 * The user an admin typed: an id, a userName or a primary email (case-insensitively, as SCIM
 * matches them), in that order of preference. One statement over three unique or indexed columns.
 */
export const selectTimelineUser = (db: Db, key: string) => {
  const folded = foldCase(key);
  return db
    .select(timelineUserColumns)
    .from(users)
    .where(sql`${users.id} = ${key} OR ${users.userNameNorm} = ${folded} OR ${users.emailNorm} = ${folded}`)
    .orderBy(sql`${users.id} = ${key} DESC`, sql`${users.userNameNorm} = ${folded} DESC`, users.seq)
    .limit(1);
};

/** A user no longer in the directory, by the (folded) userName its newest event carried: events_user_name_idx. */
export const deletedUserByName = (db: Db, key: string) =>
  db
    .select({ id: events.resourceId })
    .from(events)
    .where(and(sql`${events.userNameNorm} = ${foldCase(key)}`, sql`${events.userNameNorm} IS NOT NULL`, eq(events.resourceType, "User")))
    .orderBy(desc(events.seq))
    .limit(1);

/** A user no longer in the directory, by an email a log row kept for it (ASCII letters in any case): log_subject_email_idx. */
export const deletedUserByEmail = (db: Db, key: string) =>
  db
    .select({ id: provisioningLog.resourceId })
    .from(provisioningLog)
    .where(
      and(
        sql`lower(${provisioningLog.subjectEmail}) = lower(${key})`,
        sql`${provisioningLog.subjectEmail} IS NOT NULL`,
        eq(provisioningLog.resourceType, "User"),
      ),
    )
    .orderBy(desc(provisioningLog.seq))
    .limit(1);

/** The groups a user is a member of now, by name. */
export const groupsOfUser = (db: Db, userId: string) =>
  db
    .select({ id: groups.id, name: groups.displayName })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId))
    .orderBy(groups.displayName)
    .limit(TIMELINE_GROUPS + 1);

/** Log rows of other resources that touched this user (log_related), newest first, with what they did to it. */
export const relatedLogOf = (db: Db, userId: string, limit: number) =>
  db
    // Aliased: a second result column named "did" would collapse into the log row's in D1's answer.
    .select({ log: provisioningLog, didToUser: sql<string | null>`${logRelated.did}`.as("did_to_user") })
    .from(logRelated)
    .innerJoin(provisioningLog, eq(provisioningLog.seq, logRelated.seq))
    .where(eq(logRelated.resourceId, userId))
    .orderBy(desc(logRelated.seq))
    .limit(limit);
