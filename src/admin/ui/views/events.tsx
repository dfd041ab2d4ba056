import { useEffect, useState } from "hono/jsx/dom";
import { BULK_REDELIVERABLE, type BulkRedeliverable } from "../../../lifecycle/events";
import { ApiError, api, type EventCounts, type EventItem, read } from "../api";
import { Cell, fieldValue, Status, Subject, Time, useStatus } from "../components";
import { plural } from "../format";
import { EventActions, eventAction, heldNote } from "./events-actions";

/** The order the counts are shown in; a Record, so a state the API adds or renames fails to compile. */
const STATE_ORDER: Record<keyof EventCounts, number> = {
  pending: 0,
  queued: 1,
  retrying: 2,
  awaiting_pull: 3,
  held: 4,
  undeliverable: 5,
  rejected: 6,
  dead: 7,
  dry_run: 8,
  delivered: 9,
  discarded: 10,
};
const STATES = (Object.keys(STATE_ORDER) as (keyof EventCounts)[]).sort((a, b) => STATE_ORDER[a] - STATE_ORDER[b]);
const ATTENTION = "pending,queued,retrying,awaiting_pull,rejected,dead,held,undeliverable";
const isBulk = (s: string): s is BulkRedeliverable => (BULK_REDELIVERABLE as readonly string[]).includes(s);
const stateLabel = (s: string) => s.replace("_", " ");

function EventRow({ ev, say, done }: { ev: EventItem; say: Parameters<typeof EventActions>[0]["say"]; done: () => void }) {
  const last = [ev.lastStatus ? `HTTP ${ev.lastStatus}` : null, ev.lastError].filter(Boolean).join(": ");
  return (
    <tr data-event-id={ev.id} data-state={ev.state}>
      <Cell label="Created">
        <Time iso={ev.createdAt} />
      </Cell>
      <Cell label="Type" class="mono">
        {ev.type}
      </Cell>
      <Cell label="User or group">
        <Subject
          type={ev.resourceType}
          id={ev.resourceId}
          name={ev.resourceName}
          displayName={ev.resourceDisplayName}
          email={ev.resourceEmail}
        />
      </Cell>
      <Cell label="State">
        <span class={`state state-${ev.state}`}>{ev.state}</span>
      </Cell>
      <Cell label="Attempts">{String(ev.attempts)}</Cell>
      <Cell label="Last result">{last || "—"}</Cell>
      <Cell label="Delivered">
        <Time iso={ev.deliveredAt} />
      </Cell>
      <Cell label="Actions">
        <EventActions ev={ev} say={say} done={done} />
      </Cell>
    </tr>
  );
}

/** Held, failed and undelivered events, by state, with Redeliver, Release and Discard. */
export function EventsView(props: {
  active: boolean;
  initialState: string | null;
  /** After an action: the health numbers moved. */
  onChanged: () => void;
  /** Every load: the per-state counts, for the banner. */
  onCounts: (counts: EventCounts) => void;
}) {
  const { active, onChanged, initialState } = props;
  const [state, setState] = useState(initialState ?? ATTENTION);
  const [rows, setRows] = useState<EventItem[]>([]);
  const [counts, setCounts] = useState<EventCounts | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [msg, setMsg] = useStatus();

  const load = async (s: string, more: boolean) => {
    try {
      const page = await read(api.events.$get({ query: { state: s, limit: "50", ...(more && cursor ? { cursor } : {}) } }));
      setCounts(page.counts);
      props.onCounts(page.counts);
      setRows(more ? [...rows, ...page.events] : page.events);
      setCursor(page.nextCursor);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setMsg({ text: `Could not load events: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    }
  };
  const reload = () => {
    void load(state, false);
    onChanged();
  };
  useEffect(() => {
    if (initialState && initialState !== state) setState(initialState);
    if (active) void load(initialState ?? state, false);
  }, [active, initialState]);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void load(state, false), 30_000);
    return () => clearInterval(timer);
  }, [active, state]);

  const held = counts?.held ?? 0;
  const bulk = (kind: "release" | "discard") => (e: Event) => {
    const question =
      kind === "release"
        ? "Release every held event? Held deactivations and deletions will be delivered to the main site."
        : "Discard every held event? The main site will never receive them.";
    if (!window.confirm(question)) return;
    void eventAction(
      e.currentTarget,
      async () =>
        kind === "release"
          ? `${plural((await read(api.events["release-held"].$post({ json: {} }))).released, "held event", "held events")} released.`
          : `${plural((await read(api.events["discard-held"].$post({ json: {} }))).discarded, "held event", "held events")} discarded.`,
      setMsg,
      reload,
    );
  };
  const redeliverState = (e: Event) => {
    if (!isBulk(state)) return;
    const target = state;
    // What a dry run recorded was never sent: it goes for the first time, once dryRun is off.
    const recorded = target === "dry_run";
    const question = recorded
      ? "Send every event a dry run recorded to the main site? dryRun must be off in the settings."
      : `Send every ${target} event to the main site again?`;
    if (!window.confirm(question)) return;
    void eventAction(
      e.currentTarget,
      async () => {
        const r = await read(api.events.redeliver.$post({ json: { state: target } }));
        return `${r.redelivered} ${stateLabel(target)} events sent${recorded ? "" : " again"}.${heldNote(r.held)}`;
      },
      setMsg,
      reload,
    );
  };

  return (
    <>
      <p>
        Every change is sent to the main site as a signed webhook, or, in pull mode, read by the site from the feed (awaiting pull until it
        has read past it). Events that failed, are held by the deprovisioning guard, or could not be sent are listed here.
      </p>
      <ul id="event-counts" class="counts" aria-label="Number of events in each state">
        {STATES.map((s) => (
          <li>
            <span class={`state state-${s}`}>{`${stateLabel(s)}: ${counts?.[s] ?? 0}`}</span>
          </li>
        ))}
      </ul>
      <form
        id="events-form"
        class="filters"
        onSubmit={(ev: Event) => {
          ev.preventDefault();
          void load(state, false);
        }}
        noValidate
      >
        <div>
          <label for="events-state">Delivery state</label>
          <select
            id="events-state"
            onChange={(ev: Event) => {
              const next = fieldValue(ev);
              setState(next);
              setMsg(null);
              void load(next, false);
            }}
          >
            <option value={ATTENTION} selected={state === ATTENTION}>
              Needs attention or on its way
            </option>
            <option value="" selected={state === ""}>
              All
            </option>
            {STATES.map((s) => (
              <option value={s} selected={state === s}>
                {stateLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="buttons">
          <button type="submit">Refresh</button>
        </div>
      </form>
      <div class="row actions">
        <button type="button" disabled={held === 0} onClick={bulk("release")}>
          Release all held
        </button>
        <button type="button" class="danger" disabled={held === 0} onClick={bulk("discard")}>
          Discard all held
        </button>
        {isBulk(state) ? (
          <button type="button" class="secondary" onClick={redeliverState}>
            {`Redeliver all ${stateLabel(state)} events`}
          </button>
        ) : null}
      </div>
      <Status id="events-msg" msg={msg} />
      <div class="table-wrap">
        <table id="events-table">
          <caption class="sr-only">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Type</th>
              <th scope="col">User or group</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last result</th>
              <th scope="col">Delivered</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody id="events-body">
            {rows.length ? (
              rows.map((ev) => <EventRow ev={ev} say={setMsg} done={reload} />)
            ) : (
              <tr class="empty">
                <td colSpan={8}>No events in this view.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button type="button" id="events-more" class="secondary" onClick={() => void load(state, true)}>
          Older events
        </button>
      ) : null}
    </>
  );
}
