import { Hono } from "hono";
import type { AppEnv } from "../env";
import { listGroups } from "../groups/queries";
import { readJsonObject } from "../http/body";
import { ScimError } from "../scim/errors";
import type { ScimResource } from "../scim/json-text";
import { LIMITS } from "../scim/limits";
import { listParamsFromSearch } from "../scim/list-params";
import type { ListPage, PageRequest, Position } from "../scim/paging";
import { type ListOptions, listUsers } from "../users/queries";
import { answerList } from "./list";

/**
 * POST /.search at the root (RFC 7644 §3.4.3): Users, then Groups, paged as one list, through the
 * same list functions as /Users and /Groups (one log row: this request's). A filter that names
 * attributes only one resource type has (e.g. `members`) searches only that type; one that is
 * valid for neither is that error. By cursor, a position's stage says which list it is in.
 */
export const searchRoutes = new Hono<AppEnv>();

type Reader = (page: PageRequest, opts: ListOptions) => Promise<ListPage>;

/** Where a list ends, for reading it backwards from its end: unassigned values sort last, so nothing is after this. */
const end = (stage: number): Position => ({ stage, key: null, seq: Number.MAX_SAFE_INTEGER });

searchRoutes.post("/.search", async (c) => {
  const params = listParamsFromSearch(await readJsonObject(c));
  const baseUrl = c.get("baseUrl");
  return answerList(c, params, "", async (db, page) => {
    const lists: Reader[] = [(p, o) => listUsers(db, baseUrl, params, p, o), (p, o) => listGroups(db, baseUrl, params, p, o)];
    const totals = await countsOf(lists);
    if (page.method === "index") return indexPage(lists, totals, page);
    if (page.count === 0) return { total: totalOf(totals), resources: [], bytes: 0 };
    if (page.from?.direction === "previous")
      return (await previousPage(lists, totals, page, page.from.position)) ?? forward(lists, totals, page);
    return forward(lists, totals, page);
  });
});

/** Each list's total; -1 for a list the filter is not valid for (its 400 is thrown only if it is valid for none). */
async function countsOf(lists: Reader[]): Promise<number[]> {
  const counts = await Promise.all(
    lists.map((list) =>
      list({ method: "index", startIndex: 1, count: 0 }, {}).then(
        (p) => p.total,
        (err: unknown) => {
          if (err instanceof ScimError && err.status === 400) return err;
          throw err;
        },
      ),
    ),
  );
  const valid = counts.filter((n): n is number => typeof n === "number");
  if (valid.length === 0) throw counts[0];
  return counts.map((n) => (typeof n === "number" ? n : -1));
}

const totalOf = (totals: number[]) => totals.reduce((a, b) => a + Math.max(0, b), 0);

/** The page starts in the users and goes on into the groups; the two share one answer's budget. */
async function indexPage(lists: Reader[], totals: number[], page: Extract<PageRequest, { method: "index" }>): Promise<ListPage> {
  const resources: ScimResource[] = [];
  let budget = LIMITS.listAnswerBytes;
  let start = page.startIndex;
  for (const [i, list] of lists.entries()) {
    const total = Math.max(0, totals[i] ?? 0);
    const want = page.count - resources.length;
    if (want > 0 && total > 0 && start <= total) {
      const p = await list({ method: "index", startIndex: start, count: Math.min(want, total - start + 1) }, { budget, stage: i });
      resources.push(...p.resources);
      budget -= p.bytes;
    }
    start = Math.max(1, start - total);
  }
  return { total: totalOf(totals), resources, bytes: LIMITS.listAnswerBytes - budget };
}

/** Forward from a cursor (or from the start): the rest of its list, then the lists after it. */
async function forward(lists: Reader[], totals: number[], page: Extract<PageRequest, { method: "cursor" }>): Promise<ListPage> {
  const from = page.from?.direction === "next" ? page.from.position : undefined;
  const resources: ScimResource[] = [];
  let budget = LIMITS.listAnswerBytes;
  let first: Position | undefined;
  let last: Position | undefined;
  let next: Position | undefined;
  for (let stage = from?.stage ?? 0; stage < lists.length && resources.length < page.count; stage++) {
    const list = lists[stage];
    if (!list || (totals[stage] ?? 0) <= 0) continue;
    const p = await list(
      {
        method: "cursor",
        count: page.count - resources.length,
        from: from && stage === from.stage ? { direction: "next", position: from } : undefined,
      },
      { budget, stage },
    );
    resources.push(...p.resources);
    budget -= p.bytes;
    first ??= p.first;
    last = p.last ?? last;
    next = p.next;
    if (next) break;
  }
  // The page filled up at the very end of one list: the next page is in a later one.
  if (!next && last && resources.length === page.count && totals.slice(last.stage + 1).some((n) => n > 0)) next = last;
  return { total: totalOf(totals), resources, next, previous: from && first, first, last, bytes: LIMITS.listAnswerBytes - budget };
}

/** Backwards from a cursor: the start of its list, then the lists before it. Undefined when nothing is before it. */
async function previousPage(
  lists: Reader[],
  totals: number[],
  page: Extract<PageRequest, { method: "cursor" }>,
  from: Position,
): Promise<ListPage | undefined> {
  const pages: ListPage[] = [];
  let shown = 0;
  let budget = LIMITS.listAnswerBytes;
  let previous: Position | undefined;
  for (let stage = Math.min(from.stage, lists.length - 1); stage >= 0 && shown < page.count; stage--) {
    const list = lists[stage];
    if (!list || (totals[stage] ?? 0) <= 0) continue;
    const position = stage === from.stage ? from : end(stage);
    const p = await list({ method: "cursor", count: page.count - shown, from: { direction: "previous", position } }, { budget, stage });
    pages.unshift(p);
    shown += p.resources.length;
    budget -= p.bytes;
    previous = p.previous;
    if (previous) break;
  }
  if (shown === 0) return undefined;
  const first = pages.find((p) => p.first)?.first;
  const last = [...pages].reverse().find((p) => p.last)?.last;
  // The page filled up at the very start of one list: the previous page is in an earlier one.
  if (!previous && first && shown === page.count && totals.slice(0, first.stage).some((n) => n > 0)) previous = first;
  return {
    total: totalOf(totals),
    resources: pages.flatMap((p) => p.resources),
    next: last,
    previous,
    first,
    last,
    bytes: LIMITS.listAnswerBytes - budget,
  };
}
