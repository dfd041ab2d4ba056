import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ScimError } from "../scim/errors";
import { LIST_RESPONSE_SCHEMA } from "../scim/schemas";

const SCIM_MEDIA_TYPE = "application/scim+json; charset=utf-8";

/** Every SCIM answer goes through here so the media type is always application/scim+json. */
export function scimJson(c: Context, body: unknown, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), status, { ...headers, "Content-Type": SCIM_MEDIA_TYPE });
}

/**
 * A ListResponse (RFC 7644 §3.4.2): the three numbers are integers and itemsPerPage is the
 * length of this page, never the requested count (an Okta OIN review point).
 */
export function listResponse(c: Context, totalResults: number, startIndex: number, resources: unknown[]): Response {
  return scimJson(c, {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  });
}

/** 204 with no body (DELETE, Group PATCH). */
export function noContent(c: Context, headers: Record<string, string> = {}): Response {
  return c.body(null, 204, headers);
}

/** Weak ETag for a resource version (RFC 7644 §3.14). */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** Renders any thrown value as an RFC 7644 §3.12 error; internals never reach the client. */
export function renderError(c: Context, err: unknown, requestId: string): Response {
  if (err instanceof ScimError) {
    return scimJson(c, err.toBody(), err.status as ContentfulStatusCode, err.headers);
  }
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

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
