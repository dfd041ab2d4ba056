/**
 * "Is provisioning healthy?" in one answer (SPEC §10, GET /admin/api/stats `verdict`): healthy,
 * or what is wrong, since when, and the action that fixes it. Pure: the facts are read in one
 * round trip (src/db/health.ts) and every event state is weighed by how the lifecycle table reads
 * it (src/lifecycle/events.ts `verdict`), so a state added there is weighed here without a list.
 */
import { EVENT_STATES, type EventState, type VerdictReading, verdictReading } from "../lifecycle/events";

/** A problem needs an admin; a warning may; a notice says what is under way. Only notices leave it healthy. */
type Severity = "problem" | "warning" | "notice";

type FindingKind =
  | "site_refusing"
  | "site_unreachable"
  | "retrying"
  | "dead"
  | "held"
  | "undeliverable"
  | "stalled"
  | "idp_refused"
  | "idp_silent"
  | "idp_never"
  | "credential_expiring"
  | "credential_expired"
  | "rotation"
  | "scim_off"
  | "dry_run";

/** Where in the page the action is taken. */
type Place = "events" | "connect" | "settings" | "log";

interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** What is wrong (or under way), with its numbers: "The site is unreachable: 21 changes wait for retry". */
  title: string;
  /** Since when (ISO time), where it is known. */
  since: string | null;
  /** The action that fixes it, in words. */
  action: string;
  /** The view that takes the action, and the events' state it shows, where there is one. */
  place: Place;
  state?: EventState;
  /** Events it counts (changes), and people where the count is of people. */
  events?: number;
  people?: number;
}

export interface Verdict {
  healthy: boolean;
  /** One line: "Healthy" or the first finding's title. */
  headline: string;
  /** Problems first, then warnings, then notices. */
  findings: Finding[];
}

export interface VerdictFacts {
  now: number;
  /** Events by state, all of them (the same counts the events view shows). */
  counts: Record<EventState, number>;
  /** The oldest created_at of each state that has events. */
  oldest: Partial<Record<EventState, string>>;
  delivery: {
    lastAccepted: string | null;
    failingNewestStatus: number | null;
    failingNewestError: string | null;
    nextRetryAt: string | null;
    refusedNewestStatus: number | null;
    refusedNewestError: string | null;
    exhaustedNewestError: string | null;
    unsentNewestError: string | null;
    overdue: number;
    overdueSince: string | null;
    heldPeople: number;
    /** When the queue consumer last took a batch (delivery_progress). */
    consumerLastBatchAt: string | null;
  };
  /** The last hour's refused SCIM requests (401), newest first: one row per client and minute, with its count. */
  refusals: { at: string; detail: string | null; count: number }[];
  /** When each credential last let a request in. */
  credentials: { credential: string; lastUsedAt: string | null }[];
  /** The static tokens that are set. */
  tokensSet: { SCIM_BEARER_TOKEN: boolean; SCIM_BEARER_TOKEN_NEXT: boolean };
  /** Client secrets expiring within EXPIRY_WARNING_DAYS (or expired). */
  secrets: { id: string; hint: string; expiresAt: string; clientName: string; newerSecret: boolean }[];
  settings: { scimEnabled: boolean; dryRun: boolean; staticTokenEnabled: boolean };
}

/** A client secret this close to its expiry is a warning. */
export const EXPIRY_WARNING_DAYS = 30;
/** No request from any IdP for this long is a warning (Okta and Entra send only when something changes). */
const IDP_SILENT_MS = 24 * 3_600_000;
/** An in-flight event overdue by this much means deliveries are stalled (the sweeper re-sends lost messages within 2 minutes). */
export const STALLED_MS = 5 * 60_000;

const DAY_MS = 86_400_000;
const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
const changes = (count: number) => n(count, "change", "changes");

/** Counts and oldest time of the states the lifecycle reads as `reading`. */
function read(facts: VerdictFacts, reading: VerdictReading): { count: number; since: string | null; state: EventState | undefined } {
  const states = EVENT_STATES.filter((s) => verdictReading(s) === reading);
  const count = states.reduce((sum, s) => sum + facts.counts[s], 0);
  const times = states.flatMap((s) => (facts.counts[s] > 0 && facts.oldest[s] ? [facts.oldest[s]] : []));
  // ISO-8601 UTC times sort as text: the first is the oldest.
  const since = times.sort()[0] ?? null;
  return { count, since, state: states.find((s) => facts.counts[s] > 0) ?? states[0] };
}

/** The note the consumer adds to a retried event's error (src/events/consumer.ts); the verdict says the next attempt itself. */
const RETRY_NOTE = / \((?:next attempt at [^)]*|last attempt: [^)]*)\)$/;

/** The site's answer as stored ("HTTP 410: gone"), or the status alone, never both twice, without the retry note. */
export function answerText(status: number | null, stored: string | null): string {
  const error = stored?.replace(RETRY_NOTE, "") || null;
  if (error) return /^HTTP \d{3}\b/.test(error) || status === null ? error : `HTTP ${status}: ${error}`;
  return status === null ? "no answer" : `HTTP ${status}`;
}

