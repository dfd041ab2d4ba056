import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, type LogEntry, read } from "../api";
import { Cell, fieldValue, Status, Subject, TextList, Time, useStatus } from "../components";
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

/** The provisioning log: search (text, userName, email), by user id, by outcome; newest first. */
export function LogView() {
  const [filters, setFilters] = useState<{ q: string; resourceId: string; outcome: Outcome }>({ q: "", resourceId: "", outcome: "" });
  const [rows, setRows] = useState<LogEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [msg, setMsg] = useStatus();

  const load = async (f: typeof filters, more: boolean) => {
    setMsg({ text: "Loading…" });
    try {
      const query = { q: f.q, resourceId: f.resourceId, outcome: f.outcome, limit: "50", ...(more && cursor ? { cursor } : {}) };
      const page = await read(api.log.$get({ query }));
      const shown = more ? [...rows, ...page.entries] : page.entries;
      setRows(shown);
      setCursor(page.nextCursor);
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
  useEffect(() => {
    void load(filters, false);
  }, []);
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
        <button type="button" id="log-more" class="secondary" onClick={() => void load(filters, true)}>
          Older entries
        </button>
      ) : null}
      <ExportForm />
    </>
  );
}
