import { asc, count, eq, inArray } from "drizzle-orm";
import { Hono } from "hono";
import { getDb, isoNow } from "../db/client";
import { logStatement } from "../db/log";
import { groupMembers, groups } from "../db/schema";
import type { AppEnv } from "../env";
import { Audit } from "../http/audit";
import { JOB_START_DELAY_SECONDS, kickJob } from "../jobs/runner";
import { type JobRow, latestJobs, newJobId, selectJob, startJobStatements } from "../jobs/store";
import { SCIM_BASE_PATH } from "../middleware/context";
import { describeSettingsChange, type Settings, settingsPatchSchema } from "../settings/model";
import { invalidateSettingsCache, loadSettings, saveSettingsStatement } from "../settings/store";
import { adminAuth } from "./auth";
import { eventsAdminRoutes } from "./events-api";
import { logAdminRoutes } from "./log-api";

export const adminApi = new Hono<AppEnv>();

adminApi.use("*", adminAuth());

adminApi.get("/settings", async (c) => {
  invalidateSettingsCache();
  return c.json(await loadSettings(getDb(c.env.DB)));
});

adminApi.put("/settings", async (c) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return c.json({ error: "invalid_json", detail: "The body must be a JSON object of settings." }, 400);
  }
  const parsed = settingsPatchSchema.safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    return c.json({ error: "invalid_settings", detail }, 400);
  }
  const db = getDb(c.env.DB);
  // A mapped group must exist: a typo would silently map nobody.
  const named = [parsed.data.moderatorGroup, parsed.data.adminGroup].filter((g): g is string => typeof g === "string");
  if (named.length) {
    const found = new Set((await db.select({ id: groups.id }).from(groups).where(inArray(groups.id, named))).map((r) => r.id));
    const missing = named.filter((g) => !found.has(g));
    if (missing.length) {
      const detail = missing.map((g) => `no group with id "${g}"; push the group from your IdP first, then pick it`).join("; ");
      return c.json({ error: "invalid_settings", detail }, 400);
    }
  }
  invalidateSettingsCache();
  const before = await loadSettings(db);
  const after: Settings = { ...before, ...parsed.data };
  const audit = new Audit();
  audit.touch("Settings", "settings");
  for (const line of describeSettingsChange(before, after)) audit.decide(`setting changed: ${line}`);
  const at = isoNow();
  // Mapping a group, unmapping it, or turning a promotion on re-evaluates every user's role in
  // the background (SPEC §5); turning a promotion off keeps existing roles, so it starts nothing.
  const reevaluate = roleInputsChanged(before, after);
  const jobId = reevaluate ? newJobId() : undefined;
  if (jobId) audit.decide(`every user's role is re-evaluated in the background (${jobId})`);
  const baseUrl = `${new URL(c.req.url).origin}${SCIM_BASE_PATH}`;
  const job = jobId ? startJobStatements(db, { id: jobId, kind: "roles", reason: reevaluate ?? "", actor: null, baseUrl }, at) : [];
  await db.batch([
    saveSettingsStatement(db, after, at),
    ...job,
    logStatement(db, { at, requestId: crypto.randomUUID(), method: "PUT", path: "/admin/api/settings", status: 200, audit }),
  ]);
  invalidateSettingsCache();
  if (jobId) await kickOrLeaveToCron(c.env.EVENTS, jobId, JOB_START_DELAY_SECONDS);
  return c.json(after);
});

/** A refused queue send only delays the job: the cron resumes a job that does not advance. */
async function kickOrLeaveToCron(queue: AppEnv["Bindings"]["EVENTS"], jobId: string, delaySeconds: number): Promise<void> {
  try {
    await kickJob(queue, jobId, delaySeconds);
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", message: "could not start a job now; the cron resumes it", jobId, err: String(err) }));
  }
}

/** The latest role re-evaluations, newest first: progress for the admin page. */
adminApi.get("/jobs", async (c) => {
  const rows = await latestJobs(getDb(c.env.DB), "roles", 5);
  return c.json({ jobs: rows.map(presentJob) });
});

/** Re-evaluates every user's role now (after fixing a source by hand, or a failed job). */
adminApi.post("/jobs/roles", async (c) => {
  const db = getDb(c.env.DB);
  const jobId = newJobId();
  const at = isoNow();
  const audit = new Audit();
  audit.decide(`every user's role is re-evaluated in the background (${jobId})`);
  const baseUrl = `${new URL(c.req.url).origin}${SCIM_BASE_PATH}`;
  await db.batch([
    ...startJobStatements(db, { id: jobId, kind: "roles", reason: "started from the admin page", actor: null, baseUrl }, at),
    logStatement(db, { at, requestId: crypto.randomUUID(), method: "POST", path: "/admin/api/jobs/roles", status: 202, audit }),
  ]);
  await kickOrLeaveToCron(c.env.EVENTS, jobId, 0);
  const [row] = await selectJob(db, jobId);
  return c.json(row ? presentJob(row) : { id: jobId }, 202);
});

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
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}

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

adminApi.route("/events", eventsAdminRoutes);

/** The groups an admin can map to roles (id, name, member count), for the settings page. */
adminApi.get("/groups", async (c) => {
  const db = getDb(c.env.DB);
  const rows = await db
    .select({ id: groups.id, displayName: groups.displayName, members: count(groupMembers.userId) })
    .from(groups)
    .leftJoin(groupMembers, eq(groupMembers.groupId, groups.id))
    .groupBy(groups.id)
    .orderBy(asc(groups.displayNameNorm))
    .limit(500);
  return c.json({ groups: rows });
});
adminApi.route("/", logAdminRoutes);