const when = (iso: string) => `${iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "")} UTC`;

function deliveryFindings(facts: VerdictFacts): Finding[] {
  const out: Finding[] = [];
  const d = facts.delivery;
  const refused = read(facts, "refused");
  if (refused.count > 0) {
    const gone = d.refusedNewestStatus === 410;
    const answer = answerText(d.refusedNewestStatus, d.refusedNewestError);
    out.push({
      kind: "site_refusing",
      severity: "problem",
      title: gone
        ? `The site refuses every change: it answers 410 Gone. ${changes(refused.count)} refused for good (last answer: ${answer})`
        : `The site refused ${changes(refused.count)} for good (last answer: ${answer})`,
      since: refused.since,
      action: gone
        ? "The site's webhook endpoint is gone: fix the site or MAIN_SITE_URL, then Redeliver all rejected events under Events. Nothing is retried until then."
        : "The site refuses these changes as such (a 4xx other than 429): fix what it says, then Redeliver all rejected events under Events.",
      place: "events",
      ...(refused.state ? { state: refused.state } : {}),
      events: refused.count,
    });
  }
  const failing = read(facts, "failing");
  if (failing.count > 0) {
    const answer = answerText(d.failingNewestStatus, d.failingNewestError);
    const waits = failing.count === 1 ? "waits" : "wait";
    // Nothing made since the first of them has reached the site: it is down, not just slow now and then.
    const down = failing.since !== null && (d.lastAccepted === null || d.lastAccepted < failing.since);
    const next =
      d.nextRetryAt && d.nextRetryAt > new Date(facts.now).toISOString() ? ` The next attempt is at ${when(d.nextRetryAt)}.` : "";
    out.push({
      kind: down ? "site_unreachable" : "retrying",
      severity: down ? "problem" : "warning",
      title: down
        ? `The site is unreachable: ${changes(failing.count)} ${waits} for retry (last answer: ${answer})`
        : `${changes(failing.count)} ${waits} for retry (last answer: ${answer})`,
      since: failing.since,
      action: `Nothing is lost: the queue retries each change with backoff for about 2 hours, then marks it dead.${next} Check that the site at MAIN_SITE_URL is up; once it answers, Redeliver all retrying events under Events to send them now.`,
      place: "events",
      ...(failing.state ? { state: failing.state } : {}),
      events: failing.count,
    });
  }
  const dead = read(facts, "exhausted");
  if (dead.count > 0) {
    out.push({
      kind: "dead",
      severity: "problem",
      title: `${changes(dead.count)} failed every retry and are dead${d.exhaustedNewestError ? ` (last answer: ${d.exhaustedNewestError})` : ""}`,
      since: dead.since,
      action:
        "Once the site answers again, Redeliver all dead events under Events: each goes with its own webhook-id, so the site applies it once.",
      place: "events",
      ...(dead.state ? { state: dead.state } : {}),
      events: dead.count,
    });
  }
  const held = read(facts, "held");
  if (held.count > 0) {
    out.push({
      kind: "held",
      severity: "problem",
      title: `${changes(held.count)} held by the deprovisioning guard for ${n(d.heldPeople, "person", "people")}`,
      since: held.since,
      action:
        "Review them by person under Events: discard for the people the IdP has reactivated, release the rest. Until then the site is not told they were deactivated or deleted.",
      place: "events",
      ...(held.state ? { state: held.state } : {}),
      events: held.count,
      people: d.heldPeople,
    });
  }
  const unsent = read(facts, "unsent");
  if (unsent.count > 0) {
    out.push({
      kind: "undeliverable",
      severity: "problem",
      title: `${changes(unsent.count)} could not be sent: ${d.unsentNewestError ?? "there is no delivery target"}`,
      since: unsent.since,
      action:
        "Set MAIN_SITE_URL and a valid MAIN_SITE_SIGNING_SECRET, then Redeliver all undeliverable events under Events. Nothing was dropped.",
      place: "events",
      ...(unsent.state ? { state: unsent.state } : {}),
      events: unsent.count,
    });
  }
  if (d.overdue > 0) {
    out.push({
      kind: "stalled",
      severity: "warning",
      title: `${changes(d.overdue)} overdue at the queue consumer`,
      since: d.overdueSince,
      action: `The cron sweeper re-sends a lost queue message within 2 minutes; if this stays, check that the scim-events consumer runs (npx wrangler tail shows its batches; it last took one ${d.consumerLastBatchAt ? `at ${when(d.consumerLastBatchAt)}` : "never"}) and that the cron trigger is deployed.`,
      place: "events",
      events: d.overdue,
    });
  }
  return out;
}

const newest = (uses: readonly { lastUsedAt: string | null }[]): string | null =>
  uses.reduce<string | null>((a, u) => (u.lastUsedAt !== null && (a === null || u.lastUsedAt > a) ? u.lastUsedAt : a), null);

