import { getDb } from "../db/client";
import type { Bindings } from "../env";
import { freeOrphanedNameHolds, pruneEvents, pruneGuardChanges, pruneLog, reclaimLost, sendPulled, sweepPending } from "../events/sweeper";
import { backfillFolded } from "../jobs/fold";
import { resumeStalledJobs } from "../jobs/runner";
import { loadSettings } from "../settings/store";

/** How long one cron run may spend refolding users written with an older fold (src/jobs/fold.ts). */
const FOLD_BUDGET_MS = 15_000;

/**
 * Cron (every minute, wrangler.toml): re-send unsent and lost outbox rows; prune the log and
 * delivered events; resume stalled jobs; refold users written with an older fold.
 */
export async function handleScheduled(controller: ScheduledController, env: Bindings, ctx: ExecutionContext): Promise<void> {
  void ctx;
  const db = getDb(env.DB);
  const now = controller.scheduledTime || Date.now();
  const failures: string[] = [];
  // Each task runs even if the other fails: a D1 hiccup in pruning must not stall the outbox.
  let resent = 0;
  let pruned = 0;
  try {
    await reclaimLost(db, now);
    await freeOrphanedNameHolds(db, new Date(now).toISOString());
    // Back in push mode: what pull mode left for the site to read is sent (cached settings, 5 s).
    if ((await loadSettings(db)).siteDelivery === "push") resent += await sendPulled(db, env.EVENTS, now);
    resent += await sweepPending(db, env.EVENTS, now);
  } catch (err) {
    failures.push(`outbox sweep: ${String(err)}`);
  }
  let prunedEvents = 0;
  try {
    const settings = await loadSettings(db);
    pruned = await pruneLog(db, settings.logRetentionDays, now);
    prunedEvents = await pruneEvents(db, settings.eventRetentionDays, now);
    await pruneGuardChanges(db, now);
  } catch (err) {
    failures.push(`retention: ${String(err)}`);
  }
  let resumed = 0;
  try {
    resumed = await resumeStalledJobs(env, now);
  } catch (err) {
    failures.push(`job resume: ${String(err)}`);
  }
  let folded = 0;
  try {
    folded = await backfillFolded(db, FOLD_BUDGET_MS);
  } catch (err) {
    failures.push(`fold backfill: ${String(err)}`);
  }
  if (resent > 0 || pruned > 0 || prunedEvents > 0 || resumed > 0 || folded > 0) {
    console.log(JSON.stringify({ level: "info", message: "sweeper", resent, pruned, prunedEvents, resumed, folded }));
  }
  if (failures.length > 0) {
    console.error(JSON.stringify({ level: "error", message: "sweeper failed", failures }));
    // Throwing marks this cron run failed in the dashboard; the next run tries again.
    throw new Error(failures.join("; "));
  }
}
