/**
 * The pull feed, for a site that cannot receive the service's webhooks (behind a firewall, no
 * inbound HTTPS): `GET <service>/api/site/v1/events?after=<cursor>&limit=<n>` with
 * `Authorization: Bearer <SITE_API_TOKEN>` answers `{data: [{id, type, timestamp, data}],
 * nextCursor, hasMore}`: every event in one order, each entry the webhook body the service would
 * have POSTed (same id, same bytes). In the service's pull mode (setting siteDelivery), a request
 * with `after=<cursor>` also tells it the site has every event up to that cursor.
 *
 * Apply each page's events with the same rules as pushed ones (createReplica, shouldApply...),
 * then keep `nextCursor` with what you applied (one transaction): after a crash the site reads
 * the page again, and its de-duplication on the id and the version rule make that harmless.
 * fetch and WebCrypto only: the same code runs on Workers and Node (tested on both).
 */
import type { ScimEvent } from "./events.js";
import { asEvent } from "./verify.js";

/** The feed's path under the service's origin. */
export const FEED_PATH = "/api/site/v1/events";

/** One event from the feed: what a verified delivery of it would carry (Replica.apply takes it). */
export interface PulledEvent {
  /** The event id: the webhook-id its push would have had (de-duplicate on it). */
  id: string;
  /** The event, typed by `type`, or null for a type this SDK version does not know (skip it). */
  event: ScimEvent | null;
  /** The entry as sent, without its id: the webhook body. */
  payload: unknown;
}

export interface FeedPage {
  events: PulledEvent[];
  /** Where to read on from: keep it with what you applied of this page. */
  nextCursor: string;
  /** More events are there now: ask again at once. */
  hasMore: boolean;
}

/**
 * The feed answered with an error. `status` 401: the token is wrong or SITE_API_TOKEN is not set
 * on the service; 400: a cursor it did not give; 410: see FeedCursorExpiredError.
 */
