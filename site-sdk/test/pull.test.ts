import { describe, expect, it } from "vitest";
import {
  createReplica,
  FEED_PATH,
  FeedCursorExpiredError,
  FeedError,
  fetchPage,
  type PullOptions,
  pull,
  type ScimEvent,
} from "../src/index.js";
import { events } from "./fixtures.js";

/**
 * The pull client against a stand-in for the service's feed (an in-memory list of events behind
 * the same HTTP contract: Bearer token, after, limit, {data, nextCursor, hasMore}, 401 and 410).
 * The service's own feed is tested with this client in the repository's
 * test/integration/site-feed-sdk.test.ts.
 */

const TOKEN = "site-token";
const URL_BASE = "https://scim.example.com";

interface Feed {
  entries: { id: string; body: ScimEvent | Record<string, unknown> }[];
  requests: { after: string | null; limit: string | null; authorization: string | null }[];
  /** Answers to give instead of a page, one per request, first in first out. */
  failures: Response[];
  fetch: NonNullable<PullOptions["fetch"]>;
}

/** Cursors are "c<count of entries read>": opaque to the client, which only passes them back. */
function feed(initial: ScimEvent[] = []): Feed {
  const f: Feed = {
    entries: initial.map((body, i) => ({ id: `evt_${i}`, body })),
    requests: [],
    failures: [],
    fetch: async (input, init) => {
      const url = new URL(input);
      const headers = new Headers(init.headers);
      f.requests.push({
        after: url.searchParams.get("after"),
        limit: url.searchParams.get("limit"),
        authorization: headers.get("authorization"),
      });
      if (url.origin !== URL_BASE || url.pathname !== FEED_PATH) return new Response("{}", { status: 404 });
      const failure = f.failures.shift();
      if (failure) return failure;
      if (headers.get("authorization") !== `Bearer ${TOKEN}`) {
        return Response.json({ error: "unauthorized", detail: "The token is not this service's SITE_API_TOKEN." }, { status: 401 });
      }
      const after = url.searchParams.get("after");
      if (after === "expired") return Response.json({ error: "cursor_expired", detail: "Run a resync." }, { status: 410 });
      const from = after === null ? 0 : Number(after.slice(1));
      const limit = Number(url.searchParams.get("limit") ?? 100);
      const data = f.entries.slice(from, from + limit).map((e) => ({ id: e.id, ...e.body }));
      const next = from + data.length;
      return Response.json({ data, nextCursor: `c${next}`, hasMore: next < f.entries.length });
    },
  };
  return f;
}

const history: ScimEvent[] = [
  events.created("u1", 1),
  events.created("u2", 1),
  events.updated("u1", 2, { title: "Engineer" }),
  events.deactivated("u2", 2),
  events.created("u3", 1),
];

async function collect(opts: PullOptions) {
  const pages = [];
  for await (const page of pull(opts)) pages.push(page);
  return pages;
}

