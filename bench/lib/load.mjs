// A closed-loop load driver: `concurrency` loops, each sending its next request when the last one
// answered, until the time is up, the request source runs dry, or `maxRequests` were sent. Every
// request has its own timeout, so a phase always ends by itself.

const REQUEST_TIMEOUT_MS = 30_000;

function percentile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The most frequent value of a header across the phase, and the largest. */
function summarize(counts) {
  let mode;
  let modeN = -1;
  let max;
  for (const [v, n] of counts) {
    if (n > modeN || (n === modeN && v < mode)) [mode, modeN] = [v, n];
    if (max === undefined || v > max) max = v;
  }
  return { mode, max, histogram: Object.fromEntries([...counts].sort((a, b) => a[0] - b[0])) };
}

function bump(map, value) {
  if (value === null) return;
  const v = Number(value);
  map.set(v, (map.get(v) ?? 0) + 1);
}

/**
 * Runs one phase. `next(i)` returns the i-th request ({ url, method?, headers?, body?, expect })
 * or null when its source is exhausted. Returns throughput, latency percentiles (ms), the
 * X-D1-* header summaries and the first few errors.
 */
export async function drive({ concurrency, durationMs, maxRequests = Infinity, next }) {
  const latencies = [];
  const roundTrips = new Map();
  const statements = new Map();
  const errors = [];
  let errorCount = 0;
  let issued = 0;
  let exhausted = false;
  const started = performance.now();
  const deadline = started + durationMs;

  async function loop() {
    while (!exhausted && performance.now() < deadline && issued < maxRequests) {
      const req = next(issued++);
      if (req === null) {
        exhausted = true;
        break;
      }
      const t0 = performance.now();
      try {
        const res = await fetch(req.url, {
          method: req.method ?? "GET",
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        const ms = performance.now() - t0;
        if (res.status !== req.expect) {
          errorCount++;
          if (errors.length < 5) errors.push(`${req.method ?? "GET"} ${req.url} → ${res.status}: ${text.slice(0, 300)}`);
          continue;
        }
        latencies.push(ms);
        req.onOk?.(text);
        bump(roundTrips, res.headers.get("x-d1-round-trips"));
        bump(statements, res.headers.get("x-d1-statements"));
      } catch (err) {
        errorCount++;
        if (errors.length < 5) errors.push(`${req.method ?? "GET"} ${req.url} → ${String(err)}`);
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    latencies: sorted,
    requests: sorted.length,
    errors: errorCount,
    errorSamples: errors,
    exhausted,
    seconds,
    rps: sorted.length / seconds,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    roundTrips: summarize(roundTrips),
    statements: summarize(statements),
  };
}

/** Several runs of one request type as one: requests over the time spent in them. */
export function merge(runs) {
  const sorted = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((t, r) => t + r.seconds, 0);
  const histogram = (key) => {
    const map = new Map();
    for (const r of runs) for (const [v, n] of Object.entries(r[key].histogram)) map.set(Number(v), (map.get(Number(v)) ?? 0) + n);
    return summarize(map);
  };
  return {
    latencies: sorted,
    requests: sorted.length,
    errors: runs.reduce((t, r) => t + r.errors, 0),
    errorSamples: runs.flatMap((r) => r.errorSamples).slice(0, 5),
    exhausted: runs.some((r) => r.exhausted),
    seconds,
    rps: sorted.length / seconds,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    roundTrips: histogram("roundTrips"),
    statements: histogram("statements"),
  };
}
