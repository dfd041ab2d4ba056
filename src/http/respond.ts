import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { etagOf, matchesIfNoneMatch } from "../scim/etag";
import { LIST_RESPONSE_SCHEMA } from "../scim/schemas";

const SCIM_MEDIA_TYPE = "application/scim+json; charset=utf-8";

/** Every SCIM answer goes through here so the media type is always application/scim+json. */
export function scimJson(c: Context, body: unknown, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), status, { ...headers, "Content-Type": SCIM_MEDIA_TYPE });
}

/**
 * A ListResponse (RFC 7644 §3.4.2): the numbers are integers and itemsPerPage is the length of
 * this page, never the requested count (an Okta OIN review point). By index it has startIndex;
 * by cursor (RFC 9865 §2) nextCursor on every page but the last, and previousCursor on pages
 * after the first, instead.
 */
export function listResponse(
  c: Context,
  page: { totalResults: number; resources: unknown[]; startIndex?: number; nextCursor?: string; previousCursor?: string },
): Response {
  const { totalResults, resources, startIndex, nextCursor, previousCursor } = page;
  return scimJson(c, {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    ...(startIndex !== undefined ? { startIndex } : {}),
    itemsPerPage: resources.length,
    ...(previousCursor !== undefined ? { previousCursor } : {}),
    ...(nextCursor !== undefined ? { nextCursor } : {}),
    Resources: resources,
  });
}

/**
 * One resource with its ETag (RFC 7644 §3.14) and, for a 201, its Location; a 204 carries the new
 * ETag too, so a client can chain If-Match without a GET.
 */
export function resourceResponse(
  c: Context,
  resource: Record<string, unknown> | null,
  version: number,
  status: 200 | 201 | 204,
  location?: string,
): Response {
  const headers: Record<string, string> = { ETag: etagOf(version) };
  if (location) headers.Location = location;
  if (status === 204 || resource === null) return c.body(null, 204, headers);
  return scimJson(c, resource, status, headers);
}

/** 204 with no body (DELETE). */
export function noContent(c: Context): Response {
  return c.body(null, 204);
}

/** A GET whose If-None-Match holds the current version answers 304 with its ETag. */
export function notModified(c: Context, version: number): Response | undefined {
  return matchesIfNoneMatch(c.req.header("if-none-match"), version) ? c.body(null, 304, { ETag: etagOf(version) }) : undefined;
}