function idpFindings(facts: VerdictFacts): Finding[] {
  const out: Finding[] = [];
  const { settings } = facts;
  if (!settings.scimEnabled) {
    out.push({
      kind: "scim_off",
      severity: "notice",
      title: "SCIM is off: every SCIM request answers 403",
      since: null,
      action: "Turn SCIM On under Settings and Save settings when the IdP is ready to provision.",
      place: "settings",
    });
    return out;
  }
  const lastUse = newest(facts.credentials);
  // Refused since the IdP was last let in: its requests fail now (a token changed on one side only).
  const since = facts.refusals.filter((r) => lastUse === null || r.at > lastUse);
  if (since.length > 0) {
    const count = since.reduce((sum, r) => sum + r.count, 0);
    const first = since.map((r) => r.at).sort()[0] ?? null;
    const detail = since[0]?.detail;
    out.push({
      kind: "idp_refused",
      severity: "problem",
      title: `SCIM requests are refused (401): ${n(count, "request", "requests")} since the IdP was last let in${detail ? ` (${detail})` : ""}`,
      since: first,
      action:
        "The IdP sends a token this service does not accept. After a token change, the IdP still has the old one, or the swap came before it moved: set the token the IdP has as SCIM_BEARER_TOKEN_NEXT, or paste the new one into Okta or Entra. Connect shows which credential was last let in.",
      place: "connect",
    });
  } else if (lastUse === null) {
    out.push({
      kind: "idp_never",
      severity: "notice",
      title: "No SCIM request from an IdP yet",
      since: null,
      action:
        "Connect Okta or Entra with the steps under Connect Okta / Entra, then Test API Credentials (Okta) or Test Connection (Entra).",
      place: "connect",
    });
  } else if (facts.now - Date.parse(lastUse) > IDP_SILENT_MS) {
    out.push({
      kind: "idp_silent",
      severity: "warning",
      title: "No SCIM request from the IdP for more than a day",
      since: lastUse,
      action:
        "Normal on a quiet day (Okta and Entra send only changes). If people changed in the IdP since, check that provisioning is on there (Okta: Provisioning → To App; Entra: Provisioning Status On) and look for refused requests in the log.",
      place: "log",
    });
  }
  const use = (name: string) => facts.credentials.find((c) => c.credential === name)?.lastUsedAt ?? null;
  if (facts.tokensSet.SCIM_BEARER_TOKEN_NEXT && settings.staticTokenEnabled) {
    const current = use("SCIM_BEARER_TOKEN");
    const next = use("SCIM_BEARER_TOKEN_NEXT");
    const moved = next !== null && (current === null || next > current);
    out.push({
      kind: "rotation",
      severity: "notice",
      title: moved
        ? `Token rotation: the IdP has moved to SCIM_BEARER_TOKEN_NEXT (last used ${when(next)}; SCIM_BEARER_TOKEN ${current ? `last used ${when(current)}` : "not used"})`
        : `Token rotation under way: the IdP still uses SCIM_BEARER_TOKEN${current ? ` (last used ${when(current)})` : ""}; SCIM_BEARER_TOKEN_NEXT ${next ? `last used ${when(next)}` : "not used yet"}`,
      since: null,
      action: moved
        ? "Finish it: npx wrangler secret put SCIM_BEARER_TOKEN with the new token, then npx wrangler secret delete SCIM_BEARER_TOKEN_NEXT."
        : "Paste the new token into Okta or Entra and save there; Connect shows when SCIM_BEARER_TOKEN_NEXT is in use. Swap only then.",
      place: "connect",
    });
  }
  for (const s of facts.secrets) {
    if (s.newerSecret) continue;
    const days = Math.floor((Date.parse(s.expiresAt) - facts.now) / DAY_MS);
    const expired = days < 0;
    out.push({
      kind: expired ? "credential_expired" : "credential_expiring",
      severity: expired ? "problem" : "warning",
      title: expired
        ? `OAuth client "${s.clientName}": its secret …${s.hint} expired on ${when(s.expiresAt)}, and it has no newer one`
        : `OAuth client "${s.clientName}": its secret …${s.hint} expires in ${n(days, "day", "days")} (${when(s.expiresAt)})`,
      since: expired ? s.expiresAt : null,
      action: `Under Connect, New secret on "${s.clientName}", put it in Entra and save there, wait until the page shows it in use, then delete the old one.`,
      place: "connect",
    });
  }
  return out;
}

const ORDER: Record<Severity, number> = { problem: 0, warning: 1, notice: 2 };

/** The verdict from its facts: every finding, problems first; healthy when only notices are left. */
export function verdictOf(facts: VerdictFacts): Verdict {
  const findings = [...deliveryFindings(facts), ...idpFindings(facts)];
  if (facts.settings.dryRun) {
    findings.push({
      kind: "dry_run",
      severity: "notice",
      title: "Dry run is on: changes are recorded, not delivered",
      since: null,
      action: "Turn Dry run off under Settings when the site should receive changes; what was recorded can then be sent from Events.",
      place: "settings",
    });
  }
  findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  const healthy = findings.every((f) => f.severity === "notice");
  const [first] = findings;
  return { healthy, headline: healthy || !first ? "Healthy: changes reach the site" : first.title, findings };
}
