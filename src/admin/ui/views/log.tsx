import { useRef, useState } from "hono/jsx/dom";
import { ApiError, api, type LogEntry, read } from "../api";
import { AsOf, Cell, fieldValue, Status, Subject, TextList, Time, useLive, useStatus } from "../components";
import { plural } from "../format";
import { ExportForm } from "./export";

const OUTCOMES = [
  ["", "All"],
  ["success", "Success"],
  ["error", "Error"],
  ["decision", "Decision taken"],
  ["quirk", "IdP quirk tolerated"],
] as const;
type Outcome = (typeof OUTCOMES)[number][0];

function LogRow({ e }: { e: LogEntry }) {
  return (
    <tr data-seq={e.seq} data-resource-id={e.resourceId ?? ""}>
      <Cell label="Time">
        <Time iso={e.at} />
      </Cell>
      <Cell label="Method">{e.method}</Cell>
      <Cell label="Path" class="path">
        {e.path}
      </Cell>
      <Cell label="Status">
        <span class={e.status < 400 ? "status-ok" : "status-err"}>{String(e.status)}</span>
        {e.detail ? <div class="hint">{e.detail}</div> : null}
      </Cell>
      <Cell label="User">
        <Subject
          type={e.resourceType}
          id={e.resourceId}
          name={e.resourceName}
          displayName={e.resourceDisplayName}
          email={e.resourceEmail}
        />
      </Cell>
      <Cell label="What it did">
        <TextList items={e.did} />
      </Cell>
      <Cell label="Actor">{e.actor ?? "—"}</Cell>
      <Cell label="IdP quirk tolerated">
        <TextList items={e.quirks} />
      </Cell>
      <Cell label="Decision">
        <TextList items={e.decisions} />
      </Cell>
    </tr>
  );
}

type Filters = { q: string; resourceId: string; outcome: Outcome };

/** The provisioning log: search (text, userName, email), by user id, by outcome; newest first; read again while shown. */
export function LogView({ active }: { active: boolean }) {
  const [filters, setFilters] = useState<Filters>({ q: "", resourceId: "", outcome: "" });
  // What the table shows: the filters as last applied (a refresh never runs what is half typed).
  const [applied, setApplied] = useState<Filters>(filters);
  const [rows, setRows] = useState<LogEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [asOf, setAsOf] = useState<string | null>(null);
  const [msg, setMsg] = useStatus();
  // The newest load: an older answer (a refresh that was under way) never overwrites a newer one.
  const newest = useRef(0);

  /** New filters (`more` false), the next page, or a refresh of what is shown (as many rows, up to 200). */
  const load = async (f: Filters, more: boolean, refresh = false) => {
    if (!refresh) setMsg({ text: "Loading…" });
    setApplied(f);
    const n = ++newest.current;
    try {
      const limit = refresh ? String(Math.min(200, Math.max(50, rows.length))) : "50";
      const query = { q: f.q, resourceId: f.resourceId, outcome: f.outcome, limit, ...(more && cursor ? { cursor } : {}) };
      const page = await read(api.log.$get({ query }));
      if (n !== newest.current) return;
      const shown = more ? [...rows, ...page.entries] : page.entries;
      setRows(shown);
      setCursor(page.nextCursor);
      setAsOf(new Date().toISOString());
      setMsg({
        text:
          shown.length === 0
            ? "No matching requests."
            : `${plural(shown.length, "request", "requests")} shown, newest first${page.nextCursor ? "; older ones below." : "."}`,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setMsg({ text: `Could not load the log: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    }
  };
  useLive(active, () => load(applied, false, asOf !== null));
  const change = (next: Partial<typeof filters>, now = false) => {
    const f = { ...filters, ...next };
    setFilters(f);
    if (now) void load(f, false);
  };

  return (
    <>
      <form
        id="log-form"
        class="filters"
        onSubmit={(ev: Event) => {
          ev.preventDefault();
          void load(filters, false);
        }}
        noValidate
      >
        <div>
          <label for="log-q">Search (path, decision, userName, email, actor)</label>
          <input id="log-q" type="search" spellcheck={false} value={filters.q} onInput={(ev: Event) => change({ q: fieldValue(ev) })} />
        </div>
        <div>
          <label for="log-user">User id</label>
          <input
            id="log-user"
            type="text"
            spellcheck={false}
            value={filters.resourceId}
            onInput={(ev: Event) => change({ resourceId: fieldValue(ev) })}
          />
        </div>
        <div>
          <label for="log-outcome">Outcome</label>
          <select
            id="log-outcome"
            onChange={(ev: Event) => change({ outcome: OUTCOMES.find(([v]) => v === fieldValue(ev))?.[0] ?? "" }, true)}
          >
            {OUTCOMES.map(([value, label]) => (
              <option value={value} selected={filters.outcome === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="buttons">
          <button type="submit">Search</button>
        </div>
      </form>
      <Status id="log-msg" msg={msg} />
      <AsOf id="log-asof" at={asOf} />
      <div class="table-wrap">
        <table id="log-table">
          <caption class="sr-only">SCIM requests and admin actions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Method</th>
              <th scope="col">Path</th>
              <th scope="col">Status</th>
              <th scope="col">User</th>
              <th scope="col">What it did</th>
              <th scope="col">Actor</th>
              <th scope="col">IdP quirk tolerated</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody id="log-body">
            {rows.map((e) => (
              <LogRow e={e} />
            ))}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button type="button" id="log-more" class="secondary" onClick={() => void load(applied, true)}>
          Older entries
        </button>
      ) : null}
      <ExportForm />
    </>
  );
}
