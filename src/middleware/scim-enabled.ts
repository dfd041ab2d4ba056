import type { MiddlewareHandler } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { ScimError } from "../scim/errors";
import { loadVersionedSettings } from "../settings/store";

/** SCIM switched off in settings: every SCIM endpoint is 403 with a reason Okta shows the admin. */
export function scimEnabled(): MiddlewareHandler<AppEnv> {
  return async function scimEnabledMiddleware(c, next) {
    const { value: settings, version } = await loadVersionedSettings(getDb(c.env.DB));
    c.set("settings", settings);
    c.set("settingsVersion", version);
    if (!settings.scimEnabled) {
      throw new ScimError(
        403,
        undefined,
        "SCIM provisioning is disabled for this site. An administrator can turn it on in the site's SCIM settings (/admin).",
      );
    }
    await next();
  };
}
