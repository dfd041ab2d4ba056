import { asc, count, eq, inArray } from "drizzle-orm";
import { Hono } from "hono";
import { getDb, isoNow } from "../db/client";
import { type JobRow, latestJobs, newJobId, selectJob, startJobStatements } from "../db/jobs";
import { groupMembers, groups } from "../db/schema";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { validate } from "../http/validate";
import { JOB_START_DELAY_SECONDS, kickOrLeaveToCron } from "../jobs/runner";
import { SCIM_BASE_PATH } from "../middleware/context";
import { describeSettingsChange, type Settings, settingsPatchSchema } from "../settings/model";
import { invalidateSettingsCache, loadSettings, saveSettingsStatement } from "../settings/store";
import { recordAction } from "./actions";

/** What in a settings change feeds the role decisions (null: nothing), in words for the log. */
function roleInputsChanged(before: Settings, after: Settings): string | null {
  const changes = describeSettingsChange(before, after).filter(
    (line) =>
      line.startsWith("moderatorGroup:") ||
      line.startsWith("adminGroup:") ||
      line === "allowModeratorPromotion: false → true" ||
      line === "allowAdminPromotion: false → true",
  );
  return changes.length ? changes.join(", ") : null;
}

const scimBase = (url: string) => `${new URL(url).origin}${SCIM_BASE_PATH}`;

function presentJob(row: JobRow) {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    reason: row.reason,
    total: row.total,
    processed: row.processed,
    changed: row.changed,
    kept: row.kept,
    error: row.error,
    actor: row.actor,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}

/** /admin/api/settings, /admin/api/groups (the mappable groups) and /admin/api/jobs. */
export const settingsAdminRoutes = new Hono<AppEnv>()
  .get("/settings", async (c) => {
    invalidateSettingsCache();
    return c.json(await loadSettings(getDb(c.env.DB)));
  })
  .put("/settings", validate("json", settingsPatchSchema), async (c) => {
    const patch = c.req.valid("json");
    const db = getDb(c.env.DB);
    // A mapped group must exist: a typo would silently map nobody.
    const named = [patch.moderatorGroup, patch.adminGroup].filter((g): g is string => typeof g === "string");
    if (named.length) {
      const found = new Set((await db.select({ id: groups.id }).from(groups).where(inArray(groups.id, named))).map((r) => r.id));
      const missing = named.filter((g) => !found.has(g));
      if (missing.length) {
        throw new AdminError(
          400,
          "invalid_settings",
          missing.map((g) => `no group with id "${g}"; push the group from your IdP first, then pick it`).join("; "),
        );
      }
    }
    invalidateSettingsCache();
    const before = await loadSettings(db);
    const after: Settings = { ...before, ...patch };
    const log = c.get("log");
    log.touch("Settings", "settings");
    for (const line of describeSettingsChange(before, after)) log.decide(`setting changed: ${line}`);
    const at = isoNow();
    // Mapping a group, unmapping it, or turning a promotion on re-evaluates every user's role in
    // the background (SPEC §5); turning a promotion off keeps existing roles, so it starts nothing.
    const reevaluate = roleInputsChanged(before, after);
    const jobId = reevaluate ? newJobId() : undefined;
    if (jobId) log.decide(`every user's role is re-evaluated in the background (${jobId})`);
    const job =
      jobId && reevaluate
        ? startJobStatements(
            db,
            { id: jobId, kind: "roles", reason: reevaluate, actor: log.actor ?? null, baseUrl: scimBase(c.req.url) },
            at,
          )
        : [];
    await db.batch([saveSettingsStatement(db, after, at), ...job, log.statement(db, 200, { at })]);
    log.written = true;
    invalidateSettingsCache();
    if (jobId) await kickOrLeaveToCron(c.env.EVENTS, jobId, JOB_START_DELAY_SECONDS);
    return c.json(after);
  })
  /** The groups an admin can map to roles (id, name, member count), for the settings page. */
  .get("/groups", async (c) => {
    const db = getDb(c.env.DB);
    const rows = await db
      .select({ id: groups.id, displayName: groups.displayName, members: count(groupMembers.userId) })
      .from(groups)
      .leftJoin(groupMembers, eq(groupMembers.groupId, groups.id))
      .groupBy(groups.id)
      .orderBy(asc(groups.displayNameNorm))
      .limit(500);
    return c.json({ groups: rows });
  })
  /** The latest role re-evaluations, newest first: progress for the admin page. */
  .get("/jobs", async (c) => {
    const rows = await latestJobs(getDb(c.env.DB), "roles", 5);
    return c.json({ jobs: rows.map(presentJob) });
  })
  /** Re-evaluates every user's role now (after fixing a source by hand, or a failed job). */
  .post("/jobs/roles", async (c) => {
    const db = getDb(c.env.DB);
    const jobId = newJobId();
    const reason = "started from the admin page";
    await db.batch([
      ...startJobStatements(
        db,
        { id: jobId, kind: "roles", reason, actor: c.get("log").actor ?? null, baseUrl: scimBase(c.req.url) },
        isoNow(),
      ),
    ]);
    await recordAction(c, `every user's role is re-evaluated in the background (${jobId})`, undefined, 202);
    await kickOrLeaveToCron(c.env.EVENTS, jobId, 0);
    const [row] = await selectJob(db, jobId);
    return c.json(row ? presentJob(row) : { id: jobId }, 202);
  });
