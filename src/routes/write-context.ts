import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { loadSettings } from "../settings/store";
import type { WriteContext } from "../users/service";

export async function writeContext(c: Context<AppEnv>): Promise<WriteContext> {
  const db = getDb(c.env.DB);
  const url = new URL(c.req.url);
  return {
    db,
    env: c.env,
    settings: await loadSettings(db),
    baseUrl: c.get("baseUrl"),
    audit: c.get("audit"),
    requestId: c.get("requestId"),
    method: c.req.method,
    path: (url.pathname + url.search).slice(0, 2000),
    waitUntil: (p) => {
      try {
        c.executionCtx.waitUntil(p);
      } catch {
        void p;
      }
    },
    ifMatch: c.req.header("if-match"),
    wantsBody: c.req.query("attributes") !== undefined || c.req.query("excludedAttributes") !== undefined,
  };
}
