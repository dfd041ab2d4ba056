import type { Stats } from "../api";
import { Chart, type Series } from "../chart";
import { Time } from "../components";
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

/** Health at a glance: the last 24 hours drawn by uPlot from GET /admin/api/stats. */
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
  const oldest = stats.oldestUndelivered;
  return (
    <>
      <ul class="tiles" aria-label="Now">
        <li id="tile-held" class={stats.held ? "alert" : ""}>
          <strong>{String(stats.held)}</strong> held by the deprovisioning guard
        </li>
        <li id="tile-dead" class={stats.dead ? "alert" : ""}>
          <strong>{String(stats.dead)}</strong> dead after every retry
        </li>
        <li id="tile-oldest">
          {oldest ? (
            <>
              <strong>{ageText(oldest.ageSeconds)}</strong>
              {` oldest undelivered event (${oldest.state}, created `}
              <Time iso={oldest.createdAt} />)
            </>
          ) : (
            <>
              <strong>0</strong> undelivered events
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
