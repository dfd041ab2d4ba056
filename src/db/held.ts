import { eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { events, users } from "./schema";

/**
 * What the guard's by-person view (src/admin/held.ts) reads, in one batch: every held event with
 * the names its payload carries and what the guard saw when it held it (over events_held_idx, the
 * held events only), and what the directory says now about each user that has one.
 */
// Each aliased: two result columns with the same text (json_extract(payload, ?)) collapse into one in D1's answer.
const userField = (path: string, alias: string) => sql<string | null>`json_extract(${events.payload}, ${`$.data.user.${path}`})`.as(alias);
const heldEmail = sql<
  string | null
>`(SELECT json_extract(e.value, '$.value') FROM json_each(CASE WHEN json_valid(${events.payload}) THEN ${events.payload} ELSE '{}' END, '$.data.user.emails') e
  WHERE e.type = 'object' ORDER BY json_extract(e.value, '$.primary') IS 1 DESC, e.key LIMIT 1)`.as("held_email");

export const heldDetails = (db: Db) =>
  db
    .select({
      id: events.id,
      type: events.type,
      resourceType: events.resourceType,
      resourceId: events.resourceId,
      resourceVersion: events.resourceVersion,
      hold: events.hold,
      heldBy: events.heldBy,
      createdAt: events.createdAt,
      guardSeen: events.guardSeen,
      userName: userField("userName", "held_user_name"),
      displayName: userField("displayName", "held_display_name"),
      email: heldEmail,
      groupName: sql<string | null>`json_extract(${events.payload}, '$.data.group.displayName')`.as("held_group_name"),
    })
    .from(events)
    .where(eq(events.state, "held"))
    // Oldest first: a synced event repeats its resource's version, and ties release in this order.
    .orderBy(events.seq);

export type HeldDetail = Awaited<ReturnType<ReturnType<typeof heldDetails>["all"]>>[number];

/** The users that have a held event, as the directory holds them now (a deleted one has no row). */
export const heldUsersNow = (db: Db) =>
  db
    .select({ id: users.id, active: users.active, version: users.version, updatedAt: users.updatedAt })
    .from(users)
    .where(
      sql`${users.id} IN (SELECT ${events.resourceId} FROM ${events} WHERE ${events.state} = 'held' AND ${events.resourceType} = 'User')`,
    );

export type HeldUserNow = Awaited<ReturnType<ReturnType<typeof heldUsersNow>["all"]>>[number];
