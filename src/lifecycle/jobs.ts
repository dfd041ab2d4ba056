/**
 * Background jobs (src/jobs/), typed once: their kinds, their states and a resync's stages. The
 * `jobs` columns are typed by these (src/db/schema.ts) and the runner dispatches on the kind with
 * an exhaustive switch, so a new kind cannot be stored without a runner.
 */
export const JOB_KINDS = [
  /** Re-evaluates every user's role after a settings change or a big mapped-group change. */
  "roles",
  /** Sends every user and group to the site again (user.synced, group.synced). */
  "resync",
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = [
  "running",
  "done",
  /** A newer job of the same kind started: it visits everything again with the newer settings. */
  "superseded",
  "failed",
] as const;

/** A resync sends its users, then its groups; the job's cursor is a seq within its stage. */
export const RESYNC_STAGES = ["users", "groups"] as const;
export type ResyncStage = (typeof RESYNC_STAGES)[number];