export class FeedError extends Error {
  override readonly name: string = "FeedError";
  constructor(
    readonly status: number,
    /** The service's error code (`unauthorized`, `invalid_cursor`, `cursor_expired`, ...), or `bad-answer`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * 410: the cursor is older than the feed's retention (events after it were deleted), or names an
 * event the feed does not have (the service's database was restored). Reading on from it could
 * miss changes: read from the start (`after: null`) and have the service's admin run a resync, whose
 * synced events bring the site back to the directory.
 */
export class FeedCursorExpiredError extends FeedError {
  override readonly name = "FeedCursorExpiredError";
}

export interface FeedOptions {
  /** The service's origin, e.g. `https://scim.example.com`. */
  url: string;
  /** SITE_API_TOKEN, as the service has it. */
  token: string;
  /** Events per request, 1 to 500 (default 100; the service may send fewer when they are large). */
  limit?: number;
  /** The fetch to use (default the global one): a proxy's, a service binding's, a test's. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  signal?: AbortSignal;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function badAnswer(detail: string): FeedError {
  return new FeedError(200, "bad-answer", `The feed's answer is not a feed page: ${detail}.`);
}

function parsePage(body: unknown): FeedPage {
  if (!isRecord(body) || !Array.isArray(body.data) || typeof body.nextCursor !== "string" || typeof body.hasMore !== "boolean") {
    throw badAnswer("expected {data, nextCursor, hasMore}");
  }
  const events = body.data.map((entry): PulledEvent => {
    if (!isRecord(entry) || typeof entry.id !== "string") throw badAnswer("an entry without a string id");
    const { id, ...payload } = entry;
    try {
      return { id, event: asEvent(payload), payload };
    } catch (err) {
      throw badAnswer(`entry ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return { events, nextCursor: body.nextCursor, hasMore: body.hasMore };
}

/** A failed request worth repeating: no answer, 429 or 5xx. */
class Transient extends Error {
  constructor(
    message: string,
    /** 0 when there was no answer. */
    readonly status: number,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

function retryAfter(res: Response): number | null {
  const header = res.headers.get("retry-after");
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

async function request(opts: FeedOptions & { after?: string | null }): Promise<FeedPage> {
  const url = new URL(FEED_PATH, opts.url);
  if (opts.after) url.searchParams.set("after", opts.after);
  if (opts.limit !== undefined) url.searchParams.set("limit", String(opts.limit));
  const doFetch = opts.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  let res: Response;
  try {
    res = await doFetch(url.toString(), {
      headers: { authorization: `Bearer ${opts.token}`, accept: "application/json" },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new Transient(`no answer from the feed: ${err instanceof Error ? err.message : String(err)}`, 0, null);
  }
  const text = await res.text();
  if (res.status === 429 || res.status >= 500) throw new Transient(`the feed answered ${res.status}`, res.status, retryAfter(res));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FeedError(res.status, "bad-answer", `The feed answered ${res.status} with a body that is not JSON.`);
  }
  if (res.status !== 200) {
    const code = isRecord(body) && typeof body.error === "string" ? body.error : "error";
    const detail = isRecord(body) && typeof body.detail === "string" ? body.detail : `The feed answered ${res.status}.`;
    throw res.status === 410 ? new FeedCursorExpiredError(410, code, detail) : new FeedError(res.status, code, detail);
  }
  return parsePage(body);
}

/**
 * One page of the feed after `after` (from the start of the feed's retention without one). A
 * network error, 429 or 5xx throws a FeedError with status 0, 429 or 5xx: try again later.
 */
export async function fetchPage(opts: FeedOptions & { after?: string | null }): Promise<FeedPage> {
  try {
    return await request(opts);
  } catch (err) {
    if (err instanceof Transient) throw new FeedError(err.status, "unavailable", err.message);
    throw err;
  }
}

export interface PullOptions extends FeedOptions {
  /** The cursor you kept (null or absent: the start of the feed). */
  after?: string | null;
  /** The wait once the feed is read to its end before asking again, in ms (default 1000). */
  intervalMs?: number;
  /** The first wait after a failed request (no answer, 429, 5xx), doubling up to 60 s (default 1000); Retry-After wins. */
  retryMs?: number;
  /** Told of each failed request and the wait before the next: for your logs. */
  onRetry?: (error: Error, waitMs: number) => void;
  /** Stop once the feed has been read to its end, instead of polling on. */
  untilCaughtUp?: boolean;
}

const MAX_RETRY_MS = 60_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The feed as an async iterator of pages, in order, from `after` on: at once while it has more,
 * then every `intervalMs` (a poller). Pages without events are not yielded. Failed requests are
 * retried with backoff; a wrong token (401), a cursor the feed did not give (400) and an expired
 * one (410, FeedCursorExpiredError) end it with the error. Aborting `signal` ends it quietly.
 *
 *   for await (const page of pull({ url, token, after: await loadCursor() })) {
 *     for (const pulled of page.events) replica.apply(pulled);
 *     await saveCursor(page.nextCursor);
 *   }
 */
export async function* pull(opts: PullOptions): AsyncGenerator<FeedPage, void, undefined> {
  const { intervalMs = 1000, retryMs = 1000, signal } = opts;
  let after = opts.after ?? null;
  let failures = 0;
  while (!signal?.aborted) {
    let page: FeedPage;
    try {
      page = await request({ ...opts, after });
    } catch (err) {
      if (signal?.aborted) return;
      if (!(err instanceof Transient)) throw err;
      const wait = err.retryAfterMs ?? Math.min(MAX_RETRY_MS, retryMs * 2 ** failures);
      failures++;
      opts.onRetry?.(err, wait);
      await sleep(wait, signal);
      continue;
    }
    failures = 0;
    after = page.nextCursor;
    if (page.events.length > 0) yield page;
    if (page.hasMore) continue;
    if (opts.untilCaughtUp) return;
    await sleep(intervalMs, signal);
  }
}
