import type { Context } from "hono";
import type { AppEnv } from "../env";

/**
 * Sub-requests a Bulk or root .search request makes through the app itself, so each one gets
 * exactly the validation, events and provisioning log of the same request sent alone. They
 * are marked so the rate limiter counts the outer request only.
 */
const internal = new WeakSet<Request>();

let dispatcher: ((req: Request, env: AppEnv["Bindings"], ctx: ExecutionContext) => Promise<Response>) | undefined;

export function setDispatcher(fn: (req: Request, env: AppEnv["Bindings"], ctx: ExecutionContext) => Promise<Response>): void {
  dispatcher = fn;
}

export function isInternal(req: Request): boolean {
  return internal.has(req);
}

export async function dispatchInternal(c: Context<AppEnv>, method: string, path: string, body?: unknown): Promise<Response> {
  if (!dispatcher) throw new Error("internal dispatcher not set");
  const headers: Record<string, string> = { Accept: "application/scim+json" };
  const auth = c.req.header("authorization");
  if (auth !== undefined) headers.Authorization = auth;
  if (body !== undefined) headers["Content-Type"] = "application/scim+json";
  const req = new Request(`${c.get("baseUrl")}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  internal.add(req);
  return dispatcher(req, c.env, c.executionCtx);
}
