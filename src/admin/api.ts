import { Hono } from "hono";
import type { AppEnv } from "../env";
import { AdminError, renderAdminError } from "../http/errors";
import { jsonBodies } from "../http/validate";
import { adminAuth } from "./auth";
import { credentialsAdminRoutes } from "./credentials";
import { eventsAdminRoutes } from "./events";
import { exportAdminRoutes } from "./export";
import { logAdminRoutes } from "./log";
import { oauthClientsAdminRoutes } from "./oauth-clients";
import { resyncAdminRoutes } from "./resync";
import { sessionAdminRoutes } from "./session";
import { settingsAdminRoutes } from "./settings";
import { statsAdminRoutes } from "./stats";
import { usersAdminRoutes } from "./users";

/**
 * Every admin API route, chained so that the type carries each path, input and answer: the admin
 * page's client (src/admin/ui/api.ts, hono/client) is typed from it, so a renamed field, state or
 * path fails to compile there.
 */
const adminRoutes = new Hono<AppEnv>()
  .route("/", sessionAdminRoutes)
  .route("/", settingsAdminRoutes)
  .route("/events", eventsAdminRoutes)
  .route("/", exportAdminRoutes)
  .route("/", logAdminRoutes)
  .route("/", usersAdminRoutes)
  .route("/", statsAdminRoutes)
  .route("/", resyncAdminRoutes)
  .route("/oauth", oauthClientsAdminRoutes)
  .route("/", credentialsAdminRoutes);

export type AdminRoutes = typeof adminRoutes;

/**
 * The admin API (SPEC §10), mounted at /admin/api: the admin's sign-in, JSON bodies only, then
 * the routes. Errors are `{error, detail}` bodies, from its own onError.
 */
export const adminApi = new Hono<AppEnv>();

/**
 * Every answer of the admin API, errors and exports included, is `Cache-Control: no-store`: it
 * holds the directory and the log, and no browser cache or proxy may keep a copy.
 */
adminApi.use("*", async function noStore(c, next) {
  await next();
  c.header("Cache-Control", "no-store");
});
adminApi.use("*", adminAuth(), jsonBodies());
adminApi.route("/", adminRoutes);
adminApi.all("*", (c) => {
  throw new AdminError(404, "not_found", `There is no admin API endpoint at ${new URL(c.req.url).pathname}.`);
});
adminApi.onError(renderAdminError);
