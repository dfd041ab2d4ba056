import { verdictReading } from "../../../lifecycle/events";
import type { Stats, Verdict } from "../api";
import { Chart, type Series } from "../chart";
import { AsOf, findingHref, Time } from "../components";
import { ageText, plural } from "../format";
import { SiteDelivery } from "./site-delivery";

const COLORS = {
  ok: "#1a7f37",
  clientError: "#9a6700",
  serverError: "#cf222e",
  refused: "#8250df",
  pending: "#59636e",
  queued: "#0a66c2",
  retrying: "#bf8700",
  awaiting_pull: "#0969da",
  held: "#9a6700",
  undeliverable: "#cf222e",
  rejected: "#a40e26",
  dead: "#82071e",
  dry_run: "#8c959f",
  delivered: "#1a7f37",
  discarded: "#d1d9e0",
} as const;

const REQUEST_LABELS: Record<keyof Stats["requests"], string> = {
  ok: "2xx/3xx",
  clientError: "4xx",
  serverError: "5xx",
  refused: "refused (401/429)",
};

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const SECRET_STATE: Record<Stats["signingSecrets"][number]["state"], string> = {
  set: "set",
  unset: "not set",
  invalid: "set, but not whsec_ + base64: deliveries wait as undeliverable until it is fixed",
};

/** Which signing secrets are set (never their values), and what that means for a rotation. */
function SigningSecrets({ secrets }: { secrets: Stats["signingSecrets"] }) {
  const next = secrets.find((s) => s.name === "MAIN_SITE_SIGNING_SECRET_NEXT");
  const rotating = next?.state === "set";
  return (
    <section id="signing-secrets" aria-labelledby="signing-h">
      <h3 id="signing-h">Webhook signing secrets</h3>
      <ul>
        {secrets.map((s) => (
          <li data-secret={s.name} data-state={s.state} class={s.state === "invalid" ? "alert" : ""}>
            <code>{s.name}</code>
            {`: ${SECRET_STATE[s.state]}`}
          </li>
        ))}
      </ul>
      <p class="hint">
        {rotating
          ? "A rotation is under way: every delivery carries a signature with each secret. Once the site verifies with the new one, make it MAIN_SITE_SIGNING_SECRET and delete MAIN_SITE_SIGNING_SECRET_NEXT (docs/webhooks.md, Rotating the signing secret)."
          : "To rotate: wrangler secret put MAIN_SITE_SIGNING_SECRET_NEXT, give the site the new secret, then swap (docs/webhooks.md, Rotating the signing secret)."}
      </p>
    </section>
  );
}

const SEVERITY: Record<Verdict["findings"][number]["severity"], string> = {
  problem: "Problem",
  warning: "Warning",
  notice: "Under way",
};

/**
 * "Is provisioning healthy?": the verdict's headline, then each finding with since when and the
 * action that fixes it (GET /admin/api/stats `verdict`, the same answer as the banner).
 */
