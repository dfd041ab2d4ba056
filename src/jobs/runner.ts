import { getDb } from "../db/client";
import { failJob, RESYNC_ID_PREFIX, selectJob, stalledJobs, touchJob } from "../db/jobs";
import { isCasConflict, isUniqueViolation } from "../db/sql";
import type { Bindings, QueueMessage } from "../env";
import { SETTINGS_TTL_MS } from "../settings/store";
import { runResyncChunk } from "./resync";
import { type ChunkOutcome, runRolesChunk } from "./roles";

/**
 * A job's first chunk waits until every isolate's settings cache has expired, so no user write
 * decided with the old settings can land after the job has passed that user.
 */
export const JOB_START_DELAY_SECONDS = Math.ceil(SETTINGS_TTL_MS / 1000) + 1;
/** A running job no chunk has advanced for this long lost its queue message: the cron resumes it. */
const JOB_STALL_MS = 2 * 60_000;
const CHUNK_ATTEMPTS = 3;

type JobQueue = Queue<QueueMessage>;

/** Asks the queue consumer for the next chunk of a job. */
export async function kickJob(queue: JobQueue, jobId: string, delaySeconds = 0): Promise<void> {
  await queue.send({ v: 1, type: "job", jobId }, delaySeconds > 0 ? { delaySeconds } : undefined);
}

/** Starts a job from a request: a refused queue send only delays it (the cron resumes a job that does not advance). */
export async function kickOrLeaveToCron(queue: JobQueue, jobId: string, delaySeconds: number): Promise<void> {
  try {
    await kickJob(queue, jobId, delaySeconds);
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", message: "could not start a job now; the cron resumes it", jobId, err: String(err) }));
  }
}

/**
 * One chunk of a job. A role chunk that lost a compare-and-set to a concurrent user write is read
 * and decided again; one that lost it to another runner of the same job (the cursor moved)
 * stops here, and the other runner goes on. A resync chunk writes nothing but its own events
 * and cursor, so a conflict always means another runner did this chunk: it stops.
 */
export async function runJobChunk(env: Bindings, jobId: string): Promise<ChunkOutcome> {
  const db = getDb(env.DB);
  if (jobId.startsWith(RESYNC_ID_PREFIX)) {
    try {
      return await runResyncChunk(db, env, jobId);
    } catch (err) {
      if (isCasConflict(err) || isUniqueViolation(err, "events.id")) return "gone";
      throw err;
    }
  }
  for (let attempt = 1; ; attempt++) {
    const started: { cursor?: number } = {};
    try {
      return await runRolesChunk(db, env, jobId, started);
    } catch (err) {
      if (!isCasConflict(err)) throw err;
      if ((await selectJob(db, jobId))[0]?.cursor !== started.cursor) return "gone";
      if (attempt >= CHUNK_ATTEMPTS) return "more";
    }
  }
}

/** The queue consumer's handler of a job message: one chunk, then a message for the next. */
export async function handleJobMessage(env: Bindings, jobId: string): Promise<void> {
  if ((await runJobChunk(env, jobId)) === "more") await kickJob(env.EVENTS, jobId);
}

/** Cron: resume running jobs whose chain of messages broke (a lost or dead message, a crash). */
export async function resumeStalledJobs(env: Bindings, now: number): Promise<number> {
  const db = getDb(env.DB);
  const stalled = await stalledJobs(db, new Date(now - JOB_STALL_MS).toISOString());
  for (const { id } of stalled) {
    await touchJob(db, id, new Date(now).toISOString());
    await kickJob(env.EVENTS, id);
  }
  return stalled.length;
}

/** scim-events-dlq: a job message that failed every retry stops its job, with the reason. */
export async function failJobFromDlq(env: Bindings, jobId: string): Promise<void> {
  await failJob(
    getDb(env.DB),
    jobId,
    "a chunk failed on every retry (see the Worker's logs); start it again from /admin",
    new Date().toISOString(),
  );
}
