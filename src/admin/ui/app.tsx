import { type Child, useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, read, type Session, type Stats, setToken, whenSignedOut } from "./api";
import type { Msg } from "./components";
import { plural } from "./format";
import { forgetToken, keepToken, savedToken } from "./session";
import { ConnectView } from "./views/connect";
import { EventsView } from "./views/events";
import { HealthView } from "./views/health";
import { LogView } from "./views/log";
import { ResyncView } from "./views/resync";
import { SettingsView } from "./views/settings";
import { SignIn } from "./views/signin";
import { TimelineView } from "./views/timeline";
import { UsersView } from "./views/users";

const VIEWS = [
  { id: "health", label: "Health", title: "Health: the last 24 hours" },
  { id: "settings", label: "Settings", title: "SCIM settings" },
  { id: "connect", label: "Connect Okta / Entra", title: "Connect Okta or Entra ID" },
  { id: "users", label: "Users", title: "Users" },
  { id: "log", label: "Provisioning log", title: "Provisioning log" },
  { id: "timeline", label: "User timeline", title: "User timeline" },
  { id: "events", label: "Events", title: "Events" },
  { id: "resync", label: "Resync", title: "Full resync to the main site" },
] as const;
type ViewId = (typeof VIEWS)[number]["id"];
interface Route {
  view: ViewId;
  arg: string | null;
}

