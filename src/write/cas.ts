import { and, eq, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { groups, jobs, settings, users } from "../db/schema";
import { idsIn } from "../db/sql";
import type { ResyncStage } from "../lifecycle/jobs";

export type Statement = BatchItem<"sqlite">;

/**
 * Compare-and-set, emitted here and nowhere else: these are the only statements that change or
 * delete a user, group or settings row (scripts/check-layers.mjs refuses any other outside
 * src/write/). Each write is followed by a guard that fails the whole D1 batch unless the write
 * changed exactly the rows it expected, so a batch built from a stale read never commits. Each
 * carries a check, a read that tells after a failed batch whether another writer got there first:
 * a conflict is recognised by what the database holds, never by the text of D1's error.
 */
export interface Cas {
  readonly statements: readonly Statement[];
  /** One row `{ holds }`: 1 while the rows are still as this write expected them, 0 once another writer moved them. */
  readonly check: Statement;
  /**
   * One row `{ holds }`: 1 when the rows are as this very write left them. Given where a change's
   * event ids do not tell (a resync's ids are fixed, so another runner writes the same ones).
   */
  readonly landed?: Statement;
  /** Only the settings moved (not a row the change read): a retry reads them again, even under If-Match. */
  readonly settings?: true;
}

/** A row as it was read: its id and the version the write expects to replace. */
export interface Versioned {
  id: string;
  version: number;
}

/**
 * Fails the batch unless the statement before it changed exactly `n` rows. json() of a non-JSON
 * string is an error, the one way plain SQL can abort a batch; nothing matches the error's text.
 */
const guard = (db: Db, n: number) => {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`guard count ${n} is not a count`);
  // The count is written into the SQL: drizzle's D1 batch cannot bind parameters of a bare `run`.
  return db.run(sql.raw(`SELECT json(CASE WHEN changes() = ${n} THEN '1' ELSE 'compare-and-set' END)`));
};

const check = (db: Db, holds: SQL) => db.select({ holds: sql<number>`${holds}` }).from(sql`(SELECT 1)`);

const at = (table: typeof users | typeof groups, row: Versioned) => and(eq(table.id, row.id), eq(table.version, row.version));

export type UserSet = Partial<Omit<typeof users.$inferInsert, "seq" | "id" | "version">>;
export type GroupSet = Partial<Omit<typeof groups.$inferInsert, "seq" | "id" | "version">>;

/** A user row rewritten from `before.version` to `next`. */
export function updateUser(db: Db, before: Versioned, next: number, set: UserSet): Cas {
  return {
    statements: [
      db
        .update(users)
        .set({ ...set, version: next })
        .where(at(users, before)),
      guard(db, 1),
    ],
    check: check(db, sql`EXISTS (SELECT 1 FROM ${users} WHERE ${at(users, before)})`),
  };
}

export function deleteUser(db: Db, before: Versioned): Cas {
  return {
    statements: [db.delete(users).where(at(users, before)), guard(db, 1)],
    check: check(db, sql`EXISTS (SELECT 1 FROM ${users} WHERE ${at(users, before)})`),
  };
}

export function updateGroup(db: Db, before: Versioned, next: number, set: GroupSet): Cas {
  return {
    statements: [
      db
        .update(groups)
        .set({ ...set, version: next })
        .where(at(groups, before)),
      guard(db, 1),
    ],
    check: check(db, sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${at(groups, before)})`),
  };
}

export function deleteGroup(db: Db, before: Versioned): Cas {
  return {
    statements: [db.delete(groups).where(at(groups, before)), guard(db, 1)],
    check: check(db, sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${at(groups, before)})`),
  };
}

/** One user of `updateUsers`: from its read version to `next`, with its (possibly unchanged) role. */
export interface UserStep extends Versioned {
  next: number;
  role: string;
}

/**
 * Many users rewritten at once, each from its own read version (a mapped group's change deciding
 * its members' roles, a role re-evaluation's chunk): ONE statement for any number of users (their
 * steps are one JSON parameter), guarded on the count.
 */
export function updateUsers(db: Db, steps: readonly UserStep[], updatedAt: string): Cas {
  const json = JSON.stringify(steps.map((s) => ({ id: s.id, version: s.version, next: s.next, role: s.role })));
  const field = (name: string) => sql.raw(`json_extract(s.value, '$.${name}')`);
  // Each row's own step, read from the JSON parameter (a correlated lookup; at most a chunk of 200).
  const stepOf = (name: string) => sql`(SELECT ${field(name)} FROM json_each(${json}) AS s WHERE ${field("id")} = ${users.id})`;
  const matches = sql`${users.id} IN (SELECT ${field("id")} FROM json_each(${json}) AS s) AND ${users.version} = ${stepOf("version")}`;
  return {
    statements: [
      db
        .update(users)
        .set({ role: stepOf("role"), version: stepOf("next"), updatedAt })
        .where(matches),
      guard(db, steps.length),
    ],
    check: check(db, sql`(SELECT count(*) FROM ${users} WHERE ${matches}) = ${steps.length}`),
  };
}

