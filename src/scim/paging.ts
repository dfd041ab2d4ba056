/**
 * Paging a list, both ways RFC 9865 lets a service offer (§2.4): by index (RFC 7644 §3.4.2.4,
 * `startIndex`, the default) and by cursor (`cursor`, `nextCursor`, `previousCursor`). Pure: what a
 * request asks for, what a cursor holds, and which cursors a page answers with. The lists
 * themselves are read in src/db/lists.ts (keyset SQL) or from an array (`pageOfArray`).
 */
import { ScimError } from "./errors";
import type { ScimResource } from "./json-text";
import { LIMITS } from "./limits";

/** A value a list is sorted by, as SQL gives it back (an unassigned attribute is null). */
export type SortValue = string | number | null;

/**
 * A place in a list's order: the resource at it has this sort value and seq (insertion order,
 * which breaks ties). `stage` orders lists served as one: the root /.search pages Users (0) and
 * then Groups (1). A cursor holds one, so a page starts right after (or before) it however many
 * resources were created or deleted meanwhile: keyset paging.
 */
export interface Position {
  stage: number;
  key: SortValue;
  seq: number;
}

export type Direction = "next" | "previous";

/** What page a list request asks for. */
export type PageRequest =
  | { method: "index"; startIndex: number; count: number }
  /** `from` is absent on the first page; a position is exclusive (the page starts after or before it). */
  | { method: "cursor"; count: number; from?: { direction: Direction; position: Position } };

/** One page of a list: the total, the resources, and where the pages next to it start (cursor paging). */
export interface ListPage {
  total: number;
  resources: ScimResource[];
  next?: Position;
  previous?: Position;
  /** The places of the first and last resource shown (cursor paging), for lists served as one. */
  first?: Position;
  last?: Position;
  /** The estimated bytes of `resources` (what the answer budget counts, LIMITS.listAnswerBytes). */
  bytes: number;
}

/** A resource a read considered for the page, in the order it read them (nearest the cursor first). */
export interface Candidate {
  position: Position;
  /** Within the page's count and the answer's byte budget; false for all after the first that is not. */
  fits: boolean;
}

/** What a read's candidates make of the page. */
export interface PagePlan {
  /** The places of the first and last resource shown, in the list's order. */
  first?: Position;
  last?: Position;
  /** How many of the candidates, from the first, the page shows. */
  shown: number;
  /** Shown in reverse (a previous page is read backwards from its cursor). */
  reversed: boolean;
  next?: Position;
  previous?: Position;
  /** Candidates exist but not even the first fits the budget: the caller refuses the request. */
  tooLarge: boolean;
  /** A previous page found nothing before its cursor (all deleted meanwhile): serve the first page instead. */
  restart: boolean;
}

/**
 * From the candidates of a cursor page (up to count + 1, the extra one telling whether more
 * follow): how many it shows, and its cursors. `nextCursor` is on every page but the last and
 * `previousCursor` never on the first (RFC 9865 §2).
 */
export function planPage(page: Extract<PageRequest, { method: "cursor" }>, candidates: readonly Candidate[]): PagePlan {
  let shown = 0;
  while (shown < candidates.length && candidates[shown]?.fits) shown++;
  const tooLarge = shown === 0 && candidates.length > 0 && page.count > 0;
  const more = candidates.length > shown;
  const nearest = candidates[0]?.position;
  const farthest = shown > 0 ? candidates[shown - 1]?.position : undefined;
  if (page.from?.direction === "previous") {
    return {
      first: farthest,
      last: shown > 0 ? nearest : undefined,
      shown,
      reversed: true,
      next: nearest && shown > 0 ? nearest : undefined,
      previous: more ? farthest : undefined,
      tooLarge,
      restart: candidates.length === 0,
    };
  }
  return {
    first: shown > 0 ? nearest : undefined,
    last: farthest,
    shown,
    reversed: false,
    next: more ? farthest : undefined,
    previous: page.from && shown > 0 ? nearest : undefined,
    tooLarge,
    restart: false,
  };
}

