import { asc, count, eq, inArray } from "drizzle-orm";
import { Hono } from "hono";
import { getDb, isoNow } from "../db/client";
import { logStatement } from "../db/log";
import { groupMembers, groups } from "../db/schema";
import type { AppEnv } from "../env";
import { Audit } from "../http/audit";
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
  await db.batch([
    saveSettingsStatement(db, after, at),
    logStatement(db, { at, requestId: crypto.randomUUID(), method: "PUT", path: "/admin/api/settings", status: 200, audit }),
  ]);
  invalidateSettingsCache();
  return c.json(after);
});

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
