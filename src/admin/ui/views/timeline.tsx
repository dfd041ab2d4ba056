import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, read, type Timeline } from "../api";
import { fieldValue, type Msg, Status, TextList, Time, useStatus } from "../components";
import { plural } from "../format";
import { EventActions } from "./events-actions";

type Item = Timeline["items"][number];

function TimelineItem({ item, reload, say }: { item: Item; reload: () => void; say: (msg: Msg) => void }) {
  if (item.kind === "request") {
    return (
      <li class="kind-request" data-kind="request">
        <span class="when">
          <Time iso={item.at} />
        </span>
        <span class="what">{`${item.method} ${item.path} → ${item.status}`}</span>
        {item.actor ? <div class="hint">{`by ${item.actor}`}</div> : null}
        {item.detail ? <div class="hint">{item.detail}</div> : null}
        {item.quirks.length ? (
          <div>
            IdP quirk tolerated: <TextList items={item.quirks} />
          </div>
        ) : null}
        {item.decisions.length ? (
          <div>
            Decision: <TextList items={item.decisions} />
          </div>
        ) : null}
      </li>
    );
  }
  return (
    <li class="kind-event" data-kind="event" data-event-id={item.id}>
      <span class="when">
        <Time iso={item.at} />
      </span>
      <span class="what">{`Event ${item.type} (version ${item.resourceVersion})`}</span>
      <div>
        Delivery: <span class={`state state-${item.state}`}>{item.state}</span>
        {`, ${plural(item.attempts, "attempt", "attempts")}${item.lastStatus ? `, last answer HTTP ${item.lastStatus}` : ""}${item.lastError ? `: ${item.lastError}` : ""}`}
      </div>
      {item.deliveredAt ? (
        <div>
          Delivered <Time iso={item.deliveredAt} />
        </div>
      ) : null}
      <EventActions ev={item} say={say} done={reload} />
    </li>
  );
}

/** One user's requests, decisions and deliveries, newest first; the key may be an id, userName or email. */
export function TimelineView({ userKey, onResolved }: { userKey: string | null; onResolved: (id: string) => void }) {
  const [key, setKey] = useState(userKey ?? "");
  const [data, setData] = useState<Timeline | null>(null);
  const [msg, setMsg] = useStatus();

  const load = async (k: string) => {
    const typed = k.trim();
    if (!typed) {
      setData(null);
      setMsg({ text: "Enter a user id, userName or email (the User column of the log links here).", kind: "error" });
      return;
    }
    setMsg({ text: "Loading…" });
    try {
      const t = await read(api.users[":id"].timeline.$get({ param: { id: typed }, query: {} }));
      setData(t);
      const n = t.items.length;
      const count = `${plural(n, "entry", "entries")}, newest first${t.truncated.requests || t.truncated.events ? " (the most recent only)" : ""}.`;
      if (t.user) {
        const u = t.user;
        const who = [u.displayName, u.email].filter(Boolean).join(", ");
        setMsg({ text: `User ${u.userName}${who ? ` (${who})` : ""} — role ${u.role}, ${u.active ? "active" : "deactivated"}. ${count}` });
        if (t.matchedBy !== "id") onResolved(t.userId);
      } else {
        setMsg({
          text: `No user with id, userName or email ${typed} exists now (never created, or deleted). ${n ? `Its recorded history: ${count}` : "Nothing was recorded for it."}`,
        });
      }
    } catch (err) {
      setData(null);
      if (!(err instanceof ApiError && err.status === 401))
        setMsg({ text: `Could not load the timeline: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    }
  };
  // A link elsewhere (the log, the users list) opens a user here.
  useEffect(() => {
    if (userKey && userKey !== data?.userId) {
      setKey(userKey);
      void load(userKey);
    }
  }, [userKey]);

  return (
    <>
      <form
        id="timeline-form"
        class="filters"
        onSubmit={(ev: Event) => {
          ev.preventDefault();
          void load(key);
        }}
        noValidate
      >
        <div>
          <label for="timeline-id">User id, userName or email</label>
          <input id="timeline-id" type="text" spellcheck={false} value={key} onInput={(ev: Event) => setKey(fieldValue(ev))} />
        </div>
        <div class="buttons">
          <button type="submit">Show timeline</button>
        </div>
      </form>
      <Status id="timeline-msg" msg={msg} />
      <ol id="timeline-list" class="timeline" aria-label="Requests and events, newest first">
        {(data?.items ?? []).map((item) => (
          <TimelineItem item={item} reload={() => void load(data?.userId ?? key)} say={setMsg} />
        ))}
      </ol>
    </>
  );
}
