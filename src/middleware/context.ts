import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { Audit } from "../http/audit";

export const SCIM_BASE_PATH = "/api/scim/v2";

/** Request id, absolute SCIM base URL (for meta.location) and the audit collector. */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
    const url = new URL(c.req.url);
    c.set("requestId", requestId);
    c.set("baseUrl", `${url.protocol}//${url.host}${SCIM_BASE_PATH}`);
    c.set("audit", new Audit());
    await next();
    c.header("X-Request-Id", requestId);
  };
}
