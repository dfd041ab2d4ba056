import type { Context, MiddlewareHandler } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";

/**
 * The one place that decides when a request's provisioning-log row is written: a read or a
 * write put it in its own D1 batch (LogEntry.statement marks it written); anything else (errors,
 * 304s) is written here, after the response, off the request's path.
 */
export function provisioningLog(): MiddlewareHandler<AppEnv> {
  return async function provisioningLogMiddleware(c, next) {
    await next();
    const entry = c.get("log");
    if (entry.written || entry.skip) return;
    const statement = entry.statement(getDb(c.env.DB), c.res.status, { detail: await errorDetail(c.res) });
    afterResponse(
      c,
      statement.run().then(
        () => undefined,
        (err: unknown) => console.error(JSON.stringify({ level: "error", message: "provisioning log write failed", err: String(err) })),
      ),
    );
  };
}

/** Work that goes on after the response (waitUntil), or now when there is no execution context. */
export function afterResponse(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work;
  }
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
