import type { MiddlewareHandler } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { afterResponse } from "../http/after-response";
import { countRefusal } from "../log/refusal-writer";
import { RefusalCounter } from "../log/refused";

/** This isolate's counts of refused requests (src/log/refused.ts). */
const refusals = new RefusalCounter();

const failed = (err: unknown) =>
  console.error(JSON.stringify({ level: "error", message: "provisioning log write failed", err: String(err) }));

/**
 * The one place that decides when a request's provisioning-log row is written: a read or a
 * write put it in its own D1 batch (and marked it written); a refused request (401, 429) adds to
 * its client's counted row of the minute; anything else (errors, 304s) is written here, after the
 * response, off the request's path.
 */
export function provisioningLog(): MiddlewareHandler<AppEnv> {
  return async function provisioningLogMiddleware(c, next) {
    await next();
    const entry = c.get("log");
    if (entry.written || entry.skip) return;
    const db = getDb(c.env.DB);
    if (entry.refusal) {
      countRefusal(refusals, db, entry.refusal, c.res.status, (work) => afterResponse(c, work));
      return;
    }
    const statement = entry.statement(db, c.res.status, { detail: await errorDetail(c.res) });
    afterResponse(
      c,
      statement.run().then(() => undefined, failed),
    );
  };
}

async function errorDetail(res: Response): Promise<string | undefined> {
  if (res.status < 400) return undefined;
  try {
    const body: unknown = await res.clone().json();
    if (typeof body === "object" && body !== null && "detail" in body && typeof body.detail === "string") return body.detail;
  } catch {
    return undefined;
  }
  return undefined;
}
