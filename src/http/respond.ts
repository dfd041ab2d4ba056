import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { etagOf, matchesIfNoneMatch } from "../scim/etag";
import { jsonTextOf, type ScimResource } from "../scim/json-text";
import { LIST_RESPONSE_SCHEMA } from "../scim/schemas";

const SCIM_MEDIA_TYPE = "application/scim+json; charset=utf-8";

/** Every SCIM answer goes through here so the media type is always application/scim+json. */
export function scimJson(c: Context, body: unknown, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), status, { ...headers, "Content-Type": SCIM_MEDIA_TYPE });
}

/** The answer is sent in pieces of about this many bytes: it is never held whole as text. */
const CHUNK = 64 * 1024;

/**
 * A ListResponse (RFC 7644 §3.4.2): the numbers are integers and itemsPerPage is the length of
 * this page, never the requested count (an Okta OIN review point). By index it has startIndex;
 * by cursor (RFC 9865 §2) nextCursor on every page but the last, and previousCursor on pages
 * after the first, instead. Streamed: each resource is serialised when the client reads that far,
 * and let go of once sent, so a 4 MiB page is never also a 4 MiB string and its 4 MiB of bytes.
 */
export function listResponse(
  c: Context,
  page: { totalResults: number; resources: ScimResource[]; startIndex?: number; nextCursor?: string; previousCursor?: string },
): Response {
  const { totalResults, startIndex, nextCursor, previousCursor } = page;
  const resources: (ScimResource | undefined)[] = [...page.resources];
  const head = JSON.stringify({
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    ...(startIndex !== undefined ? { startIndex } : {}),
    itemsPerPage: resources.length,
    ...(previousCursor !== undefined ? { previousCursor } : {}),
    ...(nextCursor !== undefined ? { nextCursor } : {}),
  });
  const encoder = new TextEncoder();
  let next = 0;
  let text = `${head.slice(0, -1)},"Resources":[`;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      while (next < resources.length && text.length < CHUNK) {
        text += `${next > 0 ? "," : ""}${jsonTextOf(resources[next])}`;
        resources[next] = undefined;
        next++;
      }
      if (next === resources.length) {
        controller.enqueue(encoder.encode(`${text}]}`));
        controller.close();
      } else {
        controller.enqueue(encoder.encode(text));
      }
      text = "";
    },
  });
  return c.body(body, 200, { "Content-Type": SCIM_MEDIA_TYPE });
}

/**
 * One resource with its ETag (RFC 7644 §3.14) and, for a 201, its Location; a 204 carries the new
 * ETag too, so a client can chain If-Match without a GET.
 */
export function resourceResponse(
  c: Context,
  resource: ScimResource | null,
  version: number,
  status: 200 | 201 | 204,
  location?: string,
): Response {
  const headers: Record<string, string> = { ETag: etagOf(version) };
  if (location) headers.Location = location;
  if (status === 204 || resource === null) return c.body(null, 204, headers);
  return c.body(jsonTextOf(resource), status, { ...headers, "Content-Type": SCIM_MEDIA_TYPE });
}

/** 204 with no body (DELETE). */
export function noContent(c: Context): Response {
  return c.body(null, 204);
}

/** A GET whose If-None-Match holds the current version answers 304 with its ETag. */
export function notModified(c: Context, version: number): Response | undefined {
  return matchesIfNoneMatch(c.req.header("if-none-match"), version) ? c.body(null, 304, { ETag: etagOf(version) }) : undefined;
}
