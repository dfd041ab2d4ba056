import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import type { LoggedResource } from "../log/entry";

/**
 * An admin action's provisioning-log row (SPEC §10: every admin action is logged with its actor,
 * set by the sign-in): what was done, to what, by whom.
 */
export async function recordAction(
  c: Context<AppEnv>,
  decision: string,
  resource?: { type: string; id: string },
  status = 200,
): Promise<void> {
  const entry = c.get("log");
  if (resource && isLogged(resource.type)) entry.touch(resource.type, resource.id);
  entry.decide(decision);
  await entry.statement(getDb(c.env.DB), status).run();
  entry.written = true;
}

const isLogged = (type: string): type is LoggedResource => type === "User" || type === "Group" || type === "Settings";
