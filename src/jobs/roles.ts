import { asc, gt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type JobRow, roleProgress, selectJob } from "../db/jobs";
import { groupMembers, groups, jobs, settings as settingsTable, users } from "../db/schema";
import { userStateOf } from "../db/users";
import type { Bindings } from "../env";
import { LogEntry } from "../log/entry";
import { MAX_PATH } from "../log/redact";
import { roleChangedEvent } from "../membership/effects";
import { decideUserRole } from "../roles/rules";
import { groupSource } from "../roles/sources";
import { parseStoredSettings, type Settings } from "../settings/model";
import { selectStoredSettings } from "../settings/store";
import { advanceJob, settingsUnchanged, type UserStep, updateUsers } from "../write/cas";
import { commitAndSend, type Statement } from "../write/kernel";
import type { Started } from "./runner";

/** Users read and decided per chunk: one read and one write batch each. Its kept users' lines fit one log row (src/log/entry.ts keeps 200). */
const ROLE_CHUNK = 200;

export type ChunkOutcome = "more" | "done" | "gone";

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
 * it affects): the next ROLE_CHUNK users by seq, each decided again from its current userType,
 * roles and mapped-group membership under the settings as they are now. The changed roles are one
 * compare-and-set write of those users (a user written meanwhile fails it, and the chunk is read
 * and decided again), each with its user.role_changed event and a log row of its own (the user's
 * timeline shows it), in one batch with the job's cursor (compare-and-set too), so a crash or a
 * second runner never applies a chunk twice. The users whose role a setting kept are explained
 * too, all of the chunk's in ONE log row, a line each (`alice@example.com: role kept: ...`): a
 * re-evaluation of 100,000 users whose IdP asks for a role the settings refuse writes 500 rows, not
 * 100,000, and a chunk's batch stays within two statements per user plus four.
 */
export async function runRolesChunk(db: Db, env: Bindings, jobId: string, started: Started = {}): Promise<ChunkOutcome> {
  // One read: the job, the settings, the chunk (after the job's cursor, with its memberships in
  // the groups the stored settings map) and the mapped groups' names. One write batch follows.
  const cursor = sql`coalesce((SELECT ${jobs.cursor} FROM ${jobs} WHERE ${jobs.id} = ${jobId}), 0)`;
  const [jobRows, settingsRows, rows, names] = await db.batch([
    selectJob(db, jobId),
    selectStoredSettings(db),
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
  started.at = job;
  const settings = parseStoredSettings(settingsRows[0]?.data);
  const groupNames = new Map(names.map((g) => [g.id, g.displayName]));
  const at = new Date();
  const iso = at.toISOString();
  const ctx = { db, settings, baseUrl: job.baseUrl };
  const statements: Statement[] = [];
  const eventIds: string[] = [];
  const steps: UserStep[] = [];
  const keptLog = jobLog(job);
  let changed = 0;
  let kept = 0;
  for (const { user, inModerator, inAdmin } of rows) {
    const memberships = [...(inModerator ? [settings.moderatorGroup] : []), ...(inAdmin ? [settings.adminGroup] : [])].filter(
      (g): g is string => g !== null,
    );
    const before = userStateOf(user);
    const decision = decideUserRole(before, groupSource(memberships, settings, groupNames), settings);
    if (!decision.changed) {
      if (decision.reason) {
        kept++;
        keptLog.decide(`${user.userName}: ${decision.reason}`);
      }
      continue;
    }
    changed++;
    const version = before.version + 1;
    steps.push({ id: before.id, version: before.version, next: version, role: decision.role });
    const event = roleChangedEvent(ctx, before, decision, version, at);
    eventIds.push(event.id);
    // Each changed user's own log row, so the user's timeline shows the decision.
    const log = jobLog(job);
    log.touch("User", user.id);
    log.decide(decision.reason ?? "");
    statements.push(event.statement, log.statement(db, 200, { eventIds: [event.id], at: iso }));
  }
  if (kept) statements.push(keptLog.statement(db, 200, { at: iso }));
  const last = rows[rows.length - 1];
  const done = rows.length < ROLE_CHUNK;
  const progress = roleProgress({ cursor: last?.user.seq ?? job.cursor, processed: rows.length, changed, kept, done }, iso);
  if (done) {
    const log = jobLog(job);
    log.decide(summary(job, rows.length, changed, kept, settings));
    statements.push(log.statement(db, 200, { at: iso }));
  }
  // Decided with the settings as this chunk read them: a save in between makes it decide again.
  const cas = [
    ...(steps.length ? [updateUsers(db, steps, iso)] : []),
    advanceJob(db, job, progress),
    settingsUnchanged(db, settingsRows[0]?.version ?? 0),
  ];
  await commitAndSend(db, env.EVENTS, { cas, statements, eventIds }, iso);
  return done ? "done" : "more";
}

/** A job's log entry: method JOB, and as path what started it. */
const jobLog = (job: JobRow) => new LogEntry(job.id, "JOB", `role re-evaluation: ${job.reason}`.slice(0, MAX_PATH));

function summary(job: JobRow, lastChunk: number, changed: number, kept: number, settings: Settings): string {
  const examined = job.processed + lastChunk;
  const totalChanged = job.changed + changed;
  const totalKept = job.kept + kept;
  const off = [!settings.allowModeratorPromotion && "moderator promotion off", !settings.allowAdminPromotion && "admin promotion off"]
    .filter(Boolean)
    .join(", ");
  return `role re-evaluation done: ${examined} users examined, ${totalChanged} changed, ${totalKept} kept${totalKept && off ? ` (${off})` : ""}`;
}