/**
 * A page of a list held in memory (a fixed list such as the site's roles), paged exactly as the
 * directory's lists are: by index, or by cursor over the items' places in the array.
 */
export function pageOfArray<T>(
  items: readonly T[],
  page: PageRequest,
): { total: number; items: T[]; next?: Position; previous?: Position } {
  if (page.method === "index") return { total: items.length, items: items.slice(page.startIndex - 1, page.startIndex - 1 + page.count) };
  if (page.count === 0) return { total: items.length, items: [] };
  // A place is its 1-based index: seq of the Position, over one stage and no sort value.
  const at = (seq: number): Position => ({ stage: 0, key: null, seq });
  const from = page.from;
  const seqs: number[] = [];
  if (from?.direction === "previous") {
    for (let s = Math.min(from.position.seq - 1, items.length); s >= 1 && seqs.length <= page.count; s--) seqs.push(s);
  } else {
    for (let s = (from?.position.seq ?? 0) + 1; s <= items.length && seqs.length <= page.count; s++) seqs.push(s);
  }
  const plan = planPage(
    page,
    seqs.map((s, i) => ({ position: at(s), fits: i < page.count })),
  );
  if (plan.restart) return pageOfArray(items, { method: "cursor", count: page.count });
  const shown = seqs.slice(0, plan.shown);
  if (plan.reversed) shown.reverse();
  return { total: items.length, items: shown.flatMap((s) => items[s - 1] ?? []), next: plan.next, previous: plan.previous };
}

/** The paging part of a list request's parameters, before its cursor is read. */
export type PagingParams = { method: "index"; startIndex: number; count: number } | { method: "cursor"; cursor: string; count: number };

/**
 * `cursor` chooses cursor paging (empty: its first page); without it, index paging (RFC 9865 §2.4:
 * index stays the default). For cursors `count` is 0 to maxPageSize (a negative count is 0, §2),
 * anything else 400 invalidCount (§2.1); for index paging it is capped as RFC 7644 §3.4.2.4 allows.
 */
export function pagingOf(raw: { startIndex: number | undefined; count: unknown; cursor: unknown }): PagingParams {
  const { cursor } = raw;
  if (cursor === undefined || cursor === null) {
    const count = integerParam("count", raw.count);
    return {
      method: "index",
      startIndex: Math.max(1, raw.startIndex ?? 1),
      count: Math.min(LIMITS.maxResults, Math.max(0, count ?? LIMITS.defaultPageSize)),
    };
  }
  if (raw.startIndex !== undefined) {
    throw new ScimError(400, "invalidValue", "Use startIndex (index paging) or cursor (cursor paging), not both in one request.");
  }
  if (typeof cursor !== "string" || !/^[A-Za-z0-9._~-]*$/.test(cursor))
    throw invalidCursor("it has characters no cursor of this service has");
  const count = integerParam("count", raw.count, "invalidCount");
  if (count !== undefined && count > LIMITS.maxResults) {
    throw new ScimError(400, "invalidCount", `count must be between 0 and ${LIMITS.maxResults} (maxPageSize) with a cursor, not ${count}.`);
  }
  return { method: "cursor", cursor, count: Math.max(0, count ?? LIMITS.defaultPageSize) };
}

/** A whole-number parameter (a number, or digits in a query string); absent is undefined, anything else 400. */
export function integerParam(name: string, raw: unknown, scimType: "invalidValue" | "invalidCount" = "invalidValue"): number | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ScimError(400, scimType, `${name} must be an integer, got ${JSON.stringify(raw)}.`);
  return n;
}

export const invalidCursor = (why: string) =>
  new ScimError(
    400,
    "invalidCursor",
    `The cursor is not valid: ${why}. Send an empty cursor for the first page, then each page's nextCursor or previousCursor unchanged.`,
  );
