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
import { configuredTokens } from "../middleware/tokens";
import { etagOf } from "../scim/etag";
import { changesRoles, describeChange, diffSettings, type SettingChange, type Settings, settingsPatchSchema } from "../settings/model";
import { invalidateSettingsCache, readSettings } from "../settings/store";
import { writeSettings } from "../write/cas";
import { commitPlain, type Refusal, retryOnConflict } from "../write/kernel";
import { recordAction } from "./actions";

const scimBase = (url: string) => `${new URL(url).origin}${SCIM_BASE_PATH}`;

/** A changed setting in words, with mapped groups named (`moderatorGroup: null → "Site Moderators"`), not by id alone. */
function inWords(change: SettingChange, names: ReadonlyMap<string, string>): string {
  if (change.key !== "moderatorGroup" && change.key !== "adminGroup") return describeChange(change);
  const name = (id: string | null) => (id === null ? "null" : JSON.stringify(names.get(id) ?? id));
  return `${change.key}: ${name(change.from)} → ${name(change.to)}`;
}

const adminRefusal: Refusal = (status, detail) =>
  new AdminError(status, status === 412 ? "precondition_failed" : "conflict", detail.replace("GET it again", "reload the settings"));

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
    const { value, version } = await readSettings(getDb(c.env.DB));
    c.header("ETag", etagOf(version));
    return c.json(value);
  })
  /**
   * A save is a compare-and-set on the settings' version: two saves at once both land (the second
   * is merged onto the first), and with If-Match (the ETag of GET) a save made from a stale page is
   * 412 instead of undoing a change the admin did not see.
   */
  .put("/settings", validate("json", settingsPatchSchema), async (c) => {
    const patch = c.req.valid("json");
    const db = getDb(c.env.DB);
    // A mapped group must exist: a typo would silently map nobody.
    const named = [patch.moderatorGroup, patch.adminGroup].filter((g): g is string => typeof g === "string");
    const before = await readSettings(db);
    const mapped = [before.value.moderatorGroup, before.value.adminGroup].filter((g): g is string => typeof g === "string");
    const ids = [...new Set([...named, ...mapped])];
    const rows = ids.length ? await db.select({ id: groups.id, name: groups.displayName }).from(groups).where(inArray(groups.id, ids)) : [];
    const names = new Map(rows.map((r) => [r.id, r.name]));
    const missing = named.filter((g) => !names.has(g));
    if (missing.length) {
      throw new AdminError(
        400,
        "invalid_settings",
        missing.map((g) => `no group with id "${g}"; push the group from your IdP first, then pick it`).join("; "),
      );
    }
    // Pull mode without the site's token would publish to a feed nobody can read.
    if (patch.siteDelivery === "pull" && before.value.siteDelivery !== "pull" && configuredTokens(c.env.SITE_API_TOKEN).length === 0) {
      throw new AdminError(
        409,
        "site_api_token_unset",
        "siteDelivery pull needs SITE_API_TOKEN, the token the site reads the feed with: set it with `wrangler secret put SITE_API_TOKEN`, give it to the site, then choose pull.",
      );
    }
    const log = c.get("log");
    log.touch("Settings", "settings");
    const ifMatch = c.req.header("if-match");
    let first = true;
    const saved = await retryOnConflict(
      { log, ifMatch },
      "settings",
      async () => {
        const stored = first ? before : await readSettings(db);
        first = false;
        if (ifMatch !== undefined && ifMatch !== etagOf(stored.version) && ifMatch !== "*") {
          throw adminRefusal(412, "The settings were changed since this page read them; reload the settings and save again.");
        }
        const after: Settings = { ...stored.value, ...patch };
        const changes = diffSettings(stored.value, after);
        for (const change of changes) log.decide(`setting changed: ${inWords(change, names)}`);
        const at = isoNow();
        // Mapping a group, unmapping it, or turning a promotion on re-evaluates every user's role in
        // the background (SPEC §5); turning a promotion off keeps existing roles, so it starts nothing.
        const reevaluate = changes.filter(changesRoles).map((change) => inWords(change, names));
        const jobId = reevaluate.length ? newJobId() : undefined;
        if (jobId) log.decide(`every user's role is re-evaluated in the background (${jobId})`);
        const job = jobId
          ? startJobStatements(
              db,
              { id: jobId, kind: "roles", reason: reevaluate.join(", "), actor: log.actor ?? null, baseUrl: scimBase(c.req.url) },
              at,
            )
          : [];
        log.successStatus = 200;
        await commitPlain(
          db,
          { cas: [writeSettings(db, stored.version, JSON.stringify(after), at)], statements: [...job], eventIds: [] },
          log,
          at,
        );
        return { after, version: stored.version + 1, jobId };
      },
      adminRefusal,
    );
    invalidateSettingsCache();
    if (saved.jobId) await kickOrLeaveToCron(c.env.EVENTS, { id: saved.jobId, kind: "roles" }, JOB_START_DELAY_SECONDS);
    c.header("ETag", etagOf(saved.version));
    return c.json(saved.after);
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
    await kickOrLeaveToCron(c.env.EVENTS, { id: jobId, kind: "roles" }, 0);
    const [row] = await selectJob(db, jobId);
    return c.json(row ? presentJob(row) : { id: jobId }, 202);
  });
