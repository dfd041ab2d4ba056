import { useEffect, useRef, useState } from "hono/jsx/dom";
import { ApiError, api, type ResyncReport, type ResyncStatus, read } from "../api";
import { Cell, Status, Subject, TextList, Time, useStatus } from "../components";
import { plural } from "../format";
import { eventAction, heldNote } from "./events-actions";

/** How often the report is read while a resync runs, and after it while its events are still on their way. */
const RUNNING_EVERY_MS = 1_000;
const SETTLING_EVERY_MS = 3_000;

/** How the report names each outcome; a Record, so an outcome the API adds or renames fails to compile. */
const OUTCOMES: Record<keyof ResyncReport["events"], { label: string; state: string }> = {
  delivered: { label: "delivered", state: "delivered" },
  failed: { label: "failed", state: "dead" },
  waiting: { label: "on their way", state: "retrying" },
  held: { label: "held by the deprovisioning guard", state: "held" },
  recorded: { label: "recorded (dry run)", state: "dry_run" },
  discarded: { label: "discarded", state: "discarded" },
};

/** Done is 100; until then the share of users and groups sent, never 100 before the last chunk is written. */
const percentOf = (r: ResyncReport) => (r.state === "done" ? 100 : Math.min(99, Math.floor((r.visited / Math.max(r.total, 1)) * 100)));

function summary(r: ResyncReport): string {
  const sent = `${r.visited} of ${plural(r.total, "user or group", "users and groups")} sent as ${plural(r.emitted, "event", "events")}`;
  if (r.state === "running") return `Running (${r.stage}): ${sent}.`;
  if (r.state === "done") return `Done: ${sent}.`;
  return `Failed: ${sent}. ${r.error ?? "No reason was recorded."}`;
}

type Disagreement = ResyncReport["disagreements"]["listed"][number];
const valuesOf = (d: Disagreement, side: "site" | "directory") => d.fields.map((f) => `${f}: ${String(d[side][f] ?? "—")}`);

