import { asc, eq, gt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { logStatement } from "../db/log";
import { groupMembers, groups, jobs, settings as settingsTable, users } from "../db/schema";
import { casGuard } from "../db/sql";
import { rowToState, updateUserRoleCas } from "../db/users";
import type { Bindings } from "../env";
import { newEventId, outboxInsert, sendCommitted, stampQueued } from "../events/outbox";
import { Audit } from "../http/audit";
import { decideRole, groupSource, userTypeSource } from "../roles/rules";
import { parseStoredSettings, type Settings } from "../settings/model";
import { renderUser } from "../users/view";
import { advanceJob, type JobRow, selectJob } from "./store";

/** Users read and decided per chunk: one read and one write batch each. */
const ROLE_CHUNK = 200;

export type ChunkOutcome = "more" | "done" | "gone";

/** The settings row as stored now (not the isolate cache): a job decides with the latest settings. */
const selectSettings = (db: Db) => db.select({ data: settingsTable.data }).from(settingsTable).where(eq(settingsTable.id, 1));

/** A mapped group's id, read from the stored settings inside the same statement. */
const mappedGroup = (key: "moderatorGroup" | "adminGroup") =>
  sql`(SELECT json_extract(${settingsTable.data}, ${`$.${key}`}) FROM ${settingsTable} WHERE ${settingsTable.id} = 1)`;

/** Named: a D1 batch returns rows keyed by column name, and two unnamed EXISTS would collide. */
function memberOf(key: "moderatorGroup" | "adminGroup", name: string) {
  return sql<number>`EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${groupMembers.userId} = ${users.id} AND ${groupMembers.groupId} = ${mappedGroup(key)})`.as(
    name,
  );
}

/**
 * One chunk of a role re-evaluation (SPEC §5: every change of the settings re-evaluates the users
 * it affects): the next ROLE_CHUNK users by seq, each decided again from its current userType and
 * mapped-group membership under the settings as they are now. A changed role is a compare-and-set
 * write with its user.role_changed event and a log row of its own, in one batch with the job's
 * cursor (compare-and-set too), so a crash or a second runner never applies a chunk twice.
 */
export async function runRolesChunk(db: Db, env: Bindings, jobId: string, started: { cursor?: number } = {}): Promise<ChunkOutcome> {
  // One read: the job, the settings, the chunk (after the job's cursor, with its memberships in
  // the groups the stored settings map) and the mapped groups' names. One write batch follows.
  const cursor = sql`coalesce((SELECT ${jobs.cursor} FROM ${jobs} WHERE ${jobs.id} = ${jobId}), 0)`;
  const [jobRows, settingsRows, rows, names] = await db.batch([
    selectJob(db, jobId),
    selectSettings(db),
    db
      .select({ user: users, inModerator: memberOf("moderatorGroup", "in_moderator"), inAdmin: memberOf("adminGroup", "in_admin") })
      .from(users)
      .where(gt(users.seq, cursor))
      .orderBy(asc(users.seq))
      .limit(ROLE_CHUNK),
    db
      .select({ id: groups.id, displayName: groups.displayName })
      .from(groups)
      .where(sql`${groups.id} IN (${mappedGroup("moderatorGroup")}, ${mappedGroup("adminGroup")})`),
  ]);
  const job = jobRows[0];
  if (job?.state !== "running") return "gone";
  started.cursor = job.cursor;
  const settings = parseStoredSettings(settingsRows[0]?.data);
  const groupNames = new Map(names.map((g) => [g.id, g.displayName]));
  const at = new Date();
  const iso = at.toISOString();
  const statements: BatchItem<"sqlite">[] = [];
  const eventIds: string[] = [];
  let changed = 0;
  let kept = 0;
  for (const { user, inModerator, inAdmin } of rows) {
    const memberships = [...(inModerator ? [settings.moderatorGroup] : []), ...(inAdmin ? [settings.adminGroup] : [])].filter(
      (g): g is string => g !== null,
    );
    const before = rowToState(user);
    const decision = decideRole(
      { current: before.role, userType: userTypeSource(user.userType), group: groupSource(memberships, settings, groupNames) },
      settings,
    );
    if (!decision.changed) {
      if (decision.reason) kept++;
      continue;
    }
    changed++;
    const after = { ...before, role: decision.role, version: before.version + 1, updatedAt: iso };
    const eventId = newEventId();
    eventIds.push(eventId);
    statements.push(
      updateUserRoleCas(db, user.id, decision.role, before.version, iso),
      db.run(casGuard),
      outboxInsert(
        db,
        {
          id: eventId,
          type: "user.role_changed",
          resourceType: "User",
          resourceId: user.id,
          resourceVersion: after.version,
          data: {
            user: renderUser(after, job.baseUrl),
            changes: { role: { from: before.role, to: after.role }, reason: decision.reason ?? null },
          },
        },
        settings,
        at,
      ),
      logStatement(db, jobLogEntry(job, iso, decision.reason ?? "", { type: "User", id: user.id }, [eventId])),
    );
  }
  const last = rows[rows.length - 1];
  const done = rows.length < ROLE_CHUNK;
  statements.push(
    advanceJob(db, job, { cursor: last?.user.seq ?? job.cursor, processed: rows.length, changed, kept, done }, iso),
    db.run(casGuard),
  );
  if (done) statements.push(logStatement(db, jobLogEntry(job, iso, summary(job, rows.length, changed, kept, settings))));
  statements.push(stampQueued(db, eventIds, iso));
  const results = await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  const queued = (results[results.length - 1] ?? []) as { id: string }[];
  await sendCommitted(
    db,
    env.EVENTS,
    queued.map((r) => r.id),
  );
  return done ? "done" : "more";
}

function jobLogEntry(job: JobRow, at: string, decision: string, resource?: { type: "User"; id: string }, eventIds?: string[]) {
  const audit = new Audit();
  if (resource) audit.touch(resource.type, resource.id);
  audit.decide(decision);
  return { at, requestId: job.id, method: "JOB", path: `role re-evaluation: ${job.reason}`.slice(0, 2000), status: 200, audit, eventIds };
}

function summary(job: JobRow, lastChunk: number, changed: number, kept: number, settings: Settings): string {
  const examined = job.processed + lastChunk;
  const totalChanged = job.changed + changed;
  const totalKept = job.kept + kept;
  const off = [!settings.allowModeratorPromotion && "moderator promotion off", !settings.allowAdminPromotion && "admin promotion off"]
    .filter(Boolean)
    .join(", ");
  return `role re-evaluation done: ${examined} users examined, ${totalChanged} changed, ${totalKept} kept${totalKept && off ? ` (${off})` : ""}`;
}
