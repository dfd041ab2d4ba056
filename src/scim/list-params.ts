import { ScimError } from "./errors";
import { integerParam, type PagingParams, pagingOf } from "./paging";

/** What a list or .search request selects, sorts and shows (RFC 7644 §3.4.2): everything but the page. */
export interface ListQuery {
  filter: string | undefined;
  sortBy: string | undefined;
  sortOrder: string | undefined;
  attributes: string | undefined;
  excludedAttributes: string | undefined;
}

/** A list or .search request's parameters: the query, and the page it asks for (index or cursor, RFC 9865). */
export interface ListParams extends ListQuery {
  paging: PagingParams;
}

function stringParam(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw) && raw.every((v) => typeof v === "string")) return raw.join(",");
  if (typeof raw !== "string") throw new ScimError(400, "invalidValue", `${name} must be a string.`);
  return raw;
}

/**
 * startIndex is 1-based and below 1 means 1; count below 0 means 0 and above maxResults is
 * capped (RFC 7644 §3.4.2.4); a cursor switches to cursor paging (src/scim/paging.ts).
 */
function build(raw: Record<string, unknown>): ListParams {
  const filter = stringParam("filter", raw.filter);
  return {
    filter: filter === undefined ? undefined : filter,
    sortBy: stringParam("sortBy", raw.sortBy) || undefined,
    sortOrder: stringParam("sortOrder", raw.sortOrder) || undefined,
    attributes: stringParam("attributes", raw.attributes) || undefined,
    excludedAttributes: stringParam("excludedAttributes", raw.excludedAttributes) || undefined,
    paging: pagingOf({ startIndex: integerParam("startIndex", raw.startIndex), count: raw.count, cursor: raw.cursor }),
  };
}

/** Query parameter names are matched case-insensitively, as IdPs vary (`StartIndex`). */
export function listParamsFromQuery(query: Record<string, string>): ListParams {
  return build(lowerKeys(query));
}

/** A SearchRequest body (RFC 7644 §3.4.3, RFC 9865 §3): the same parameters, attributes as arrays. */
export function listParamsFromSearch(body: Record<string, unknown>): ListParams {
  return build(lowerKeys(body));
}

const NAMES = ["filter", "startIndex", "count", "cursor", "sortBy", "sortOrder", "attributes", "excludedAttributes"];

function lowerKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const canonical = NAMES.find((n) => n.toLowerCase() === k.toLowerCase());
    if (canonical) out[canonical] = v;
  }
  return out;
}
