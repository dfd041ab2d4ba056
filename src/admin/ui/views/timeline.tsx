import { useEffect, useRef, useState } from "hono/jsx/dom";
import { ApiError, api, read, type Timeline } from "../api";
import { AsOf, fieldValue, type Msg, Status, TextList, Time, useLive, useStatus } from "../components";
import { lastAnswer, plural } from "../format";
import { EventActions } from "./events-actions";

type Item = Timeline["items"][number];
type Header = NonNullable<Timeline["user"]>;

function TimelineItem({ item, reload, say }: { item: Item; reload: () => void; say: (msg: Msg) => void }) {
  if (item.kind === "request") {
    return (
      <li class="kind-request" data-kind="request" data-via={item.via ? item.via.type : undefined}>
        <span class="when">
          <Time iso={item.at} />
        </span>
        <span class="what">
          {item.did.length ? item.did.join("; ") : `${item.method} ${item.path} → ${item.status}`}
          {item.via ? ` (a change of ${item.via.type === "Group" ? "group" : item.via.type} ${item.via.name ?? item.via.id ?? ""})` : ""}
        </span>
        <div class="hint">{`${item.method} ${item.path} → ${item.status}${item.actor ? `, by ${item.actor}` : ""}`}</div>
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
  const answer = lastAnswer(item.lastStatus, item.lastError);
  return (
    <li class="kind-event" data-kind="event" data-event-id={item.id}>
      <span class="when">
        <Time iso={item.at} />
      </span>
      <span class="what">{`Told the site: ${item.words.length ? item.words.join("; ") : item.type}`}</span>
      <div class="hint">{`Event ${item.type}, version ${item.resourceVersion}${item.reason ? `: ${item.reason}` : ""}`}</div>
      <div>
        Delivery: <span class={`state state-${item.state}`}>{item.state}</span>
        {`, ${plural(item.attempts, "attempt", "attempts")}${answer ? `, last answer ${answer}` : ""}`}
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

/** Who the timeline is about: names, status, userType, the IdP's roles, groups and the effective role. */
function UserHeader({ user, deleted }: { user: Header; deleted: boolean }) {
  const status = deleted ? "deleted" : user.active ? "active" : "deactivated";
  return (
    <section id="timeline-user" class="card" aria-labelledby="timeline-user-h" data-status={status}>
      <h3 id="timeline-user-h" class="wrap">
        {user.userName}
      </h3>
      {deleted ? (
        <p class="hint">
          {"Deleted: no longer in the directory. As its last event carried it, "}
          <Time iso={user.updatedAt} />.
        </p>
      ) : null}
      <dl class="facts">
        <dt>Name</dt>
        <dd>{user.displayName ?? "—"}</dd>
        <dt>Email</dt>
        <dd>{user.email ?? "—"}</dd>
        <dt>Status</dt>
        <dd>{status}</dd>
        <dt>Effective role</dt>
        <dd id="timeline-role">{`${user.role} (what the site is told)`}</dd>
        <dt>userType</dt>
        <dd>{user.userType ?? "—"}</dd>
        <dt>Roles from the IdP</dt>
        <dd>{user.roles.length ? user.roles.join(", ") : "—"}</dd>
        <dt>Groups</dt>
        <dd id="timeline-groups">
          {deleted
            ? "— (a deleted user is in no group)"
            : user.groups.length
              ? `${user.groups.map((g) => g.name).join(", ")}${user.moreGroups ? ", …" : ""}`
              : "—"}
        </dd>
      </dl>
    </section>
  );
}

/** One user's requests, decisions and deliveries, newest first; the key may be an id, userName or email; read again while shown. */
export function TimelineView({
  active,
  userKey,
  onResolved,
}: {
  active: boolean;
  userKey: string | null;
  onResolved: (id: string) => void;
}) {
  const [key, setKey] = useState(userKey ?? "");
  const [data, setData] = useState<Timeline | null>(null);
  const [asOf, setAsOf] = useState<string | null>(null);
  const [msg, setMsg] = useStatus();
  // The user shown (a refresh reads it again), and the newest load: an older answer never overwrites a newer one.
  const shown = useRef<string | null>(null);
  const newest = useRef(0);

  const load = async (k: string, refresh = false) => {
    const typed = k.trim();
    if (!typed) {
      if (refresh) return;
      setData(null);
      setMsg({ text: "Enter a user id, userName or email (the User column of the log links here).", kind: "error" });
      return;
    }
    const n = ++newest.current;
    if (!refresh) {
      shown.current = typed;
      setMsg({ text: "Loading…" });
    }
    try {
      const t = await read(api.users[":id"].timeline.$get({ param: { id: typed }, query: {} }));
      if (n !== newest.current) return;
      shown.current = t.userId;
      setData(t);
      setAsOf(new Date().toISOString());
      const entries = t.items.length;
      const count = `${plural(entries, "entry", "entries")}, newest first${t.truncated.requests || t.truncated.events ? " (the most recent only)" : ""}.`;
      if (t.user && t.found) {
        const u = t.user;
        const who = [u.displayName, u.email].filter(Boolean).join(", ");
        setMsg({ text: `User ${u.userName}${who ? ` (${who})` : ""} — role ${u.role}, ${u.active ? "active" : "deactivated"}. ${count}` });
        if (t.matchedBy !== "id") onResolved(t.userId);
      } else if (t.deleted) {
        setMsg({ text: `User ${t.user?.userName ?? typed} was deleted; its recorded history: ${count}` });
        if (t.matchedBy !== "id") onResolved(t.userId);
      } else {
        setMsg({ text: `No user with id, userName or email ${typed} exists or was recorded.` });
      }
    } catch (err) {
      if (refresh || n !== newest.current) return;
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
  useLive(active, () => (shown.current ? load(shown.current, true) : undefined));

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
      {data ? <AsOf id="timeline-asof" at={asOf} /> : null}
      {data?.user ? <UserHeader user={data.user} deleted={data.deleted} /> : null}
      <ol id="timeline-list" class="timeline" aria-label="Requests and events, newest first">
        {(data?.items ?? []).map((item) => (
          <TimelineItem item={item} reload={() => void load(data?.userId ?? key)} say={setMsg} />
        ))}
      </ol>
    </>
  );
}
