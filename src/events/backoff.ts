/**
 * PURE: what one delivery attempt's outcome means, and how long to wait before the next one.
 * No I/O here, so the whole policy is unit-tested with tables (test/unit/webhook-backoff.test.ts).
 */

/**
 * `max_retries` of the scim-events consumer (wrangler.toml; test/unit/webhook-backoff.test.ts
 * reads it there): a message is attempted at most 1 + QUEUE_MAX_RETRIES times before the queue
 * moves it to scim-events-dlq.
 */
export const QUEUE_MAX_RETRIES = 8;

/**
 * Backoff base and cap. With 8 retries the waits are 30 s, 1 min, 2 min, 4 min, 8 min, 16 min,
 * 32 min, 1 h: about 2 h in all, so a main site that is down for an hour still gets every event
 * without an operator. Cloudflare Queues accept a retry delay of at most 12 h.
 */
const BACKOFF_BASE_SECONDS = 15;
export const BACKOFF_CAP_SECONDS = 3_600;

export type Verdict = "delivered" | "retry" | "rejected";

/**
 * SPEC §9: 2xx delivered; 429 and 5xx retried; any other status (other 4xx, and 1xx/3xx, which a
 * webhook endpoint has no business answering and which we do not follow, see deliver.ts) is
 * rejected and not retried. A network error or timeout has no status and is retried.
 */
export function verdictFor(status: number | null): Verdict {
  if (status === null) return "retry";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 429 || (status >= 500 && status < 600)) return "retry";
  return "rejected";
}

/** min(cap, base · 2^attempts), where `attempts` counts the attempts made so far (≥ 1). */
export function backoffSeconds(attempts: number, base = BACKOFF_BASE_SECONDS, cap = BACKOFF_CAP_SECONDS): number {
  const n = Math.max(0, Math.floor(attempts));
  // 2^n overflows to Infinity long before it matters; min() keeps the cap either way.
  return Math.min(cap, base * 2 ** n);
}

/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Returns whole seconds
 * from `nowMs`, or undefined when absent or unreadable (then only the backoff applies).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // Every HTTP-date form starts with a day name ("Fri, 01 May 2026 …"); Date.parse alone would
  // also read "-5" or "1.5" as dates.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * The delay for msg.retry(): the larger of our backoff and the site's Retry-After (the site
 * knows best when it will be back, but may not make us hammer it sooner), never above the cap.
 */
export function retryDelaySeconds(
  attempts: number,
  retryAfter: string | null | undefined,
  nowMs: number,
  cap = BACKOFF_CAP_SECONDS,
): number {
  const backoff = backoffSeconds(attempts, BACKOFF_BASE_SECONDS, cap);
  const asked = parseRetryAfter(retryAfter, nowMs) ?? 0;
  return Math.min(cap, Math.max(backoff, asked));
}

/** True when this attempt was the message's last: retrying it now moves it to the DLQ. */
export function isLastAttempt(attempts: number, maxRetries = QUEUE_MAX_RETRIES): boolean {
  return attempts >= maxRetries + 1;
}
