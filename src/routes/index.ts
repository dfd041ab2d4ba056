import { Hono } from "hono";
import type { AppEnv } from "../env";
import { renderScimError } from "../http/errors";
import { provisioningLog } from "../middleware/provisioning-log";
import { rateLimit } from "../middleware/rate-limit";
import { scimAuth } from "../middleware/scim-auth";
import { scimEnabled } from "../middleware/scim-enabled";
import { ScimError } from "../scim/errors";
import { bulkRoutes } from "./bulk";
import { discoveryRoutes } from "./discovery";
import { groupRoutes } from "./groups";
import { meRoutes } from "./me";
import { searchRoutes } from "./search";
import { userRoutes } from "./users";

/**
 * The SCIM API (SPEC §4), mounted at /api/scim/v2: the provisioning log (written last), the rate
 * limit (before auth, so a flood of bad tokens is throttled too), bearer auth, the on/off switch,
 * then the endpoints. Its errors are RFC 7644 §3.12 bodies, rendered by its own onError.
 */
export function scimApp(): Hono<AppEnv> {
  const scim = new Hono<AppEnv>({ strict: false });
  scim.use("*", provisioningLog(), rateLimit(), scimAuth(), scimEnabled());
  scim.route("/", discoveryRoutes);
  scim.route("/Users", userRoutes);
  scim.route("/Groups", groupRoutes);
  scim.route("/Bulk", bulkRoutes);
  scim.route("/Me", meRoutes);
  scim.route("/", searchRoutes);
  scim.all("*", (c) => {
    throw new ScimError(404, undefined, `There is no SCIM endpoint at ${new URL(c.req.url).pathname}.`);
  });
  scim.onError(renderScimError);
  return scim;
}