/** "#timeline/alice%40example.com" → the timeline view of that user; anything unknown → Health. */
function routeOf(hash: string): Route {
  const [name = "", ...rest] = hash.replace(/^#/, "").split("/");
  const view = VIEWS.find((v) => v.id === name)?.id ?? "health";
  let arg: string | null = null;
  try {
    arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  } catch {
    arg = null;
  }
  return { view, arg };
}

const STATS_EVERY_MS = 30_000;
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The banner for events held by the deprovisioning guard or dead after every retry. */
function Banner({ held, dead }: { held: number; dead: number }) {
  if (!held && !dead) return null;
  const parts = [
    held ? `${plural(held, "event is", "events are")} held by the deprovisioning guard: release or discard them under Events.` : "",
    dead ? `${plural(dead, "event is", "events are")} dead after every retry: redeliver them under Events.` : "",
  ].filter(Boolean);
  return (
    <p id="alert-banner" class="banner" role="alert">
      {parts.join(" ")} <a href={held ? "#events/held" : "#events/dead"}>Show them</a>
    </p>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(true);
  const [loginMsg, setLoginMsg] = useState<Msg>(null);
  const [route, setRoute] = useState<Route>(routeOf(location.hash));
  const [stats, setStats] = useState<Stats | null>(null);
  const [statsError, setStatsError] = useState<string | null>(null);
  // The banner's counts: from the stats, and from the events view whenever it loads newer ones.
  const [alerts, setAlerts] = useState({ held: 0, dead: 0 });

  const signOut = (message: string) => {
    forgetToken();
    setToken(null);
    setSession(null);
    setStats(null);
    setAlerts({ held: 0, dead: 0 });
    setLoginMsg(message ? { text: message, kind: "error" } : null);
  };
  const signedIn = (s: Session, token: string | null) => {
    if (token) keepToken(token);
    setSession(s);
    setLoginMsg(null);
    whenSignedOut((err) =>
      signOut(
        s.via === "access"
          ? `Cloudflare Access no longer signs you in (401 Unauthorized): ${err.message} Reload the page to sign in again.`
          : `The admin API refused the saved token (401 Unauthorized): ${err.message} Sign in again.`,
      ),
    );
  };
  /** Who this request signs in as: the token's holder, or (no token) the person Access vouches for. */
  const ask = (token: string | null) => {
    setToken(token);
    whenSignedOut(null);
    return read(api.session.$get({ query: {} }));
  };
  const tryToken = async (candidate: string, fromStorage: boolean) => {
    setChecking(true);
    try {
      signedIn(await ask(candidate), candidate);
    } catch (err) {
      setToken(null);
      const refused = err instanceof ApiError && err.status === 401;
      if (fromStorage && refused) forgetToken();
      const why = refused
        ? `${fromStorage ? "The saved admin token is no longer accepted" : "That admin token was not accepted"} (401 Unauthorized). Enter the value of the Worker secret ADMIN_TOKEN (locally: ADMIN_TOKEN in .dev.vars). Server said: ${errorText(err)}`
        : `Could not sign in: ${errorText(err)}`;
      setLoginMsg({ text: why, kind: "error" });
      return false;
    } finally {
      setChecking(false);
    }
    return true;
  };
  /** On load: the token this tab kept, else Cloudflare Access (no token at all), else the form. */
  const resume = async () => {
    const saved = savedToken();
    if (saved && (await tryToken(saved, true))) return;
    setChecking(true);
    try {
      signedIn(await ask(null), null);
    } catch (err) {
      setToken(null);
      // A refused Access token says why (expired, another application, another team); no token at all is just the form.
      if (err instanceof ApiError && err.code === "access_refused")
        setLoginMsg({ text: `Cloudflare Access sign-in was refused: ${err.message}`, kind: "error" });
      else if (!(err instanceof ApiError && err.status === 401))
        setLoginMsg({ text: `Could not sign in: ${errorText(err)}`, kind: "error" });
    } finally {
      setChecking(false);
    }
  };

  const loadStats = async () => {
    try {
      const next = await read(api.stats.$get({ query: {} }));
      setStats(next);
      setAlerts({ held: next.held, dead: next.dead });
      setStatsError(null);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setStatsError(`Could not load the statistics: ${errorText(err)}`);
    }
  };

  useEffect(() => {
    void resume();
    const onHash = () => {
      setRoute(routeOf(location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    if (!session) return;
    void loadStats();
    const timer = setInterval(() => void loadStats(), STATS_EVERY_MS);
    return () => clearInterval(timer);
  }, [session]);

  if (!session) {
    return (
      <>
        <Header session={null} onSignOut={() => undefined} />
        <main>
          <SignIn msg={loginMsg} checking={checking} onToken={(t) => void tryToken(t, false)} />
        </main>
      </>
    );
  }
  const view = route.view;
  const content: Record<ViewId, Child> = {
    health: <HealthView stats={stats} error={statsError} />,
    settings: <SettingsView onSaved={() => void loadStats()} />,
    connect: <ConnectView active={view === "connect"} />,
    users: <UsersView />,
    log: <LogView />,
    timeline: (
      <TimelineView
        userKey={view === "timeline" ? route.arg : null}
        onResolved={(id) => {
          history.replaceState(null, "", `#timeline/${encodeURIComponent(id)}`);
          setRoute({ view: "timeline", arg: id });
        }}
      />
    ),
    events: (
      <EventsView
        active={view === "events"}
        initialState={view === "events" ? route.arg : null}
        onChanged={() => void loadStats()}
        onCounts={(c) => setAlerts({ held: c.held, dead: c.dead })}
      />
    ),
    resync: <ResyncView active={view === "resync"} />,
  };
  return (
    <>
      <Header session={session} onSignOut={() => signOut("")} />
      <div id="app">
        <main>
          <Banner held={alerts.held} dead={alerts.dead} />
          <nav aria-label="Sections">
            {VIEWS.map((v) => (
              <a href={`#${v.id}`} aria-current={view === v.id ? "page" : undefined}>
                {v.label}
              </a>
            ))}
          </nav>
          {VIEWS.map((v) => (
            <section id={v.id} aria-labelledby={`${v.id}-h`} hidden={view !== v.id}>
              <h2 id={`${v.id}-h`}>{v.title}</h2>
              {content[v.id]}
            </section>
          ))}
        </main>
      </div>
    </>
  );
}

function Header({ session, onSignOut }: { session: Session | null; onSignOut: () => void }) {
  return (
    <header class="top">
      <div>
        <h1>SCIM</h1>
        <p>Automate the activation status and role of users based on actions taken on the Identity Provider (IdP).</p>
      </div>
      {session ? (
        <div class="whoami">
          <p id="whoami">{`Signed in as ${session.actor}${session.via === "access" ? " (Cloudflare Access)" : ""}`}</p>
          {session.via === "access" ? (
            <a href="/cdn-cgi/access/logout">Sign out of Cloudflare Access</a>
          ) : (
            <button type="button" id="signout" class="secondary" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </div>
      ) : null}
    </header>
  );
}
