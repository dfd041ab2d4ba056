import { signatureHeader } from "./signing";

/** How long the main site has to answer one delivery before it counts as a network failure. */
export const DELIVERY_TIMEOUT_MS = 10_000;

const USER_AGENT = "scim-edge-webhooks/1 (+https://www.standardwebhooks.com/)";

/** The most of the site's answer kept in last_error: enough to read why, never the whole page. */
const ERROR_SNIPPET_CHARS = 300;
/** The most of a 2xx answer read when the site's view is wanted (a resync's reconcile). */
const VIEW_CHARS = 4096;

export interface DeliveryTarget {
  url: string;
  secret: string;
  /** MAIN_SITE_SIGNING_SECRET_NEXT while a rotation is under way: every delivery is signed with both. */
  nextSecret?: string;
}

/** One attempt's result: an HTTP status (any), or a network error / timeout (status null). */
export interface DeliveryAttempt {
  status: number | null;
  retryAfter: string | null;
  /** Human-readable reason for anything but 2xx; null on success. */
  error: string | null;
  /** A 2xx answer's body, when asked for (`readAnswer`); else null. */
  answer: string | null;
}

/**
 * One signed POST of an event (Standard Webhooks). The body is sent exactly as stored, so the
 * signature covers the same bytes the site receives; webhook-id is the event id on every attempt
 * (the site's de-duplication key) and webhook-timestamp is this attempt's time, because receivers
 * reject signatures older than a few minutes. Redirects are not followed: a signed body must not
 * go to a host the operator did not configure.
 */
export async function postWebhook(
  target: DeliveryTarget,
  eventId: string,
  body: string,
  options: { readAnswer?: boolean; now?: () => number } = {},
): Promise<DeliveryAttempt> {
  const now = options.now ?? Date.now;
  const timestamp = Math.floor(now() / 1000);
  const secrets = target.nextSecret === undefined ? [target.secret] : [target.secret, target.nextSecret];
  const signature = await signatureHeader(secrets, eventId, timestamp, body);
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": eventId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      status: null,
      retryAfter: null,
      error: timedOut ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `network error: ${describe(err)}`,
      answer: null,
    };
  }
  if (res.status >= 200 && res.status < 300) {
    if (options.readAnswer) return { status: res.status, retryAfter: null, error: null, answer: await readStart(res, VIEW_CHARS) };
    await res.body?.cancel();
    return { status: res.status, retryAfter: null, error: null, answer: null };
  }
  const snippet = (await readStart(res, ERROR_SNIPPET_CHARS)).replace(/\s+/g, " ").trim().slice(0, ERROR_SNIPPET_CHARS);
  const location = res.headers.get("location");
  const reason =
    res.status >= 300 && res.status < 400
      ? `redirect to ${location ?? "(no Location)"} not followed; set MAIN_SITE_URL to the final URL`
      : snippet || res.statusText || "no body";
  return { status: res.status, retryAfter: res.headers.get("retry-after"), error: `HTTP ${res.status}: ${reason}`, answer: null };
}

/** The start of the answer's body as text, reading no more than needed (a site may send MBs). */
async function readStart(res: Response, chars: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < chars) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
  } catch {
    // A body that fails mid-read still leaves us the status, which is what decides.
  }
  return text.slice(0, chars);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, ERROR_SNIPPET_CHARS);
  return String(err).slice(0, ERROR_SNIPPET_CHARS);
}
