import { Hono } from "hono";
import type { AppEnv } from "../env";
import { renderAdminError } from "../http/errors";
import { jsonBodies } from "../http/validate";
import { adminAuth } from "./auth";
import { eventsAdminRoutes } from "./events";
import { logAdminRoutes } from "./log";
import { settingsAdminRoutes } from "./settings";

/**
 * The admin API (SPEC §10), mounted at /admin/api: the admin's sign-in, JSON bodies only, then
 * settings, events and the log. Errors are `{error, detail}` bodies, from its own onError.
 */
export const adminApi = new Hono<AppEnv>();

adminApi.use("*", adminAuth(), jsonBodies());
adminApi.route("/", settingsAdminRoutes);
adminApi.route("/events", eventsAdminRoutes);
adminApi.route("/", logAdminRoutes);
adminApi.all("*", (c) => c.json({ error: "not_found", detail: `There is no admin API endpoint at ${new URL(c.req.url).pathname}.` }, 404));
adminApi.onError(renderAdminError);
