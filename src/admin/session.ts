import { Hono } from "hono";
import type { AppEnv } from "../env";
import { queryObject, validate } from "../http/validate";
import { TOKEN_ACTOR } from "./auth";

/**
 * GET /admin/api/session: who the admin page is signed in as. Behind Cloudflare Access the page
 * asks this first, with no token: Access's header alone signs the admin in.
 */
export const sessionAdminRoutes = new Hono<AppEnv>().get("/session", validate("query", queryObject({})), (c) => {
  const actor = c.get("log").actor ?? TOKEN_ACTOR;
  return c.json({ actor, via: actor === TOKEN_ACTOR ? ("token" as const) : ("access" as const) });
});
