import { type SQL, sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { getDb, isoNow } from "../db/client";
import { type LogEntryInput, logStatement } from "../db/log";
import type { AppEnv } from "../env";

const MAX_PATH = 2000;

/** The log entry of the current request, for a handler that writes it in its own read batch. */
export function ownLogEntry(c: Context<AppEnv>, status: LogEntryInput["status"], detail?: LogEntryInput["detail"]): LogEntryInput {
  const url = new URL(c.req.url);
  return {
    at: isoNow(),
    requestId: c.get("requestId"),
    method: c.req.method,
    path: (url.pathname + url.search).slice(0, MAX_PATH),
    status,
    audit: c.get("audit"),
    detail,
  };
}

/**
 * The log entry of a read by id, for its own read batch: 200 if `exists` holds when the batch
 * runs, else 404 with `notFound` as its detail (decided in SQL, so it needs no second round trip).
 */
export function ownReadLogEntry(c: Context<AppEnv>, exists: SQL, notFound: string): LogEntryInput {
  return ownLogEntry(c, sql`CASE WHEN ${exists} THEN 200 ELSE 404 END`, sql`CASE WHEN ${exists} THEN NULL ELSE ${notFound} END`);
}

/**
 * Writes the provisioning-log row of every SCIM request that did not already write it in
 * its own D1 batch (reads, errors), except the tail of a throttled flood (rate-limit.ts).
 * It runs after the response, off the request's path.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLogMiddleware(c, next) {
    await next();
    const audit = c.get("audit");
    if (audit.written || audit.unlogged) return;
    const stmt = logStatement(getDb(c.env.DB), ownLogEntry(c, c.res.status, await errorDetail(c.res)));
    const write = stmt.run().then(
      () => undefined,
      (err: unknown) => console.error(JSON.stringify({ level: "error", message: "provisioning log write failed", err: String(err) })),
    );
    try {
      c.executionCtx.waitUntil(write);
    } catch {
      await write;
    }
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
