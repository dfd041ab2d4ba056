import { describe, expect, it } from "vitest";
import { answerText, type VerdictFacts, verdictOf } from "../../src/admin/verdict";
import { EVENT_STATES, type EventState } from "../../src/lifecycle/events";

const NOW = Date.parse("2026-12-07T12:00:00.000Z");
const ago = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

function facts(over: {
  counts?: Partial<Record<EventState, number>>;
  oldest?: Partial<Record<EventState, string>>;
  delivery?: Partial<VerdictFacts["delivery"]>;
  credentials?: VerdictFacts["credentials"];
  next?: boolean;
  secrets?: VerdictFacts["secrets"];
  settings?: Partial<VerdictFacts["settings"]>;
  refusals?: VerdictFacts["refusals"];
}): VerdictFacts {
  return {
    now: NOW,
    counts: { ...(Object.fromEntries(EVENT_STATES.map((s) => [s, 0])) as Record<EventState, number>), ...over.counts },
    oldest: over.oldest ?? {},
    delivery: {
      lastAccepted: null,
      failingNewestStatus: null,
      failingNewestError: null,
      nextRetryAt: null,
      refusedNewestStatus: null,
      refusedNewestError: null,
      exhaustedNewestError: null,
      unsentNewestError: null,
      overdue: 0,
      overdueSince: null,
      heldPeople: 0,
      consumerLastBatchAt: null,
      ...over.delivery,
    },
    refusals: over.refusals ?? [],
    credentials: over.credentials ?? [{ credential: "SCIM_BEARER_TOKEN", lastUsedAt: ago(5) }],
    tokensSet: { SCIM_BEARER_TOKEN: true, SCIM_BEARER_TOKEN_NEXT: over.next ?? false },
    secrets: over.secrets ?? [],
    settings: { scimEnabled: true, dryRun: false, staticTokenEnabled: true, ...over.settings },
  };
}

