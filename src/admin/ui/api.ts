import { hc, type InferResponseType } from "hono/client";
import type { AdminRoutes } from "../api";

/**
 * The admin API, typed from its own routes (src/admin/api.ts): a renamed path, parameter, field
 * or state is a compile error here. Requests carry the admin token when there is one (Behind
 * Cloudflare Access there is none: Access adds its own header), never a cookie, and do not
 * follow redirects or use the HTTP cache.
 */
let bearer: string | null = null;

export const api = hc<AdminRoutes>("/admin/api", {
  headers: (): Record<string, string> => (bearer ? { Authorization: `Bearer ${bearer}` } : {}),
  init: { credentials: "omit", cache: "no-store", redirect: "error" },
});

export function setToken(token: string | null): void {
  bearer = token;
}

/** A refused or failed call, with the server's own sentence (`detail`) when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Called when a signed-in session gets a 401: the token was rotated, or Access signed the admin out. */
let onSignedOut: ((err: ApiError) => void) | null = null;

export function whenSignedOut(handler: ((err: ApiError) => void) | null): void {
  onSignedOut = handler;
}

interface Readable<T> {
  ok: boolean;
  status: number;
  json(): Promise<T>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** The response of a call, or an ApiError with the server's detail. */
export async function respond<R extends Readable<unknown>>(call: Promise<R>): Promise<R> {
  let res: R;
  try {
    res = await call;
  } catch (err) {
    throw new ApiError(0, "network", `Could not reach the admin API (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (res.ok) return res;
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const detail = isRecord(body) && typeof body.detail === "string" ? body.detail : `HTTP ${res.status}.`;
  const code = isRecord(body) && typeof body.error === "string" ? body.error : "http";
  const error = new ApiError(res.status, code, detail);
  if (res.status === 401) onSignedOut?.(error);
  throw error;
}

/** The body of the answers a call can succeed with: a route's typed refusals (ok: false) are thrown by respond. */
type Answer<R> = R extends { ok: false } ? never : R extends Readable<infer T> ? T : never;

/** The JSON of a successful call (typed by the route), or an ApiError. */
export async function read<R extends Readable<unknown>>(call: Promise<R>): Promise<Answer<R>> {
  // respond() has thrown for every answer that is not ok, so what is left is one of the ok ones.
  return (await respond(call)).json() as Promise<Answer<R>>;
}

export type Session = InferResponseType<typeof api.session.$get>;
export type Settings = InferResponseType<typeof api.settings.$get>;
/** PUT /admin/api/settings: keys left out keep their value. */
export type SettingsPatch = Parameters<typeof api.settings.$put>[0]["json"];
export type Stats = InferResponseType<typeof api.stats.$get>;
export type LogEntry = InferResponseType<typeof api.log.$get>["entries"][number];
export type EventItem = InferResponseType<typeof api.events.$get>["events"][number];
export type EventCounts = InferResponseType<typeof api.events.$get>["counts"];
export type UserItem = InferResponseType<typeof api.users.$get>["users"][number];
export type Timeline = InferResponseType<(typeof api.users)[":id"]["timeline"]["$get"]>;
export type GroupItem = InferResponseType<typeof api.groups.$get>["groups"][number];
export type Job = InferResponseType<typeof api.jobs.$get>["jobs"][number];
export type ResyncStatus = InferResponseType<typeof api.resync.$get>;
export type ResyncReport = NonNullable<ResyncStatus["current"]>;
export type Credentials = InferResponseType<typeof api.credentials.$get>;
export type OAuthClientItem = Credentials["clients"][number];
export type NewSecret = InferResponseType<(typeof api.oauth.clients)[":id"]["secrets"]["$post"], 201>;