function VerdictPanel({ verdict }: { verdict: Verdict }) {
  return (
    <section id="verdict" class={`verdict ${verdict.healthy ? "healthy" : "unhealthy"}`} aria-labelledby="verdict-h">
      <h3 id="verdict-h">{verdict.headline}</h3>
      {verdict.findings.length ? (
        <ul id="verdict-findings">
          {verdict.findings.map((f) => (
            <li data-finding={f.kind} data-severity={f.severity} class={`finding finding-${f.severity}`}>
              <span class="severity">{SEVERITY[f.severity]}</span>
              <strong>{f.title}</strong>
              {f.since ? (
                <span class="since">
                  {" since "}
                  <Time iso={f.since} />
                </span>
              ) : null}
              <p class="action">
                {`${f.action} `}
                <a href={findingHref(f)}>{f.place === "events" ? "Show them" : "Go there"}</a>
              </p>
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">Every change reaches the site, nothing is held, and the IdP is let in.</p>
      )}
    </section>
  );
}

/** Health at a glance: the verdict, then the last 24 hours drawn by uPlot from GET /admin/api/stats. */
export function HealthView({ stats, error }: { stats: Stats | null; error: string | null }) {
  if (!stats) return <p class={`msg${error ? " error" : ""}`}>{error ?? "Loading…"}</p>;
  const x = stats.hours.map((h) => Date.parse(h) / 1000);
  const requestKeys = Object.keys(REQUEST_LABELS) as (keyof Stats["requests"])[];
  const requests: Series[] = requestKeys.map((k) => ({ label: REQUEST_LABELS[k], color: COLORS[k], values: stats.requests[k] }));
  const states = Object.keys(stats.events.byState) as (keyof Stats["events"]["byState"])[];
  const created: Series[] = states
    .filter((s) => sum(stats.events.createdPerHour[s]) > 0)
    .map((s) => ({ label: s, color: COLORS[s], values: stats.events.createdPerHour[s] }));
  const byState: Series[] = [{ label: "events", color: COLORS.queued, values: states.map((s) => stats.events.byState[s]) }];
  const ageStates = stats.undeliveredStates;
  const ages: Series[] = [{ label: "oldest", color: COLORS.retrying, values: ageStates.map((s) => stats.oldestAgeByState[s] ?? 0) }];
  // The oldest change that should be at the site by now: held ones wait for an admin on purpose
  // (the verdict says so), so they are not what "oldest undelivered" should point at.
  const waiting = ageStates.filter((s) => verdictReading(s) !== "held" && stats.oldestAgeByState[s] !== undefined);
  const oldestState = waiting.sort((a, b) => (stats.oldestAgeByState[b] ?? 0) - (stats.oldestAgeByState[a] ?? 0))[0];
  const oldest = oldestState ? { state: oldestState, ageSeconds: stats.oldestAgeByState[oldestState] ?? 0 } : null;
  const heldPeople = stats.verdict.findings.find((f) => f.kind === "held")?.people ?? 0;
  return (
    <>
      <AsOf id="health-asof" at={stats.generatedAt} />
      {error ? <p class="msg error">{error}</p> : null}
      <VerdictPanel verdict={stats.verdict} />
      <ul class="tiles" aria-label="Now">
        <li id="tile-held" class={stats.held ? "alert" : ""}>
          <strong>{String(stats.held)}</strong>
          {` ${stats.held === 1 ? "change" : "changes"} held by the deprovisioning guard${stats.held ? ` for ${plural(heldPeople, "person", "people")}` : ""}`}
        </li>
        <li id="tile-dead" class={stats.dead ? "alert" : ""}>
          <strong>{String(stats.dead)}</strong>
          {` ${stats.dead === 1 ? "change" : "changes"} dead after every retry`}
        </li>
        <li id="tile-oldest">
          {oldest ? (
            <>
              <strong>{ageText(oldest.ageSeconds)}</strong>
              {` the oldest change not at the site yet (${oldest.state}; held changes aside)`}
            </>
          ) : (
            <>
              <strong>0</strong> changes on their way or failed
            </>
          )}
        </li>
      </ul>
      <p class="hint">
        {`Undelivered counts the states ${ageStates.join(", ")}. Last 24 hours, by hour, up to `}
        <Time iso={stats.generatedAt} />.
      </p>
      <div class="charts">
        <Chart
          id="chart-requests"
          title="SCIM requests per hour, by outcome"
          summary={requests.map((s) => `${s.label}: ${sum(s.values)}`).join(", ")}
          times={x}
          series={requests}
        />
        <Chart
          id="chart-created"
          title="Events created per hour, by their state now"
          summary={created.length ? created.map((s) => `${s.label}: ${sum(s.values)}`).join(", ") : "No events in the last 24 hours."}
          times={x}
          series={created.length ? created : [{ label: "events", color: COLORS.queued, values: x.map(() => 0) }]}
        />
        <Chart
          id="chart-states"
          title="All events by delivery state"
          summary={states.map((s) => `${s}: ${stats.events.byState[s]}`).join(", ")}
          categories={states}
          series={byState}
        />
        <Chart
          id="chart-ages"
          title="Age of the oldest undelivered event, by state"
          summary={ageStates.map((s) => `${s}: ${ageText(stats.oldestAgeByState[s] ?? 0)}`).join(", ")}
          categories={ageStates}
          series={ages}
          yValue={(v) => ageText(Math.round(v))}
          yMin={60}
        />
      </div>
      <p class="hint">{`${plural(sum(requests.flatMap((s) => s.values)), "SCIM request", "SCIM requests")} in the last 24 hours.`}</p>
      <SiteDelivery delivery={stats.siteDelivery} />
      <SigningSecrets secrets={stats.signingSecrets} />
    </>
  );
}
