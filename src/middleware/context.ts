import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { LogEntry } from "../log/entry";
import { configuredSecrets, Redactor } from "../log/redact";

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
    const redactor = new Redactor(configuredSecrets(c.env));
    c.set("log", new LogEntry(requestId, c.req.method, redactor.path(url), redactor));
    await next();
    c.header("X-Request-Id", requestId);
  };
}