/** Where the site's own view, sent back in answer to a synced event, differs from the directory's. */
function Disagreements({ r }: { r: ResyncReport }) {
  const { count, listed } = r.disagreements;
  return (
    <section aria-labelledby="resync-disagree-h">
      <h3 id="resync-disagree-h">Where the site disagrees</h3>
      <p id="resync-disagree-msg">
        {count === 0
          ? "No disagreements: wherever the site answered with its own view, it matched the directory."
          : `${plural(count, "resource", "resources")} where the site's own view differs from the directory's${listed.length < count ? `; the first ${listed.length} are listed` : ""}.`}
      </p>
      {listed.length ? (
        <div class="table-wrap">
          <table id="resync-disagree-table">
            <caption class="sr-only">Users and groups where the site disagrees with the directory</caption>
            <thead>
              <tr>
                <th scope="col">User or group</th>
                <th scope="col">Differs in</th>
                <th scope="col">Site</th>
                <th scope="col">Directory</th>
                <th scope="col">Event</th>
              </tr>
            </thead>
            <tbody id="resync-disagree-body">
              {listed.map((d) => (
                <tr data-resource-id={d.resourceId}>
                  <Cell label="User or group">
                    <Subject type={d.resourceType} id={d.resourceId} name={d.name} />
                  </Cell>
                  <Cell label="Differs in">{d.fields.join(", ")}</Cell>
                  <Cell label="Site">
                    <TextList items={valuesOf(d, "site")} />
                  </Cell>
                  <Cell label="Directory">
                    <TextList items={valuesOf(d, "directory")} />
                  </Cell>
                  <Cell label="Event" class="mono">
                    {d.eventId}
                  </Cell>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** One run: its progress bar, its events by outcome, who started it and when, and its disagreements. */
function Report({ r, onSend }: { r: ResyncReport; onSend: (e: Event) => void }) {
  const pct = percentOf(r);
  return (
    <div id="resync-report" data-resync-id={r.id} data-state={r.state}>
      <label for="resync-progress">{r.state === "running" ? `Resync running: ${pct}%` : `Last resync: ${pct}%`}</label>
      <progress id="resync-progress" max={100} value={pct} />
      <p id="resync-state" role="status">
        {summary(r)}
      </p>
      <ul id="resync-counts" class="counts" aria-label="The resync's events by outcome">
        {(Object.keys(OUTCOMES) as (keyof ResyncReport["events"])[]).map((k) => (
          <li data-outcome={k}>
            <span class={`state state-${OUTCOMES[k].state}`}>{`${OUTCOMES[k].label}: ${r.events[k]}`}</span>
          </li>
        ))}
      </ul>
      <p class="hint" id="resync-meta">
        {"Started "}
        <Time iso={r.startedAt} />
        {` by ${r.actor ?? "—"}; `}
        {r.finishedAt ? (
          <>
            {"finished "}
            <Time iso={r.finishedAt} />.
          </>
        ) : (
          "not finished."
        )}
      </p>
      {r.dryRun ? (
        <div class="row actions">
          <p id="resync-dry-run">
            dryRun was on when this resync started: its events were recorded, not delivered. Turn dryRun off under Settings, then send them.
          </p>
          {r.events.recorded > 0 ? (
            <button type="button" class="secondary" onClick={onSend}>
              Send the recorded events
            </button>
          ) : null}
        </div>
      ) : null}
      <Disagreements r={r} />
    </div>
  );
}

/** A full resync: every user and group sent to the site as it is now, with its progress and the site's disagreements. */
export function ResyncView({ active }: { active: boolean }) {
  const [status, setStatus] = useState<ResyncStatus | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [msg, setMsg] = useStatus();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Polling stops when the view is hidden or gone; a read in flight then schedules nothing.
  const live = useRef(false);
  // "A resync is already running" says nothing once that run is over: the next read without one clears it.
  const refused = useRef(false);

  const load = async () => {
    let every = 0;
    try {
      const next = await read(api.resync.$get());
      setStatus(next);
      setLoadError(null);
      if (!next.current && refused.current) {
        refused.current = false;
        setMsg(null);
      }
      const shown = next.current ?? next.last;
      every = next.current ? RUNNING_EVERY_MS : shown && shown.events.waiting > 0 ? SETTLING_EVERY_MS : 0;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setLoadError(`Could not load the resync: ${err instanceof Error ? err.message : String(err)}`);
      every = SETTLING_EVERY_MS;
    }
    if (timer.current) clearTimeout(timer.current);
    timer.current = live.current && every ? setTimeout(() => void load(), every) : null;
  };
  useEffect(() => {
    live.current = active;
    if (active) void load();
    return () => {
      live.current = false;
      if (timer.current) clearTimeout(timer.current);
    };
  }, [active]);

  const start = (e: Event) => {
    if (!window.confirm("Send every user and group to the main site again, as it is now? The site gets one event for each.")) return;
    void eventAction(
      e.currentTarget,
      async () => {
        refused.current = false;
        const r = await read(api.resync.$post()).catch((err: unknown) => {
          refused.current = err instanceof ApiError && err.code === "resync_running";
          throw err;
        });
        return `Resync ${r.id} started${"dryRun" in r && r.dryRun ? ": dryRun is on, so its events are recorded, not delivered" : ""}.`;
      },
      setMsg,
      () => void load(),
    );
  };
  const shown = status?.current ?? status?.last ?? null;
  const send = (e: Event) => {
    if (!shown || !window.confirm(`Send the ${plural(shown.events.recorded, "event", "events")} this dry run recorded to the main site?`))
      return;
    const jobId = shown.id;
    refused.current = false;
    void eventAction(
      e.currentTarget,
      async () => {
        const r = await read(api.events.redeliver.$post({ json: { state: "dry_run", jobId } }));
        return `${plural(r.redelivered, "recorded event", "recorded events")} sent to the main site.${heldNote(r.held)}`;
      },
      setMsg,
      () => void load(),
    );
  };

  return (
    <>
      <p>
        Sends every user and group to the main site as it is now, one <code>user.synced</code> or <code>group.synced</code> event each (a
        large group in parts), signed and retried like every change. The site applies each whose version is at least the last it applied,
        and may answer with its own view of the resource: where that differs from the directory, it is listed below.
      </p>
      <div class="row actions">
        <button type="button" id="resync-start" onClick={start}>
          Resync everything to the site
        </button>
      </div>
      <Status id="resync-msg" msg={msg} />
      {loadError ? <p class="msg error">{loadError}</p> : null}
      {shown ? <Report r={shown} onSend={send} /> : status ? <p class="hint">No resync has run yet.</p> : null}
    </>
  );
}