describe("verdictOf", () => {
  const cases: { name: string; facts: VerdictFacts; healthy: boolean; kinds: string[]; title?: string; since?: string | null }[] = [
    { name: "nothing wrong", facts: facts({}), healthy: true, kinds: [] },
    {
      name: "a site answering 410: refusing, the answer said once",
      facts: facts({
        counts: { rejected: 8 },
        oldest: { rejected: ago(30) },
        delivery: { refusedNewestStatus: 410, refusedNewestError: "HTTP 410: forced 410" },
      }),
      healthy: false,
      kinds: ["site_refusing"],
      title: "The site refuses every change: it answers 410 Gone. 8 changes refused for good (last answer: HTTP 410: forced 410)",
      since: ago(30),
    },
    {
      name: "failing and nothing since got through: unreachable",
      facts: facts({
        counts: { retrying: 21, delivered: 100 },
        oldest: { retrying: ago(20) },
        delivery: { lastAccepted: ago(25), failingNewestStatus: null, failingNewestError: "network error: connection refused" },
      }),
      healthy: false,
      kinds: ["site_unreachable"],
      title: "The site is unreachable: 21 changes wait for retry (last answer: network error: connection refused)",
      since: ago(20),
    },
    {
      name: "one change failing at a site that is down: it waits, and the answer comes without the consumer's retry note",
      facts: facts({
        counts: { retrying: 1, delivered: 3 },
        oldest: { retrying: ago(1) },
        delivery: {
          lastAccepted: ago(5),
          failingNewestStatus: 503,
          failingNewestError: "HTTP 503: down for maintenance (next attempt at 2026-12-07T06:52:15.209Z)",
        },
      }),
      healthy: false,
      kinds: ["site_unreachable"],
      title: "The site is unreachable: 1 change waits for retry (last answer: HTTP 503: down for maintenance)",
    },
    {
      name: "failing but a later change got through: waiting for retry, a warning",
      facts: facts({
        counts: { retrying: 2 },
        oldest: { retrying: ago(20) },
        delivery: { lastAccepted: ago(1), failingNewestStatus: 503, failingNewestError: "HTTP 503: busy" },
      }),
      healthy: false,
      kinds: ["retrying"],
      title: "2 changes wait for retry (last answer: HTTP 503: busy)",
    },
    {
      name: "held: changes for people",
      facts: facts({ counts: { held: 89 }, oldest: { held: ago(50) }, delivery: { heldPeople: 40 } }),
      healthy: false,
      kinds: ["held"],
      title: "89 changes held by the deprovisioning guard for 40 people",
    },
    {
      name: "refused requests and none let in since: problem before the notice of a rotation",
      facts: facts({
        next: true,
        refusals: [{ at: ago(3), detail: "12 requests with a bad token", count: 12 }],
      }),
      healthy: false,
      kinds: ["idp_refused", "rotation"],
      title: "SCIM requests are refused (401): 12 requests since the IdP was last let in (12 requests with a bad token)",
    },
    {
      name: "refused requests but the IdP is let in after them: nothing",
      facts: facts({
        refusals: [{ at: ago(10), detail: "3 requests with a bad token", count: 3 }],
        credentials: [{ credential: "SCIM_BEARER_TOKEN", lastUsedAt: ago(1) }],
      }),
      healthy: true,
      kinds: [],
    },
    {
      name: "refused, let in, refused again: only the refusals since the IdP was last let in count",
      facts: facts({
        refusals: [
          { at: ago(2), detail: "4 requests with a bad token", count: 4 },
          { at: ago(4), detail: "2 requests with a bad token", count: 2 },
          { at: ago(20), detail: "9 requests with a bad token", count: 9 },
        ],
        credentials: [{ credential: "SCIM_BEARER_TOKEN", lastUsedAt: ago(10) }],
      }),
      healthy: false,
      kinds: ["idp_refused"],
      title: "SCIM requests are refused (401): 6 requests since the IdP was last let in (4 requests with a bad token)",
      since: ago(4),
    },
    {
      name: "quiet for more than a day: a warning since the last request",
      facts: facts({ credentials: [{ credential: "SCIM_BEARER_TOKEN", lastUsedAt: ago(60 * 30) }] }),
      healthy: false,
      kinds: ["idp_silent"],
      since: ago(60 * 30),
    },
    {
      name: "a secret expiring in 12 days with no newer one: a warning; with a newer one: nothing",
      facts: facts({
        secrets: [
          { id: "s1", hint: "h6a4", expiresAt: new Date(NOW + 12.5 * 86_400_000).toISOString(), clientName: "Entra", newerSecret: false },
          { id: "s0", hint: "old1", expiresAt: new Date(NOW + 2 * 86_400_000).toISOString(), clientName: "Entra", newerSecret: true },
        ],
      }),
      healthy: false,
      kinds: ["credential_expiring"],
      title: 'OAuth client "Entra": its secret …h6a4 expires in 12 days (2026-12-20 00:00:00 UTC)',
    },
    { name: "SCIM off: a notice only", facts: facts({ settings: { scimEnabled: false } }), healthy: true, kinds: ["scim_off"] },
    { name: "dry run: a notice only", facts: facts({ settings: { dryRun: true } }), healthy: true, kinds: ["dry_run"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = verdictOf(c.facts);
      expect(v.healthy).toBe(c.healthy);
      expect(v.findings.map((f) => f.kind)).toEqual(c.kinds);
      if (c.title !== undefined) expect(v.findings[0]?.title).toBe(c.title);
      if (c.since !== undefined) expect(v.findings[0]?.since).toBe(c.since);
      expect(v.headline).toBe(c.healthy ? "Healthy: changes reach the site" : v.findings[0]?.title);
      for (const f of v.findings) expect(f.action.length).toBeGreaterThan(20);
    });
  }
});

describe("answerText: the site's answer as stored, never twice", () => {
  it.each([
    { status: 410, error: "HTTP 410: forced 410", text: "HTTP 410: forced 410" },
    { status: 503, error: null, text: "HTTP 503" },
    { status: null, error: "network error: refused", text: "network error: refused" },
    { status: null, error: null, text: "no answer" },
    { status: 400, error: "bad body", text: "HTTP 400: bad body" },
    // The consumer's retry note is left out: the verdict says the next attempt itself.
    { status: 503, error: "HTTP 503: down (next attempt at 2026-12-07T06:52:15.209Z)", text: "HTTP 503: down" },
    { status: 503, error: "HTTP 503: down (last attempt: moving to scim-events-dlq)", text: "HTTP 503: down" },
    { status: 503, error: " (next attempt at 2026-12-07T06:52:15.209Z)", text: "HTTP 503" },
  ])("$status $error", ({ status, error, text }) => expect(answerText(status, error)).toBe(text));
});
