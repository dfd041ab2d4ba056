import { Hono } from "hono";
import { adminApi } from "./admin/api";
import { adminPage } from "./admin/page";
import type { AppEnv } from "./env";
import { renderError } from "./http/respond";
import { requestContext, SCIM_BASE_PATH } from "./middleware/context";
import { rateLimit } from "./middleware/rate-limit";
import { requestLog } from "./middleware/request-log";
import { scimAuth } from "./middleware/scim-auth";
import { scimEnabled } from "./middleware/scim-enabled";
import { bulkRoutes } from "./routes/bulk";
import { discoveryRoutes } from "./routes/discovery";
import { groupRoutes } from "./routes/groups";
import { setDispatcher } from "./routes/internal";
import { scimMiscRoutes } from "./routes/misc";
import { userRoutes } from "./routes/users";
import { ScimError } from "./scim/errors";

/**
 * The SCIM API: log, rate limit (before auth, so a flood of bad tokens is throttled too),
 * bearer auth, the on/off switch, then the resource routes.
 */
function buildScimApp(): Hono<AppEnv> {
  const scim = new Hono<AppEnv>({ strict: false });
  scim.use("*", requestLog(), rateLimit(), scimAuth(), scimEnabled());
  scim.route("/", discoveryRoutes);
  scim.route("/Users", userRoutes);
  scim.route("/Groups", groupRoutes);
  scim.route("/Bulk", bulkRoutes);
  scim.route("/", scimMiscRoutes);
  return scim;
}

export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });
  app.use("*", requestContext());

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Bulk and root .search run their operations through this same app.
  setDispatcher((req, env, ctx) => Promise.resolve(app.fetch(req, env, ctx)));
  app.route(SCIM_BASE_PATH, buildScimApp());
  app.route("/admin/api", adminApi);
  app.route("/admin", adminPage);

  // notFound and onError run on the root app only (Hono): render SCIM errors under the SCIM path.
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith(SCIM_BASE_PATH)) {
      return renderError(c, new ScimError(404, undefined, `There is no SCIM endpoint at ${path}.`), c.get("requestId"));
    }
    return c.json({ error: "not_found", detail: `Nothing at ${path}.` }, 404);
  });
  app.onError((err, c) => {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith("/admin/api") && !(err instanceof ScimError)) {
      console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), message: String(err) }));
      return c.json(
        {
          error: "internal",
          detail: `Request ${c.get("requestId")} failed; any change it made was applied whole or not at all, so reload before retrying.`,
        },
        500,
      );
    }
    return renderError(c, err, c.get("requestId") ?? "unknown");
  });
  return app;
}
