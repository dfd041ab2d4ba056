import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { LogEntry } from "../log/entry";
import { configuredSecrets, redactedPath } from "../log/redact";

export const SCIM_BASE_PATH = "/api/scim/v2";

/**
 * The request context, built once: request id, the absolute SCIM base URL (for meta.location)
 * and the request's provisioning-log entry, whose path never shows a secret (src/log/redact.ts).
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
    const url = new URL(c.req.url);
    c.set("requestId", requestId);
    c.set("baseUrl", `${url.protocol}//${url.host}${SCIM_BASE_PATH}`);
    c.set("log", new LogEntry(requestId, c.req.method, redactedPath(url, configuredSecrets(c.env))));
    await next();
    c.header("X-Request-Id", requestId);
  };
}
