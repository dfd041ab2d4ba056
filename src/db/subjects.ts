import { and, eq, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { foldCase } from "../scim/text";
import { events, groups, users } from "./schema";

/**
 * People, not UUIDs: what the admin views show next to a resource id (the user's userName,
 * displayName and primary email, or the group's displayName), read in the same statement as the
 * rows that name the resource, and the case-insensitive text match the admin searches use.
 */

/** A document that is not JSON (never written, but possible) reads as having no emails. */
const jsonOrEmpty = (col: SQLiteColumn) => sql`CASE WHEN json_valid(${col}) THEN ${col} ELSE '{}' END`;

/** The user's primary email as the IdP sent it (not folded), else the first one. */
export const primaryEmail = sql<
  string | null
>`(SELECT json_extract(e.value, '$.value') FROM json_each(${jsonOrEmpty(users.data)}, '$.emails') e
  WHERE e.type = 'object' ORDER BY json_extract(e.value, '$.primary') IS 1 DESC, e.key LIMIT 1)`;

/** Columns for a select that left-joins users and groups with `joinSubjects`. */
export const subjectColumns = {
  resourceName: sql<string | null>`coalesce(${users.userName}, ${groups.displayName})`,
  resourceDisplayName: users.displayName,
  resourceEmail: primaryEmail,
};

/** The join conditions for rows that carry (resourceType, resourceId). */
export const subjectJoins = (resourceType: SQLiteColumn, resourceId: SQLiteColumn) => ({
  user: and(eq(resourceType, "User"), eq(users.id, resourceId)),
  group: and(eq(resourceType, "Group"), eq(groups.id, resourceId)),
});

/**
 * `text` occurs in `col`, ignoring case, with the text bound as a value and never used as a
 * pattern: D1 refuses a LIKE or GLOB pattern over 50 bytes ("pattern too complex", a 500), and an
 * admin may paste a whole path or email. lower() folds ASCII only, on both sides alike.
 */
export const contains = (col: SQL | SQLiteColumn, text: string): SQL => sql`instr(lower(coalesce(${col}, '')), lower(${text})) > 0`;

/** The same for columns that hold the case-folded form (src/scim/text.ts), which folds every script. */
const containsFolded = (col: SQLiteColumn, text: string): SQL => sql`instr(coalesce(${col}, ''), ${foldCase(text)}) > 0`;

/** Users whose userName, any email, displayName, name parts or externalId contain `q`. */
export function userMatches(q: string): SQL {
  const nameParts = ["givenName", "familyName", "formatted", "middleName"].map((part) =>
    contains(sql`json_extract(${jsonOrEmpty(users.data)}, ${`$.name.${part}`})`, q),
  );
  const anyEmail = sql`EXISTS (SELECT 1 FROM json_each(${jsonOrEmpty(users.data)}, '$.emails') e
    WHERE e.type = 'object' AND ${contains(sql`json_extract(e.value, '$.value')`, q)})`;
  const any = [
    containsFolded(users.userNameNorm, q),
    containsFolded(users.emailNorm, q),
    anyEmail,
    contains(users.displayName, q),
    contains(users.externalId, q),
    ...nameParts,
  ];
  return sql`(${sql.join(any, sql` OR `)})`;
}

/** Ids of the users (by userName or email) and groups (by displayName) whose names contain `q`. */
export const idsNamed = (q: string): SQL =>
  sql`(SELECT ${users.id} FROM ${users} WHERE ${containsFolded(users.userNameNorm, q)} OR ${containsFolded(users.emailNorm, q)}
    UNION ALL SELECT ${groups.id} FROM ${groups} WHERE ${containsFolded(groups.displayNameNorm, q)})`;

/** The primary (else first) email of a user document held in a JSON expression, as sent. */
const primaryEmailOf = (userJson: SQL) => sql<
  string | null
>`(SELECT json_extract(e.value, '$.value') FROM json_each(${userJson}, '$.emails') e
  WHERE e.type = 'object' ORDER BY json_extract(e.value, '$.primary') IS 1 DESC, e.key LIMIT 1)`;

/** A field of the newest event of a resource (events_resource_idx: one seek), from its payload. */
const newestEventField = (id: string, path: string) =>
  sql`(SELECT json_extract(${events.payload}, ${path}) FROM ${events} WHERE ${events.resourceId} = ${id} ORDER BY ${events.seq} DESC LIMIT 1)`;

/**
 * The names a log row keeps (src/log/entry.ts), decided in SQL when the row is written, in the
 * batch of the change it records: a user's userName, displayName and primary email, or a group's
 * displayName, from its row as the change left it; a resource the change deleted has no row left,
 * and its names then come from its newest event (the deletion event of the same batch carries its
 * full state). Each is one seek on a unique index or on events_resource_idx.
 */
export function namesAsWritten(type: "User" | "Group", id: string) {
  if (type === "Group") {
    const name = sql<
      string | null
    >`coalesce((SELECT ${groups.displayName} FROM ${groups} WHERE ${groups.id} = ${id}), ${newestEventField(id, "$.data.group.displayName")})`;
    return { name, displayName: sql<string | null>`NULL`, email: sql<string | null>`NULL` };
  }
  const row = (column: SQL | SQLiteColumn) => sql`(SELECT ${column} FROM ${users} WHERE ${users.id} = ${id})`;
  const eventUser = sql`(SELECT json_extract(${events.payload}, '$.data.user') FROM ${events} WHERE ${events.resourceId} = ${id} ORDER BY ${events.seq} DESC LIMIT 1)`;
  return {
    name: sql<string | null>`coalesce(${row(users.userName)}, ${newestEventField(id, "$.data.user.userName")})`,
    displayName: sql<
      string | null
    >`CASE WHEN EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${id}) THEN ${row(users.displayName)} ELSE ${newestEventField(id, "$.data.user.displayName")} END`,
    email: sql<
      string | null
    >`coalesce(${row(primaryEmail)}, ${primaryEmailOf(sql`CASE WHEN json_valid(${eventUser}) THEN ${eventUser} ELSE '{}' END`)})`,
  };
}
