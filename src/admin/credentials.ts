import { Hono } from "hono";
import { getDb } from "../db/client";
import { lastUsedStatement, STATIC_TOKENS } from "../db/credentials";
import type { AppEnv } from "../env";
import { queryObject, validate } from "../http/validate";
import { configuredScimTokens } from "../middleware/tokens";
import { TOKEN_PATH } from "../oauth/token-endpoint";
import { loadSettings } from "../settings/store";
import { clientReads, presentClients } from "./oauth-clients";

/**
 * GET /admin/api/credentials: every credential SCIM accepts and when each was last used (the
 * newest provisioning-log row it authenticated), so an admin sees when Okta or Entra moved to a new
 * token or secret before dropping the old one. One D1 round trip; no secret's value, ever.
 */
export const credentialsAdminRoutes = new Hono<AppEnv>().get("/credentials", validate("query", queryObject({})), async (c) => {
  const db = getDb(c.env.DB);
  const configured = new Set(configuredScimTokens(c.env).map((t) => t.name));
  const [used, clients, secrets] = await db.batch([lastUsedStatement(db, STATIC_TOKENS), ...clientReads(db)]);
  const settings = await loadSettings(db);
  const lastUse = new Map(used.map((u) => [u.credential, u.lastUsedAt]));
  const origin = new URL(c.req.url).origin;
  return c.json({
    staticTokenEnabled: settings.staticTokenEnabled,
    oauthAccessTokenMinutes: settings.oauthAccessTokenMinutes,
    /** Older uses are pruned with the log: "never" means "not within this many days". */
    logRetentionDays: settings.logRetentionDays,
    tokenEndpoint: `${origin}${TOKEN_PATH}`,
    tokens: STATIC_TOKENS.map((name) => ({ name, configured: configured.has(name), lastUsedAt: lastUse.get(name) ?? null })),
    clients: presentClients(clients, secrets),
  });
});
