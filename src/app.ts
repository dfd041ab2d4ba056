import { Hono } from "hono";
import { adminApi } from "./admin/api";
import { adminPage } from "./admin/page";
import type { AppEnv } from "./env";
import { scimAwareGetPath } from "./http/scim-path";
import { requestContext, SCIM_BASE_PATH } from "./middleware/context";
import { oauthRoutes } from "./oauth/token-endpoint";
import { scimApp } from "./routes";
import { SITE_API_PATH, siteApi } from "./site/api";

/**
 * The Worker's HTTP side: the request context for everything, then four sub-apps, each with its
 * own middleware and its own onError: the SCIM API, the site API (the pull feed), the admin API
 * and the admin page.
 */
export function buildApp(): Hono<AppEnv> {
  // Endpoints in any letter case (`/users`): routing sees the canonical spelling.
  const app = new Hono<AppEnv>({ getPath: scimAwareGetPath(SCIM_BASE_PATH) });
  app.use("*", requestContext());
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.route(SCIM_BASE_PATH, scimApp());
  app.route(SITE_API_PATH, siteApi);
  app.route("/", oauthRoutes);
  app.route("/admin/api", adminApi);
  app.route("/admin", adminPage);
  app.notFound((c) => c.json({ error: "not_found", detail: `Nothing at ${new URL(c.req.url).pathname}.` }, 404));
  return app;
}
