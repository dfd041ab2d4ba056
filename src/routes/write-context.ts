import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { afterResponse } from "../http/after-response";
import type { LogEntry } from "../log/entry";
import type { WriteContext } from "../write/kernel";

/**
 * The write kernel's context for this request (or one operation of a Bulk request, with its own
 * log entry). `successStatus` is what the route answers when the write succeeds: the log row is
 * written in the write's own batch, so it is known before the service runs.
 */
export function writeContext(
  c: Context<AppEnv>,
  successStatus: number,
  log: LogEntry = c.get("log"),
  ifMatch = c.req.header("if-match"),
): WriteContext {
  log.successStatus = successStatus;
  return {
    db: getDb(c.env.DB),
    queue: c.env.EVENTS,
    settings: c.get("settings"),
    settingsVersion: c.get("settingsVersion"),
    baseUrl: c.get("baseUrl"),
    log,
    ifMatch,
    waitUntil: (p) => afterResponse(c, p),
  };
}