describe("pull: the feed as an async iterator of pages", () => {
  it("reads every event in order, page by page, with the token and each page's cursor; the replica applies them", async () => {
    const f = feed(history);
    const pages = await collect({ url: URL_BASE, token: TOKEN, limit: 2, fetch: f.fetch, untilCaughtUp: true });
    expect(pages.map((p) => p.events.map((e) => e.id))).toEqual([["evt_0", "evt_1"], ["evt_2", "evt_3"], ["evt_4"]]);
    expect(f.requests.map((r) => r.after)).toEqual([null, "c2", "c4"]);
    expect(f.requests.every((r) => r.authorization === `Bearer ${TOKEN}` && r.limit === "2")).toBe(true);
    expect(pages.at(-1)?.nextCursor).toBe("c5");
    const replica = createReplica();
    for (const page of pages) for (const pulled of page.events) replica.apply(pulled);
    expect(replica.user("u1")?.title).toBe("Engineer");
    expect(replica.user("u2")?.active).toBe(false);
    expect(Object.keys(replica.snapshot().users).sort()).toEqual(["u1", "u2", "u3"]);
  });

  it("starts after the cursor it is given; each entry is typed, its payload the webhook body", async () => {
    const f = feed(history);
    const [page] = await collect({ url: URL_BASE, token: TOKEN, after: "c3", fetch: f.fetch, untilCaughtUp: true });
    expect(page?.events.map((e) => e.id)).toEqual(["evt_3", "evt_4"]);
    expect(page?.events[0]?.event?.type).toBe("user.deactivated");
    expect(page?.events[0]?.payload).toEqual(history[3]);
  });

  it("polls: once caught up it waits intervalMs and reads what came since; abort ends it quietly", async () => {
    const f = feed(history.slice(0, 2));
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const page of pull({ url: URL_BASE, token: TOKEN, fetch: f.fetch, intervalMs: 5, signal: controller.signal })) {
      seen.push(...page.events.map((e) => e.id));
      if (seen.length === 2) f.entries.push({ id: "evt_2", body: events.created("u9", 1) });
      if (seen.length === 3) controller.abort();
    }
    expect(seen).toEqual(["evt_0", "evt_1", "evt_2"]);
    // Empty polls between: the cursor stays where the last page left it.
    expect(f.requests.filter((r) => r.after === "c2").length).toBeGreaterThanOrEqual(1);
  });

  it("retries no answer, 429 and 5xx with backoff (Retry-After wins), and goes on from the same cursor", async () => {
    const f = feed(history);
    f.failures.push(new Response("busy", { status: 503 }), new Response("slow down", { status: 429, headers: { "Retry-After": "0" } }));
    let broken = 1;
    const flaky: PullOptions["fetch"] = async (input, init) => {
      if (broken-- > 0) throw new TypeError("connection reset");
      return f.fetch(input, init);
    };
    const retries: number[] = [];
    const pages = await collect({
      url: URL_BASE,
      token: TOKEN,
      fetch: flaky,
      retryMs: 1,
      untilCaughtUp: true,
      onRetry: (_err, wait) => retries.push(wait),
    });
    expect(pages.flatMap((p) => p.events.map((e) => e.id))).toEqual(history.map((_, i) => `evt_${i}`));
    expect(retries).toEqual([1, 2, 0]);
  });

  it("a wrong token is a FeedError 401, not retried; an expired cursor a FeedCursorExpiredError with what to do", async () => {
    const f = feed(history);
    const wrong = collect({ url: URL_BASE, token: "nope", fetch: f.fetch, retryMs: 1 });
    await expect(wrong).rejects.toBeInstanceOf(FeedError);
    await expect(wrong).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(f.requests).toHaveLength(1);
    const expired = collect({ url: URL_BASE, token: TOKEN, after: "expired", fetch: f.fetch });
    await expect(expired).rejects.toBeInstanceOf(FeedCursorExpiredError);
    await expect(expired).rejects.toMatchObject({ status: 410, code: "cursor_expired", message: "Run a resync." });
  });

  it("an event of a type it does not know comes with event null, and its id, for the replica to skip", async () => {
    const f = feed([{ type: "user.teleported", timestamp: "2026-12-01T10:00:00.000Z", data: { id: "u1", version: 1 } } as never]);
    const [page] = await collect({ url: URL_BASE, token: TOKEN, fetch: f.fetch, untilCaughtUp: true });
    expect(page?.events).toEqual([{ id: "evt_0", event: null, payload: expect.objectContaining({ type: "user.teleported" }) }]);
    expect(createReplica().apply(page?.events[0] ?? { id: "", event: null }).outcome).toBe("ignored");
  });
});

describe("fetchPage: one request", () => {
  it("answers the page; refuses an answer that is not a feed page; no answer is a FeedError the caller may retry", async () => {
    const f = feed(history);
    const page = await fetchPage({ url: URL_BASE, token: TOKEN, limit: 1, fetch: f.fetch });
    expect(page).toMatchObject({ nextCursor: "c1", hasMore: true });
    const odd = async () => Response.json({ items: [] });
    await expect(fetchPage({ url: URL_BASE, token: TOKEN, fetch: odd })).rejects.toMatchObject({ code: "bad-answer" });
    const noVersion = async () =>
      Response.json({ data: [{ id: "e", type: "user.created", data: { id: "u" } }], nextCursor: "c", hasMore: false });
    await expect(fetchPage({ url: URL_BASE, token: TOKEN, fetch: noVersion })).rejects.toMatchObject({ code: "bad-answer" });
    const down = async (): Promise<Response> => {
      throw new TypeError("fetch failed");
    };
    await expect(fetchPage({ url: URL_BASE, token: TOKEN, fetch: down })).rejects.toMatchObject({ status: 0, code: "unavailable" });
  });
});
