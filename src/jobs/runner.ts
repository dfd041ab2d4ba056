import { getDb } from "../db/client";
import { failJob, selectJob, stalledJobs, touchJob } from "../db/jobs";
import type { Bindings, QueueMessage } from "../env";
import type { JobKind } from "../lifecycle/jobs";
import { SETTINGS_TTL_MS } from "../settings/store";
import type { JobPosition } from "../write/cas";
import { WriteConflict } from "../write/kernel";
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

/** Where a chunk found its job: set by the chunk when it reads it, to tell later who moved it. */
export interface Started {
  at?: JobPosition;
}

/** The chunk function of each kind: a new kind without one does not compile. */
const RUNNERS: Record<JobKind, (env: Bindings, jobId: string, started: Started) => Promise<ChunkOutcome>> = {
  roles: (env, jobId, started) => runRolesChunk(getDb(env.DB), env, jobId, started),
  resync: (env, jobId, started) => runResyncChunk(getDb(env.DB), env, jobId, started),
};

/** A job as its messages name it. */
export interface JobRef {
  id: string;
  kind: JobKind;
}

/** Asks the queue consumer for the next chunk of a job. */
export async function kickJob(queue: JobQueue, job: JobRef, delaySeconds = 0): Promise<void> {
  await queue.send({ v: 1, type: "job", jobId: job.id, kind: job.kind }, delaySeconds > 0 ? { delaySeconds } : undefined);
}

/** Starts a job from a request: a refused queue send only delays it (the cron resumes a job that does not advance). */
export async function kickOrLeaveToCron(queue: JobQueue, job: JobRef, delaySeconds: number): Promise<void> {
  try {
    await kickJob(queue, job, delaySeconds);
  } catch (err) {
    console.warn(
      JSON.stringify({ level: "warn", message: "could not start a job now; the cron resumes it", jobId: job.id, err: String(err) }),
    );
  }
}

const positionOf = async (db: ReturnType<typeof getDb>, jobId: string) => (await selectJob(db, jobId))[0];

/**
 * One chunk of a job, by its kind (from the message, else from its row). A chunk that loses a
 * compare-and-set is explained by reading the job: if its cursor moved since the chunk read it
 * (another runner applied this chunk) or it stopped running, this runner stops; if not (a role
 * chunk lost to a concurrent user write), it reads and decides again. Anything else is thrown, so
 * the queue retries the message, and the retry goes on from wherever the job stands then.
 */
export async function runJobChunk(env: Bindings, jobId: string, kind?: JobKind): Promise<ChunkOutcome> {
  const db = getDb(env.DB);
  const known = kind ?? (await positionOf(db, jobId))?.kind;
  if (known === undefined) return "gone";
  for (let attempt = 1; ; attempt++) {
    const started: Started = {};
    try {
      return await RUNNERS[known](env, jobId, started);
    } catch (err) {
      if (!(err instanceof WriteConflict)) throw err;
      const now = await positionOf(db, jobId);
      const at = started.at;
      if (now?.state !== "running" || at === undefined || now.cursor !== at.cursor || now.stage !== at.stage) return "gone";
      if (attempt >= CHUNK_ATTEMPTS) return "more";
    }
  }
}

/** The queue consumer's handler of a job message: one chunk, then a message for the next. */
export async function handleJobMessage(env: Bindings, job: { id: string; kind?: JobKind }): Promise<void> {
  const outcome = await runJobChunk(env, job.id, job.kind);
  if (outcome !== "more") return;
  const kind = job.kind ?? (await positionOf(getDb(env.DB), job.id))?.kind;
  if (kind) await kickJob(env.EVENTS, { id: job.id, kind });
}

/** Cron: resume running jobs whose chain of messages broke (a lost or dead message, a crash). */
export async function resumeStalledJobs(env: Bindings, now: number): Promise<number> {
  const db = getDb(env.DB);
  const stalled = await stalledJobs(db, new Date(now - JOB_STALL_MS).toISOString());
  for (const job of stalled) {
    await touchJob(db, job.id, new Date(now).toISOString());
    await kickJob(env.EVENTS, job);
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
