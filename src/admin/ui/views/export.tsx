import { useState } from "hono/jsx/dom";
import { MAX_EXPORT_DAYS } from "../../export-limits";
import { ApiError, api, respond } from "../api";
import { fieldValue, Status, useStatus } from "../components";
import { localInputValue } from "../format";

const DAY_MS = 86_400_000;

/** The file name the API gave (Content-Disposition), else a plain one. */
function fileName(res: { headers: Headers }, format: string): string {
  const m = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "");
  return m?.[1] ?? `provisioning-log.${format}`;
}

/**
 * The provisioning log of a time range as CSV or NDJSON. The API streams it; the page needs the
 * bearer header, so it fetches the file and hands it to the browser as a download. (For a quarter
 * of a busy directory, curl with the token is kinder to the browser: docs/operations.md has the command.)
 */
export function ExportForm() {
  const now = new Date();
  const [range, setRange] = useState({ from: localInputValue(new Date(now.getTime() - 30 * DAY_MS)), to: localInputValue(now) });
  const [format, setFormat] = useState<"csv" | "ndjson">("csv");
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useStatus();

  const download = async (ev: Event) => {
    ev.preventDefault();
    const from = new Date(range.from);
    const to = new Date(range.to);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return setMsg({ text: "Choose a start and an end.", kind: "error" });
    if (to <= from) return setMsg({ text: "The end must be after the start.", kind: "error" });
    if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * DAY_MS)
      return setMsg({ text: `One export covers at most ${MAX_EXPORT_DAYS} days.`, kind: "error" });
    setBusy(true);
    setMsg({ text: "Exporting…" });
    try {
      const res = await respond(api.log.export.$get({ query: { format, from: from.toISOString(), to: to.toISOString() } }));
      const rows = res.headers.get("x-log-rows") ?? "?";
      const url = URL.createObjectURL(await res.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = fileName(res, format);
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setMsg({ text: `Downloaded ${link.download} (${rows} rows).`, kind: "ok" });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setMsg({ text: `Not exported: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="export-h">
      <h3 id="export-h">Export the log</h3>
      <form id="export-form" class="filters" onSubmit={download} noValidate>
        <div>
          <label for="export-from">From (your local time)</label>
          <input
            id="export-from"
            type="datetime-local"
            value={range.from}
            onInput={(ev: Event) => setRange({ ...range, from: fieldValue(ev) })}
          />
        </div>
        <div>
          <label for="export-to">To</label>
          <input
            id="export-to"
            type="datetime-local"
            value={range.to}
            onInput={(ev: Event) => setRange({ ...range, to: fieldValue(ev) })}
          />
        </div>
        <div>
          <label for="export-format">Format</label>
          <select id="export-format" onChange={(ev: Event) => setFormat(fieldValue(ev) === "ndjson" ? "ndjson" : "csv")}>
            <option value="csv" selected={format === "csv"}>
              CSV (spreadsheets)
            </option>
            <option value="ndjson" selected={format === "ndjson"}>
              NDJSON (one JSON object a line)
            </option>
          </select>
        </div>
        <div class="buttons">
          <button type="submit" disabled={busy}>
            Download
          </button>
        </div>
      </form>
      <Status id="export-msg" msg={msg} />
    </section>
  );
}
