import { asc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { groupStateOf } from "../db/groups";
import { type JobRow, resyncProgress, selectJob } from "../db/jobs";
import { groupMembers, groups, jobs, users } from "../db/schema";
import { stateColumns, userStateOf } from "../db/users";
import type { Bindings } from "../env";
import { type NewEvent, outboxInsert } from "../events/outbox";
import { LogEntry } from "../log/entry";
import { renderGroup } from "../resources/group";
import { renderSiteUser } from "../resources/user";
import { parseStoredSettings } from "../settings/model";
import { selectStoredSettings } from "../settings/store";
import { advanceJob } from "../write/cas";
import { commitAndSend, type Statement } from "../write/kernel";
import type { ChunkOutcome } from "./roles";
import type { Started } from "./runner";

/** Users sent per chunk: one read batch and one write batch each. */
const RESYNC_USER_CHUNK = 200;
/** Member ids per group.synced event: a 10,000-member group is 10 events of 1,000 ids. */
export const RESYNC_MEMBER_PART = 1000;
/**
 * Member ids read per chunk in the groups stage; a group bigger than this is still read whole,
 * alone in its chunk, so all its parts carry one version (one consistent snapshot).
 */
const RESYNC_MEMBER_BUDGET = 5000;
/** Groups looked at per chunk in the groups stage (fewer when their members exceed the budget). */
const RESYNC_GROUP_CHUNK = 50;

/**
 * A synced event's id is fixed by the resync and the resource (and the part), so a chunk done
 * twice (a crash after its batch, a second runner) can only produce the same ids, which the
 * outbox refuses: the site never gets one resource twice under two webhook-ids in one resync.
 */
export function syncedEventId(jobId: string, kind: "u" | "g", seq: number, part?: number): string {
  const hex = jobId.slice(jobId.indexOf("_") + 1);
  return `evt_${hex}_${kind}${seq}${part === undefined ? "" : `_${part}`}`;
}

/** A member list cut into parts of RESYNC_MEMBER_PART ids; an empty group is one empty part. */
export function memberParts(ids: readonly string[]): string[][] {
  if (ids.length === 0) return [[]];
  const parts: string[][] = [];
  for (let i = 0; i < ids.length; i += RESYNC_MEMBER_PART) parts.push(ids.slice(i, i + RESYNC_MEMBER_PART));
  return parts;
}

const jobField = (jobId: string, column: typeof jobs.cursor | typeof jobs.stage) =>
  sql`(SELECT ${column} FROM ${jobs} WHERE ${jobs.id} = ${jobId})`;

/**
 * The groups stage's read: the next groups after the job's cursor, as many as fit in the member
 * budget (always at least one), and all their member ids as rows (a JSON aggregate of a 100,000-
 * member group would pass D1's 2 MB value limit). Both statements go in one read batch, which D1
 * runs as one transaction, so a group's members and its version are one snapshot. `nextCount` is
 * how many groups came after the cursor (at most RESYNC_GROUP_CHUNK), so the chunk knows whether
 * it took the last ones.
 */
function groupChunkQueries(db: Db, jobId: string) {
  // Unqualified inside this one-table subquery, group_members.group_id renders as "group_id":
  // the outer groups row is named by its table.
  const memberCount = sql<number>`(SELECT count(*) FROM ${groupMembers} WHERE ${groupMembers.groupId} = "groups"."id")`;
  const next = db
    .select({ seq: groups.seq, id: groups.id, n: memberCount.as("n") })
    .from(groups)
    .where(sql`${jobField(jobId, jobs.stage)} = 'groups' AND ${groups.seq} > coalesce(${jobField(jobId, jobs.cursor)}, 0)`)
    .orderBy(asc(groups.seq))
    .limit(RESYNC_GROUP_CHUNK)
    .as("next");
  const sized = db
    .select({
      seq: next.seq,
      id: next.id,
      upto: sql<number>`sum(${next.n}) OVER (ORDER BY ${next.seq} ROWS UNBOUNDED PRECEDING)`.as("upto"),
      rn: sql<number>`row_number() OVER (ORDER BY ${next.seq})`.as("rn"),
      nextCount: sql<number>`count(*) OVER ()`.as("next_count"),
    })
    .from(next)
    .as("sized");
  const taken = sql`${sized.rn} = 1 OR ${sized.upto} <= ${RESYNC_MEMBER_BUDGET}`;
  return [
    db
      .select({ group: groups, nextCount: sized.nextCount })
      .from(sized)
      .innerJoin(groups, eq(groups.seq, sized.seq))
      .where(taken)
      .orderBy(asc(sized.seq)),
    db
      .select({ groupId: groupMembers.groupId, userId: groupMembers.userId })
      .from(sized)
      .innerJoin(groupMembers, eq(groupMembers.groupId, sized.id))
      .where(taken)
      .orderBy(asc(sized.seq), asc(groupMembers.userId)),
  ] as const;
}

/**
 * One chunk of a full resync (SPEC §9): the next users (then groups) after the job's cursor, each
 * as a user.synced (group.synced, in parts) event with its full current state and version,
 * written with the cursor's compare-and-set in one batch and then put on the queue. The events
 * take the same path as every change (outbox, queue, signing, retries, DLQ, the guard's holds and
 * the dry run). One read batch and one write batch per chunk.
 */
export async function runResyncChunk(db: Db, env: Bindings, jobId: string, started: Started = {}): Promise<ChunkOutcome> {
  const [jobRows, settingsRows, userRows, groupRows, memberRows] = await db.batch([
    selectJob(db, jobId),
    selectStoredSettings(db),
    db
      .select({ seq: users.seq, ...stateColumns(users) })
      .from(users)
      .where(sql`${jobField(jobId, jobs.stage)} = 'users' AND ${gt(users.seq, sql`coalesce(${jobField(jobId, jobs.cursor)}, 0)`)}`)
      .orderBy(asc(users.seq))
      .limit(RESYNC_USER_CHUNK),
    ...groupChunkQueries(db, jobId),
  ]);
  const job = jobRows[0];
  if (job?.state !== "running") return "gone";
  started.at = job;
  // The settings as stored now (not the isolate's cache): a dry run switched on or off applies at once.
  const settings = parseStoredSettings(settingsRows[0]?.data);
  const at = new Date();
  const iso = at.toISOString();
  const events: NewEvent[] = [];
  let progress: Parameters<typeof resyncProgress>[0];

  if (job.stage === "users") {
    for (const row of userRows) {
      const user = userStateOf(row);
      events.push({
        id: syncedEventId(job.id, "u", row.seq),
        type: "user.synced",
        resourceType: "User",
        resourceId: user.id,
        resourceVersion: user.version,
        data: { user: renderSiteUser(user, job.baseUrl), resync: job.id },
        jobId: job.id,
      });
    }
    const last = userRows[userRows.length - 1];
    const usersDone = userRows.length < RESYNC_USER_CHUNK;
    progress = usersDone
      ? { stage: "groups", cursor: 0, processed: userRows.length, emitted: events.length, done: false }
      : { stage: "users", cursor: last?.seq ?? job.cursor, processed: userRows.length, emitted: events.length, done: false };
  } else {
    const membersOf = new Map<string, string[]>();
    for (const m of memberRows) {
      const list = membersOf.get(m.groupId);
      if (list) list.push(m.userId);
      else membersOf.set(m.groupId, [m.userId]);
    }
    for (const row of groupRows) {
      const group = groupStateOf(row.group);
      const parts = memberParts(membersOf.get(group.id) ?? []);
      parts.forEach((members, i) => {
        events.push({
          id: syncedEventId(job.id, "g", row.group.seq, i + 1),
          type: "group.synced",
          resourceType: "Group",
          resourceId: group.id,
          resourceVersion: group.version,
          data: { group: renderGroup(group, job.baseUrl), members, part: i + 1, parts: parts.length, resync: job.id },
          jobId: job.id,
        });
      });
    }
    const last = groupRows[groupRows.length - 1];
    const done = groupRows.length === Number(last?.nextCount ?? 0) && groupRows.length < RESYNC_GROUP_CHUNK;
    progress = { stage: "groups", cursor: last?.group.seq ?? job.cursor, processed: groupRows.length, emitted: events.length, done };
  }

  const statements: Statement[] = events.map((e) => outboxInsert(db, e, settings, at));
  if (progress.done) statements.push(resyncLog(job).decided(summary(job, progress), db, iso));
  const cas = [advanceJob(db, job, resyncProgress(progress, iso))];
  await commitAndSend(db, env.EVENTS, { cas, statements, eventIds: events.map((e) => e.id) }, iso);
  return progress.done ? "done" : "more";
}

/** A resync's log entry: method JOB, and as path what it is. */
const resyncLog = (job: JobRow) => {
  const entry = new LogEntry(job.id, "JOB", job.reason);
  return {
    decided(text: string, db: Db, at: string) {
      entry.decide(text);
      return entry.statement(db, 200, { at });
    },
  };
};

function summary(job: JobRow, last: { processed: number; emitted: number }): string {
  const visited = job.processed + last.processed;
  const emitted = job.changed + last.emitted;
  return `${job.reason} done: ${visited} resources, ${emitted} events`;
}