/**
 * Many groups moved one version each from the versions they were read at (a deleted user leaves
 * each of its groups): ONE statement for any number of groups, guarded on the count.
 */
export function updateGroups(db: Db, steps: readonly Versioned[], updatedAt: string): Cas {
  const json = JSON.stringify(steps.map((s) => ({ id: s.id, version: s.version })));
  const field = (name: string) => sql.raw(`json_extract(s.value, '$.${name}')`);
  const readAt = sql`(SELECT ${field("version")} FROM json_each(${json}) AS s WHERE ${field("id")} = ${groups.id})`;
  const matches = sql`${groups.id} IN (SELECT ${field("id")} FROM json_each(${json}) AS s) AND ${groups.version} = ${readAt}`;
  return {
    statements: [
      db
        .update(groups)
        .set({ version: sql`${groups.version} + 1`, updatedAt })
        .where(matches),
      guard(db, steps.length),
    ],
    check: check(db, sql`(SELECT count(*) FROM ${groups} WHERE ${matches}) = ${steps.length}`),
  };
}

/**
 * A membership change moves each member's version (a user's `groups` changed), whatever it was:
 * a user write that read the user before this commits fails its own compare-and-set and reads
 * again, and an id that is no longer a user fails this one. `ids` must be distinct.
 */
export function touchUsers(db: Db, ids: readonly string[], updatedAt: string): Cas {
  return {
    statements: [
      db
        .update(users)
        .set({ version: sql`${users.version} + 1`, updatedAt })
        .where(sql`${users.id} IN ${idsIn(ids)}`),
      guard(db, ids.length),
    ],
    check: check(db, sql`(SELECT count(*) FROM ${users} WHERE ${users.id} IN ${idsIn(ids)}) = ${ids.length}`),
  };
}

/** The settings document from `version` (0: no row yet) to `version + 1`. */
export function writeSettings(db: Db, version: number, data: string, updatedAt: string): Cas {
  const write =
    version === 0
      ? db.insert(settings).values({ id: 1, data, version: 1, updatedAt }).onConflictDoNothing()
      : db
          .update(settings)
          .set({ data, version: version + 1, updatedAt })
          .where(and(eq(settings.id, 1), eq(settings.version, version)));
  const holds =
    version === 0
      ? sql`NOT EXISTS (SELECT 1 FROM ${settings} WHERE ${settings.id} = 1)`
      : sql`EXISTS (SELECT 1 FROM ${settings} WHERE ${settings.id} = 1 AND ${settings.version} = ${version})`;
  return { statements: [write, guard(db, 1)], check: check(db, holds) };
}

/**
 * The settings are still at the version the change was decided with: a write decides roles (the
 * gates, the mapped groups), holds (the guard, dry run) from them, and a save in between makes it
 * decide again with the new ones rather than commit a decision the settings no longer allow.
 */
export function settingsUnchanged(db: Db, version: number): Cas {
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`settings version ${version} is not a version`);
  const at = `coalesce((SELECT version FROM settings WHERE id = 1), 0) = ${version}`;
  return {
    statements: [db.run(sql.raw(`SELECT json(CASE WHEN ${at} THEN '1' ELSE 'compare-and-set' END)`))],
    check: check(db, sql.raw(at)),
    settings: true,
  };
}

/** Where a running job was read: its cursor, and for a resync its stage. */
export interface JobPosition {
  id: string;
  cursor: number;
  stage: ResyncStage | null;
}

/**
 * A job's chunk moves its cursor from where the chunk read it; a second runner of the same chunk
 * (or a job superseded meanwhile) fails here, so a chunk is applied once or not at all.
 */
export function advanceJob(db: Db, from: JobPosition, to: { cursor: number; updatedAt: string } & SQLiteUpdateSetSource<typeof jobs>): Cas {
  const where = and(eq(jobs.id, from.id), eq(jobs.state, "running"), eq(jobs.cursor, from.cursor), sql`${jobs.stage} IS ${from.stage}`);
  return {
    statements: [db.update(jobs).set(to).where(where), guard(db, 1)],
    check: check(db, sql`EXISTS (SELECT 1 FROM ${jobs} WHERE ${where})`),
    // This chunk's own mark: the cursor it moved to, at its own time (another runner's differs).
    landed: check(
      db,
      sql`EXISTS (SELECT 1 FROM ${jobs} WHERE ${jobs.id} = ${from.id} AND ${jobs.cursor} = ${to.cursor} AND ${jobs.updatedAt} = ${to.updatedAt})`,
    ),
  };
}
