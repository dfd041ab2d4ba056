import { type Child, useEffect, useRef, useState } from "hono/jsx/dom";
import { timeText } from "./format";

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
