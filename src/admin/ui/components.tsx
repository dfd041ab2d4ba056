import { type Child, useEffect, useRef, useState } from "hono/jsx/dom";
import type { Finding } from "./api";
import { clockText, timeText } from "./format";

/** A status line: info (describes what is shown), ok (an action worked) or error. */
export type Msg = { text: string; kind?: "ok" | "error" } | null;

/** How long an "it worked" line stays: longer, and it would describe a state that has moved on. */
const OK_MS = 10_000;

/** A status line that clears its own "ok" messages, so a view never shows yesterday's success. */
export function useStatus(): [Msg, (msg: Msg) => void] {
  const [msg, setMsg] = useState<Msg>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const set = (next: Msg) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = next?.kind === "ok" ? setTimeout(() => setMsg(null), OK_MS) : null;
    setMsg(next);
  };
  return [msg, set];
}

export function Status({ id, msg }: { id: string; msg: Msg }) {
  return (
    <p id={id} class={`msg${msg?.kind ? ` ${msg.kind}` : ""}`} role="status">
      {msg?.text ?? ""}
    </p>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {timeText(iso)}
    </time>
  );
}

export function TextList({ items }: { items: readonly string[] }) {
  if (items.length === 0) return <span>—</span>;
  return (
    <ul>
      {items.map((t) => (
        <li>{t}</li>
      ))}
    </ul>
  );
}

export const timelineHref = (key: string) => `#timeline/${encodeURIComponent(key)}`;

/** What a row is about: a user by name (linked to its timeline) with its email, a group by name; the id below. */
export function Subject(props: {
  type: string | null;
  id: string | null;
  name: string | null;
  displayName?: string | null;
  email?: string | null;
}) {
  const { type, id, name } = props;
  if (!id) return <span>—</span>;
  if (type === "Settings") return <span>Settings</span>;
  const extra = [props.displayName, props.email && props.email !== name ? props.email : null].filter(Boolean).join(" · ");
  const label = name ?? id;
  return (
    <div class="subject">
      {type === "User" ? (
        <a href={timelineHref(id)} aria-label={`Show the timeline of user ${label}`} data-user-id={id}>
          {label}
        </a>
      ) : (
        <span>{`${type ?? ""} ${label}`.trim()}</span>
      )}
      {extra ? <span class="sub">{extra}</span> : null}
      {name ? <code class="id">{id}</code> : null}
    </div>
  );
}

/** A table cell labelled with its column, for the stacked narrow-screen layout. */
export function Cell({ label, children, class: className }: { label: string; children?: Child; class?: string }) {
  return (
    <td data-label={label} class={className}>
      {children}
    </td>
  );
}

/** The value of the input, select or textarea an event came from ("" for anything else). */
export function fieldValue(ev: Event): string {
  const t = ev.target;
  return t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement ? t.value : "";
}

/** A read-only value with a Copy button; where the clipboard is refused (no permission, plain http), selects the field instead. */
export function CopyField({ id, label, value, of }: { id: string; label: string; value: string; of?: string }) {
  const [msg, setMsg] = useStatus();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setMsg({ text: "Copied.", kind: "ok" });
    } catch {
      const input = document.getElementById(id);
      if (input instanceof HTMLInputElement) {
        input.focus();
        input.select();
      }
      setMsg({ text: "Selected: press Ctrl+C (⌘C) to copy." });
    }
  };
  return (
    <>
      <label for={id}>
        {label}
        {of ? <span class="sr-only">{` of ${of}`}</span> : null}
      </label>
      <div class="row">
        <input id={id} type="text" readOnly value={value} spellcheck={false} />
        <button type="button" class="secondary" aria-label={`Copy ${label}${of ? ` of ${of}` : ""}`} onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <Status id={`${id}-msg`} msg={msg} />
    </>
  );
}

/** How often a visible view reads its data again. */
export const LIVE_EVERY_MS = 30_000;

/**
 * Reads `load` when the view becomes active, then every LIVE_EVERY_MS while it is active and the
 * tab is visible, and at once when the tab becomes visible again: a view never sits stale. The
 * newest `load` is used each time (it closes over the view's current filters).
 */
export function useLive(active: boolean, load: () => Promise<unknown> | undefined, everyMs = LIVE_EVERY_MS): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    if (!active) return;
    const run = () => {
      if (document.visibilityState === "visible") void latest.current();
    };
    run();
    const timer = setInterval(run, everyMs);
    document.addEventListener("visibilitychange", run);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", run);
    };
  }, [active]);
}

/** "As of 12:01:03 UTC; refreshes every 30 s while shown." */
export function AsOf({ id, at }: { id: string; at: string | null }) {
  return (
    <p id={id} class="asof">
      {at ? (
        <>
          {"As of "}
          <time dateTime={at} title={at}>
            {clockText(at)}
          </time>
          {`; refreshes every ${LIVE_EVERY_MS / 1000} s while shown.`}
        </>
      ) : (
        "Loading…"
      )}
    </p>
  );
}

/** A question before an action, in a modal dialog: it says exactly what will be done, then Confirm or Cancel. */
export function ConfirmDialog(props: {
  id: string;
  title: string;
  /** What will be done, in numbers, as sentences. */
  lines: readonly string[];
  confirm: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      if (d?.open) d.close();
    };
  }, []);
  return (
    <dialog
      id={props.id}
      ref={ref}
      aria-labelledby={`${props.id}-h`}
      onCancel={(ev: Event) => {
        ev.preventDefault();
        props.onCancel();
      }}
    >
      <h3 id={`${props.id}-h`}>{props.title}</h3>
      {props.lines.map((line) => (
        <p class="dialog-line">{line}</p>
      ))}
      <div class="row actions">
        <button type="button" class={props.danger ? "danger" : ""} disabled={props.busy} onClick={props.onConfirm}>
          {props.confirm}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

/** Where a verdict's finding is acted on: its view, and the events' state it is about. */
export const findingHref = (f: Pick<Finding, "place" | "state">) => `#${f.place}${f.place === "events" && f.state ? `/${f.state}` : ""}`;
