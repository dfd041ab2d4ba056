import { Hono } from "hono";
import { getDb, isoNow } from "../db/client";
import { insertResync, type JobRow, latestJobs, newJobId, RESYNC_DRY_RUN_REASON, runningResync, selectJob } from "../db/jobs";
import type { AppEnv } from "../env";
import type { Disagreement } from "../events/reconcile";
import { countDisagreements, countUndeliveredByJob, disagreementsOf } from "../events/store";
import { kickOrLeaveToCron } from "../jobs/runner";
import type { EventState } from "../lifecycle/events";
import { invalidateSettingsCache, loadSettings } from "../settings/store";
import { recordAction } from "./actions";

/** Disagreements listed per run on the admin page; the count is always complete. */
const DISAGREEMENTS_LISTED = 100;

/** How a resync's events stand, in the words of its report. */
const OUTCOME_OF: Record<EventState, "delivered" | "failed" | "waiting" | "recorded" | "discarded"> = {
  delivered: "delivered",
  rejected: "failed",
  dead: "failed",
  undeliverable: "failed",
  pending: "waiting",
  queued: "waiting",
  retrying: "waiting",
  // Pull mode: in the feed, the site has not read past it yet.
  awaiting_pull: "waiting",
  held: "waiting",
  dry_run: "recorded",
  discarded: "discarded",
};

type Counts = Record<(typeof OUTCOME_OF)[EventState], number>;

function present(row: JobRow, counts: Counts, disagreed: number, named: ReturnType<typeof listed>) {
  return {
    id: row.id,
    state: row.state,
    stage: row.stage,
    dryRun: row.reason === RESYNC_DRY_RUN_REASON,
    /** Users and groups when it started. */
    total: row.total,
    /** Users and groups sent so far. */
    visited: row.processed,
    /** Events written (a large group is several). */
    emitted: row.changed,
    events: counts,
    disagreements: { count: disagreed, listed: named },
    error: row.error,
    actor: row.actor,
    startedAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}

function listed(rows: { resourceType: string; resourceId: string; eventId: string; siteView: string }[]) {
  return rows.map((r) => {
    let seen: Partial<Disagreement> = {};
    try {
      seen = JSON.parse(r.siteView) as Disagreement;
    } catch {
      // Stored by the consumer as JSON; an unreadable one still names the resource.
    }
    return {
      resourceType: r.resourceType,
      resourceId: r.resourceId,
      name: seen.name ?? null,
      fields: seen.fields ?? [],
      site: seen.site ?? {},
      directory: seen.directory ?? {},
      eventId: r.eventId,
    };
  });
}

/**
 * /admin/api/resync (SPEC §10): start a full resync of the directory to the site, and its
 * progress. One runs at a time; it emits user.synced and group.synced events in chunks through
 * the queue (src/jobs/resync.ts) and the report counts their deliveries and the site's
 * disagreements (src/events/reconcile.ts).
 */
export const resyncAdminRoutes = new Hono<AppEnv>()
  .get("/resync", async (c) => {
    const db = getDb(c.env.DB);
    const runs = await latestJobs(db, "resync", 2);
    const [first, second] = runs;
    const [counts, disagreed, listFirst, listSecond] = await db.batch([
      countUndeliveredByJob(
        db,
        runs.map((r) => r.id),
      ),
      countDisagreements(
        db,
        runs.map((r) => r.id),
      ),
      disagreementsOf(db, first?.id ?? "", DISAGREEMENTS_LISTED),
      disagreementsOf(db, second?.id ?? "", DISAGREEMENTS_LISTED),
    ]);
    const report = (row: JobRow, named: typeof listFirst) => {
      const tally: Counts = { delivered: 0, failed: 0, waiting: 0, recorded: 0, discarded: 0 };
      for (const r of counts) if (r.jobId === row.id) tally[OUTCOME_OF[r.state as EventState] ?? "waiting"] += Number(r.n);
      tally.delivered = Math.max(0, row.changed - tally.failed - tally.waiting - tally.recorded - tally.discarded);
      return present(row, tally, Number(disagreed.find((d) => d.jobId === row.id)?.n ?? 0), listed(named));
    };
    const current = first?.state === "running" ? first : undefined;
    const last = current ? second : first;
    return c.json({
      current: current ? report(current, listFirst) : null,
      last: last ? report(last, current ? listSecond : listFirst) : null,
    });
  })
  .post("/resync", async (c) => {
    const db = getDb(c.env.DB);
    invalidateSettingsCache();
    const { dryRun } = await loadSettings(db);
    const id = newJobId("resync");
    try {
      await insertResync(db, { id, actor: c.get("log").actor ?? null, baseUrl: c.get("baseUrl"), dryRun }, isoNow()).run();
    } catch (err) {
      // One at a time (jobs_one_resync_uq): the insert failed because another is running, as a read tells.
      const running = (await runningResync(db))[0]?.id;
      if (running === undefined) throw err;
      return c.json(
        {
          error: "resync_running",
          detail: `A resync is already running (${running}); wait for it to finish, then start another.`,
          running,
        },
        409,
      );
    }
    await recordAction(
      c,
      `full resync started (${id})${dryRun ? ": dryRun is on, its events are recorded, not delivered" : ""}`,
      undefined,
      202,
    );
    await kickOrLeaveToCron(c.env.EVENTS, { id, kind: "resync" }, 0);
    const [row] = await selectJob(db, id);
    const empty: Counts = { delivered: 0, failed: 0, waiting: 0, recorded: 0, discarded: 0 };
    return c.json(row ? present(row, empty, 0, []) : { id }, 202);
  });
