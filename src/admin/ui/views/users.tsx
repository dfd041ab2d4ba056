import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, read, type UserItem } from "../api";
import { Cell, fieldValue, Status, timelineHref, useStatus } from "../components";
import { plural } from "../format";

const fullName = (u: UserItem) => u.displayName ?? ([u.givenName, u.familyName].filter(Boolean).join(" ") || null);

/**
 * A userName an admin should look at twice (src/scim/username.ts): a visible marker, and the
 * reasons in words, so two users that look alike in this list can be told apart.
 */
function LookalikeWarning({ user }: { user: UserItem }) {
  return (
    <div class="lookalike" role="note" aria-label={`userName warning for ${user.userName}`}>
      <strong>⚠ Look-alike userName</strong>
      <ul>
        {user.warnings.map((w) => (
          <li>{w}</li>
        ))}
      </ul>
      <code class="codepoints" title="The userName's characters, as code points">
        {[...user.userName].map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`).join(" ")}
      </code>
    </div>
  );
}

function UserRow({ user }: { user: UserItem }) {
  return (
    <tr data-user-id={user.id}>
      <Cell label="userName">
        <a href={timelineHref(user.id)} aria-label={`Show the timeline of user ${user.userName}`}>
          {user.userName}
        </a>
        <code class="id">{user.id}</code>
        {user.warnings.length > 0 ? <LookalikeWarning user={user} /> : null}
      </Cell>
      <Cell label="Name">{fullName(user) ?? "—"}</Cell>
      <Cell label="Email">{user.email ?? "—"}</Cell>
      <Cell label="Status">{user.active ? "active" : "deactivated"}</Cell>
      <Cell label="Role">{user.role}</Cell>
      <Cell label="externalId" class="mono">
        {user.externalId ?? "—"}
      </Cell>
    </tr>
  );
}

/** Users by userName, email, name or externalId, each linked to its timeline. */
export function UsersView() {
  const [q, setQ] = useState("");
  const [rows, setRows] = useState<UserItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [msg, setMsg] = useStatus();

  const load = async (more: boolean) => {
    setMsg({ text: "Searching…" });
    try {
      const page = await read(api.users.$get({ query: { q, limit: "50", ...(more && cursor ? { cursor } : {}) } }));
      const shown = more ? [...rows, ...page.users] : page.users;
      setRows(shown);
      setCursor(page.nextCursor);
      const what = q.trim() ? `matching "${q.trim()}"` : "";
      setMsg({
        text:
          shown.length === 0
            ? `No users ${what || "yet"}.`
            : `${plural(shown.length, "user", "users")} ${what}, newest first${page.nextCursor ? "; more below." : "."}`,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setMsg({ text: `Could not search: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    }
  };
  useEffect(() => {
    void load(false);
  }, []);

  return (
    <>
      <form
        class="filters"
        onSubmit={(ev: Event) => {
          ev.preventDefault();
          void load(false);
        }}
        noValidate
      >
        <div>
          <label for="users-q">Find users by userName, email, name or externalId</label>
          <input id="users-q" type="search" spellcheck={false} value={q} onInput={(ev: Event) => setQ(fieldValue(ev))} />
        </div>
        <div class="buttons">
          <button type="submit">Search users</button>
        </div>
      </form>
      <Status id="users-msg" msg={msg} />
      <div class="table-wrap">
        <table id="users-table">
          <caption class="sr-only">Users, newest first</caption>
          <thead>
            <tr>
              <th scope="col">userName</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Status</th>
              <th scope="col">Role</th>
              <th scope="col">externalId</th>
            </tr>
          </thead>
          <tbody id="users-body">
            {rows.map((u) => (
              <UserRow user={u} />
            ))}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button type="button" class="secondary" onClick={() => void load(true)}>
          More users
        </button>
      ) : null}
    </>
  );
}
