import { describe, expect, it } from "vitest";
import {
  BACKOFF_CAP_SECONDS,
  backoffSeconds,
  isLastAttempt,
  parseRetryAfter,
  QUEUE_MAX_RETRIES,
  retryDelaySeconds,
  verdictFor,
} from "../../src/events/backoff";
import wranglerToml from "../../wrangler.toml?raw";

const NOW = Date.parse("2026-05-01T12:00:00Z");

describe("verdictFor (SPEC §9: 2xx delivered, 429/5xx/network retried, other 4xx rejected)", () => {
  const table: { status: number | null; expected: ReturnType<typeof verdictFor> }[] = [
    { status: 200, expected: "delivered" },
    { status: 201, expected: "delivered" },
    { status: 202, expected: "delivered" },
    { status: 204, expected: "delivered" },
    { status: 299, expected: "delivered" },
    { status: null, expected: "retry" },
    { status: 429, expected: "retry" },
    { status: 500, expected: "retry" },
    { status: 502, expected: "retry" },
    { status: 503, expected: "retry" },
    { status: 504, expected: "retry" },
    { status: 599, expected: "retry" },
    { status: 400, expected: "rejected" },
    { status: 401, expected: "rejected" },
    { status: 403, expected: "rejected" },
    { status: 404, expected: "rejected" },
    { status: 408, expected: "rejected" },
    { status: 409, expected: "rejected" },
    { status: 410, expected: "rejected" },
    { status: 413, expected: "rejected" },
    { status: 422, expected: "rejected" },
    { status: 301, expected: "rejected" },
    { status: 302, expected: "rejected" },
    { status: 307, expected: "rejected" },
    { status: 101, expected: "rejected" },
  ];
  it.each(table)("$status → $expected", ({ status, expected }) => {
    expect(verdictFor(status)).toBe(expected);
  });
});

describe("backoffSeconds = min(cap, base · 2^attempts)", () => {
  const table = [
    { attempts: 0, expected: 15 },
    { attempts: 1, expected: 30 },
    { attempts: 2, expected: 60 },
    { attempts: 3, expected: 120 },
    { attempts: 4, expected: 240 },
    { attempts: 5, expected: 480 },
    { attempts: 6, expected: 960 },
    { attempts: 7, expected: 1920 },
    { attempts: 8, expected: 3600 },
    { attempts: 9, expected: 3600 },
    { attempts: 2000, expected: 3600 },
    { attempts: -3, expected: 15 },
  ];
  it.each(table)("attempts $attempts → $expected s", ({ attempts, expected }) => {
    expect(backoffSeconds(attempts)).toBe(expected);
  });

  it("keeps retrying for more than an hour of downtime before the message goes to the DLQ", () => {
    let total = 0;
    for (let attempt = 1; attempt <= QUEUE_MAX_RETRIES; attempt++) total += retryDelaySeconds(attempt, null, NOW);
    expect(total).toBeGreaterThan(3600);
    expect(total).toBeLessThan(3 * 3600);
  });
});

describe("parseRetryAfter (RFC 9110 §10.2.3)", () => {
  const table: { value: string | null | undefined; expected: number | undefined }[] = [
    { value: null, expected: undefined },
    { value: undefined, expected: undefined },
    { value: "", expected: undefined },
    { value: "  ", expected: undefined },
    { value: "0", expected: 0 },
    { value: "120", expected: 120 },
    { value: " 7 ", expected: 7 },
    { value: "-5", expected: undefined },
    { value: "1.5", expected: undefined },
    { value: "soon", expected: undefined },
    { value: "Fri, 01 May 2026 12:10:00 GMT", expected: 600 },
    { value: "Fri, 01 May 2026 11:00:00 GMT", expected: 0 },
  ];
  it.each(table)("$value → $expected", ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe("retryDelaySeconds: the larger of backoff and Retry-After, capped", () => {
  const table = [
    { attempts: 1, retryAfter: null, expected: 30 },
    { attempts: 1, retryAfter: "5", expected: 30 },
    { attempts: 1, retryAfter: "300", expected: 300 },
    { attempts: 3, retryAfter: "Fri, 01 May 2026 12:30:00 GMT", expected: 1800 },
    { attempts: 2, retryAfter: "86400", expected: BACKOFF_CAP_SECONDS },
    { attempts: 8, retryAfter: null, expected: BACKOFF_CAP_SECONDS },
    { attempts: 2, retryAfter: "garbage", expected: 60 },
  ];
  it.each(table)("attempt $attempts, Retry-After $retryAfter → $expected s", ({ attempts, retryAfter, expected }) => {
    expect(retryDelaySeconds(attempts, retryAfter, NOW)).toBe(expected);
  });
});

/** The `key = value` lines of each `[[queues.consumers]]` table of wrangler.toml. */
function queueConsumers(toml: string): Record<string, string>[] {
  const tables = toml.split(/^(?=\[)/m).filter((t) => t.startsWith("[[queues.consumers]]"));
  return tables.map((t) =>
    Object.fromEntries(
      t
        .split("\n")
        .slice(1)
        .map((line) => /^\s*([A-Za-z_]+)\s*=\s*(.+?)\s*(?:#.*)?$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => [m[1], m[2]]),
    ),
  );
}

describe("the queue's retries in wrangler.toml", () => {
  const consumer = queueConsumers(wranglerToml).find((c) => c.queue === '"scim-events"');

  it("QUEUE_MAX_RETRIES is max_retries of the scim-events consumer", () => {
    expect(consumer, "no [[queues.consumers]] table for scim-events in wrangler.toml").toBeDefined();
    expect(Number(consumer?.max_retries)).toBe(QUEUE_MAX_RETRIES);
  });

  it("after the last retry the message goes to scim-events-dlq, which has its own consumer", () => {
    expect(consumer?.dead_letter_queue).toBe('"scim-events-dlq"');
    expect(queueConsumers(wranglerToml).some((c) => c.queue === '"scim-events-dlq"')).toBe(true);
  });
});

describe("isLastAttempt (max_retries = 8 → 9 attempts)", () => {
  it.each([
    { attempts: 1, expected: false },
    { attempts: 8, expected: false },
    { attempts: 9, expected: true },
    { attempts: 10, expected: true },
  ])("attempt $attempts → $expected", ({ attempts, expected }) => {
    expect(isLastAttempt(attempts)).toBe(expected);
  });
});
