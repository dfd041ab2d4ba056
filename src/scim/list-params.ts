import { LIMITS } from "./discovery";
import { ScimError } from "./errors";

/** Paging, sorting and projection parameters of a list or .search request (RFC 7644 §3.4.2). */
export interface ListParams {
  filter: string | undefined;
  startIndex: number;
  count: number;
  sortBy: string | undefined;
  sortOrder: string | undefined;
  attributes: string | undefined;
  excludedAttributes: string | undefined;
}

function integerParam(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ScimError(400, "invalidValue", `${name} must be an integer, got ${JSON.stringify(raw)}.`);
  return n;
}

function stringParam(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw) && raw.every((v) => typeof v === "string")) return raw.join(",");
  if (typeof raw !== "string") throw new ScimError(400, "invalidValue", `${name} must be a string.`);
  return raw;
}

/**
 * startIndex is 1-based and below 1 means 1; count below 0 means 0 and above maxResults is
 * capped (RFC 7644 §3.4.2.4). Without count the page is maxResults long.
 */
function build(raw: Record<string, unknown>): ListParams {
  const startIndex = Math.max(1, integerParam("startIndex", raw.startIndex) ?? 1);
  const count = Math.min(LIMITS.maxResults, Math.max(0, integerParam("count", raw.count) ?? LIMITS.maxResults));
  const filter = stringParam("filter", raw.filter);
  return {
    filter: filter === undefined ? undefined : filter,
    startIndex,
    count,
    sortBy: stringParam("sortBy", raw.sortBy) || undefined,
    sortOrder: stringParam("sortOrder", raw.sortOrder) || undefined,
    attributes: stringParam("attributes", raw.attributes) || undefined,
    excludedAttributes: stringParam("excludedAttributes", raw.excludedAttributes) || undefined,
  };
}

/** Query parameter names are matched case-insensitively, as IdPs vary (`StartIndex`). */
export function listParamsFromQuery(query: Record<string, string>): ListParams {
  return build(lowerKeys(query));
}

/** A SearchRequest body (RFC 7644 §3.4.3): the same parameters, attributes as arrays. */
export function listParamsFromSearch(body: Record<string, unknown>): ListParams {
  return build(lowerKeys(body));
}

const NAMES = ["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes"];

function lowerKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const canonical = NAMES.find((n) => n.toLowerCase() === k.toLowerCase());
    if (canonical) out[canonical] = v;
  }
  return out;
}
