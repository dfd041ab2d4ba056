import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { LogEntry } from "../log/entry";
import { ScimError } from "../scim/errors";
import { scimJson } from "./respond";

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * An error detail as it may be answered: a detail quotes what the request sent (an id, a path, a
 * value), which may be a secret (`GET /Users/<token>`: "User <token> not found.").
 */
function shownDetail(c: Context, detail: string): string {
  const log: unknown = c.get("log");
  return log instanceof LogEntry ? log.redactor.text(detail) : detail;
}

/** A SCIM error's RFC 7644 §3.12 body as it may be answered (alone, or as a Bulk operation's response). */
export const scimErrorBody = (c: Context, err: ScimError) => ({ ...err.toBody(), detail: shownDetail(c, err.detail) });

/** The SCIM sub-app's onError: RFC 7644 §3.12 bodies; internals never reach the client. */
export function renderScimError(err: unknown, c: Context): Response {
  if (err instanceof ScimError) return scimJson(c, scimErrorBody(c, err), err.status as ContentfulStatusCode, err.headers);
  const requestId = c.get("requestId") ?? "unknown";
  console.error(JSON.stringify({ level: "error", requestId, message: describe(err) }));
  // Not "nothing was changed": D1 may have committed a write whose answer was then lost. Each
  // write is one batch, so it happened whole or not at all, and a read tells which.
  const body = new ScimError(
    500,
    undefined,
    `The service failed to handle this request (request id ${requestId}). Any change it made was applied whole or not at all: read the resource before retrying, and report the request id if this persists.`,
  ).toBody();
  return scimJson(c, body, 500);
}

/** An admin API error body: `{error, detail}`, with a machine-readable code and a sentence. */
export class AdminError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "AdminError";
  }
}

/** The admin sub-app's onError. */
export function renderAdminError(err: unknown, c: Context): Response {
  if (err instanceof AdminError) return c.json({ error: err.code, detail: shownDetail(c, err.detail) }, err.status, err.headers);
  // Hono's validator on a body that is not JSON.
  if (err instanceof HTTPException && err.status === 400) {
    return c.json({ error: "invalid_json", detail: "The body is not valid JSON: send a JSON object, or no body at all." }, 400);
  }
  const requestId = c.get("requestId") ?? "unknown";
  console.error(JSON.stringify({ level: "error", requestId, message: describe(err) }));
  return c.json(
    {
      error: "internal",
      detail: `Request ${requestId} failed; any change it made was applied whole or not at all, so reload before retrying.`,
    },
    500,
  );
}
