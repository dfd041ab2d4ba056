import { and, desc, eq, sql } from "drizzle-orm";
import type { JobKind, ResyncStage } from "../lifecycle/jobs";
import type { Db } from "./client";
import { groups, jobs, users } from "./schema";

export type JobRow = typeof jobs.$inferSelect;

/** A job's id: its kind's prefix (for people reading logs; the runner reads the kind column), then random hex. */
export function newJobId(kind: JobKind = "roles"): string {
  return `${kind === "resync" ? "resync_" : "job_"}${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * Starting a job, for the batch of the change that needs it: any running job of the same kind is
 * superseded (the new one visits everything again, with the settings as they are now), and the
 * new one counts the users it will visit.
 */
export function startJobStatements(
  db: Db,
  job: { id: string; kind: JobKind; reason: string; actor: string | null; baseUrl: string },
  at: string,
) {
  return [
    db
      .update(jobs)
      .set({ state: "superseded", updatedAt: at, finishedAt: at })
      .where(and(eq(jobs.kind, job.kind), eq(jobs.state, "running"))),
    db.insert(jobs).values({
      id: job.id,
      kind: job.kind,
      state: "running",
      reason: job.reason,
      actor: job.actor,
      baseUrl: job.baseUrl,
      total: sql`(SELECT count(*) FROM ${users})`,
      createdAt: at,
      updatedAt: at,
    }),
  ] as const;
}

export const selectJob = (db: Db, id: string) => db.select().from(jobs).where(eq(jobs.id, id));

/** The newest jobs of a kind, for the admin page. */
export const latestJobs = (db: Db, kind: JobKind, limit: number) =>
  db.select().from(jobs).where(eq(jobs.kind, kind)).orderBy(desc(jobs.createdAt), desc(sql`rowid`)).limit(limit);

/** Running jobs nobody has advanced since `before`: their queue message was lost (cron resumes them). */
export const stalledJobs = (db: Db, before: string) =>
  db
    .select({ id: jobs.id, kind: jobs.kind })
    .from(jobs)
    .where(and(eq(jobs.state, "running"), sql`${jobs.updatedAt} < ${before}`))
    .limit(10);

export const touchJob = (db: Db, id: string, at: string) =>
  db
    .update(jobs)
    .set({ updatedAt: at })
    .where(and(eq(jobs.id, id), eq(jobs.state, "running")));

export const failJob = (db: Db, id: string, error: string, at: string) =>
  db
    .update(jobs)
    .set({ state: "failed", error: error.slice(0, 500), updatedAt: at, finishedAt: at })
    .where(and(eq(jobs.id, id), eq(jobs.state, "running")));

/** A role chunk's progress (src/write/cas.ts advanceJob moves the cursor compare-and-set). */
export function roleProgress(progress: { cursor: number; processed: number; changed: number; kept: number; done: boolean }, at: string) {
  return {
    cursor: progress.cursor,
    processed: sql`${jobs.processed} + ${progress.processed}`,
    changed: sql`${jobs.changed} + ${progress.changed}`,
    kept: sql`${jobs.kept} + ${progress.kept}`,
    chunks: sql`${jobs.chunks} + 1`,
    updatedAt: at,
    ...(progress.done ? { state: "done" as const, finishedAt: at } : {}),
  };
}

const RESYNC_REASON = "full resync";
export const RESYNC_DRY_RUN_REASON = "full resync (dry run: recorded, not delivered)";

/**
 * A resync's row: the users then the groups to visit, counted when it starts. Inserting it fails
 * on jobs_one_resync_uq while another resync runs (the caller answers 409).
 */
export const insertResync = (db: Db, job: { id: string; actor: string | null; baseUrl: string; dryRun: boolean }, at: string) =>
  db.insert(jobs).values({
    id: job.id,
    kind: "resync",
    state: "running",
    stage: "users",
    reason: job.dryRun ? RESYNC_DRY_RUN_REASON : RESYNC_REASON,
    actor: job.actor,
    baseUrl: job.baseUrl,
    total: sql`(SELECT count(*) FROM ${users}) + (SELECT count(*) FROM ${groups})`,
    createdAt: at,
    updatedAt: at,
  });

export const runningResync = (db: Db) =>
  db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.kind, "resync"), eq(jobs.state, "running")));

/** A resync chunk's progress; `changed` counts the events it emitted (src/write/cas.ts advanceJob moves the cursor). */
export function resyncProgress(
  progress: { stage: ResyncStage; cursor: number; processed: number; emitted: number; done: boolean },
  at: string,
) {
  return {
    stage: progress.stage,
    cursor: progress.cursor,
    processed: sql`${jobs.processed} + ${progress.processed}`,
    changed: sql`${jobs.changed} + ${progress.emitted}`,
    chunks: sql`${jobs.chunks} + 1`,
    updatedAt: at,
    ...(progress.done ? { state: "done" as const, finishedAt: at } : {}),
  };
}
