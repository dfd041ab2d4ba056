import { Hono } from "hono";
import { eventsPerHour, oldestPerState } from "../db/admin-queries";
import { getDb } from "../db/client";
import { REQUEST_OUTCOMES, type RequestOutcome, requestsPerHour } from "../db/log";
import type { AppEnv } from "../env";
import { feedStatus } from "../events/feed";
import { signingSecrets } from "../events/signing";
import { countByState } from "../events/store";
import { queryObject, validate } from "../http/validate";
import { EVENT_STATES, type EventState, UNDELIVERED } from "../lifecycle/events";
import { configuredTokens } from "../middleware/tokens";
import { loadSettings } from "../settings/store";

const HOURS = 24;
const HOUR_MS = 3_600_000;

/** One series per key, a value per hour, zero where nothing happened. */
function perHour<K extends string>(keys: readonly K[], hours: readonly string[], rows: { hour: string; key: string; n: number }[]) {
  const index = new Map(hours.map((h, i) => [h.slice(0, 13), i]));
  const series = Object.fromEntries(keys.map((k) => [k, hours.map(() => 0)])) as Record<K, number[]>;
  for (const r of rows) {
    const i = index.get(r.hour);
    const line: number[] | undefined = (series as Record<string, number[]>)[r.key];
    if (i !== undefined && line) line[i] = (line[i] ?? 0) + r.n;
  }
  return series;
}

/**
 * GET /admin/api/stats (SPEC §10): the last 24 hours at a glance, for the health charts. Five
 * bounded reads, in parallel: the day's log rows over log_at_idx, the day's events and the
 * per-state counts over events_state_idx (index only), one min() per undelivered state, and the
 * pull feed's row with one event by its position (src/events/feed.ts); the settings are cached.
 */
export const statsAdminRoutes = new Hono<AppEnv>().get("/stats", validate("query", queryObject({})), async (c) => {
  const now = Date.now();
  // 24 hourly buckets, the last one the hour now under way.
  const first = Math.floor(now / HOUR_MS) * HOUR_MS - (HOURS - 1) * HOUR_MS;
  const hours = Array.from({ length: HOURS }, (_, i) => new Date(first + i * HOUR_MS).toISOString());
  const since = hours[0] ?? new Date(first).toISOString();
  const db = getDb(c.env.DB);
  const [requests, created, counts, oldest, feed, settings] = await Promise.all([
    requestsPerHour(db, since),
    eventsPerHour(db, since, EVENT_STATES),
    countByState(db),
    oldestPerState(db, UNDELIVERED),
    feedStatus(db, now),
    loadSettings(db),
  ]);
  const ages = Object.fromEntries(
    Object.entries(oldest).map(([state, at]) => [state, Math.max(0, Math.round((now - Date.parse(String(at))) / 1000))]),
  ) as Partial<Record<(typeof UNDELIVERED)[number], number>>;
  const oldestState = UNDELIVERED.filter((s) => oldest[s] !== undefined).sort((a, b) => (ages[b] ?? 0) - (ages[a] ?? 0))[0];
  return c.json({
    generatedAt: new Date(now).toISOString(),
    hours,
    requests: perHour<RequestOutcome>(
      REQUEST_OUTCOMES,
      hours,
      requests.map((r) => ({ hour: r.hour, key: r.outcome, n: r.n })),
    ),
    events: {
      byState: counts,
      createdPerHour: perHour<EventState>(
        EVENT_STATES,
        hours,
        created.map((r) => ({ hour: r.hour, key: r.state, n: r.n })),
      ),
    },
    undeliveredStates: UNDELIVERED,
    oldestUndelivered: oldestState
      ? { state: oldestState, createdAt: oldest[oldestState] ?? null, ageSeconds: ages[oldestState] ?? 0 }
      : null,
    oldestAgeByState: ages,
    held: counts.held,
    dead: counts.dead,
    // Which signing secrets are set (names and states only, never values): a rotation under way shows here.
    signingSecrets: signingSecrets(c.env),
    // How events reach the site, and how far it has read the pull feed (its last cursor and its lag).
    siteDelivery: { mode: settings.siteDelivery, tokenSet: configuredTokens(c.env.SITE_API_TOKEN).length > 0, feed },
  });
});
