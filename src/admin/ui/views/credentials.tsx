import { useState } from "hono/jsx/dom";
import { api, type Credentials, read } from "../api";
import { Cell, CopyField, Status, Time, useStatus } from "../components";
import { daysUntil, randomToken, timeText } from "../format";
import { neverUsed } from "./oauth-clients";

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The time itself; with none on record, "never" for a credential younger than the log's retention, else "not in the last N days". */
function LastUsed({ iso, retention, createdAt }: { iso: string | null; retention: number; createdAt?: string }) {
  if (iso) return <Time iso={iso} />;
  return <span class="hint">{createdAt ? neverUsed(createdAt, retention) : `not in the last ${retention} days`}</span>;
}

function expiryText(iso: string): string {
  const days = daysUntil(iso);
  if (days < 0) return `expired ${timeText(iso)}`;
  return `${timeText(iso).slice(0, 10)} (in ${days} days)`;
}

/**
 * Every credential SCIM accepts, and when each last let a request in: what an admin reads before
 * dropping an old token or secret (Okta and Entra keep sending the old one until their settings
 * are saved). From the provisioning log, so a use older than its retention shows as unused.
 */
export function CredentialsTable({ data }: { data: Credentials | null }) {
  if (!data) return <p class="hint">Loading the credentials…</p>;
  const retention = data.logRetentionDays;
  return (
    <div class="table-wrap">
      <table id="credentials-table">
        <caption class="sr-only">Credentials and when each was last used</caption>
        <thead>
          <tr>
            <th scope="col">Credential</th>
            <th scope="col">State</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {data.tokens.map((t) => (
            <tr data-credential={t.name}>
              <Cell label="Credential" class="mono">
                {t.name}
              </Cell>
              <Cell label="State">
                {!t.configured ? "not set" : data.staticTokenEnabled ? "set, accepted" : "set, refused (OAuth required)"}
              </Cell>
              <Cell label="Last used">
                <LastUsed iso={t.lastUsedAt} retention={retention} />
              </Cell>
              <Cell label="Expires">never (rotate it yourself)</Cell>
            </tr>
          ))}
          {data.clients.flatMap((c) =>
            c.type === "federated"
              ? [
                  <tr data-credential={`oauth:${c.id}:assertion`}>
                    <Cell label="Credential">{`OAuth client "${c.name}" (workload identity federation)`}</Cell>
                    <Cell label="State">accepted</Cell>
                    <Cell label="Last used">
                      <LastUsed iso={c.lastUsedAt} retention={retention} createdAt={c.createdAt} />
                    </Cell>
                    <Cell label="Expires">never (no secret)</Cell>
                  </tr>,
                ]
              : c.secrets.length === 0
                ? [
                    <tr data-credential={`oauth:${c.id}`}>
                      <Cell label="Credential">{`OAuth client "${c.name}"`}</Cell>
                      <Cell label="State">no secret yet</Cell>
                      <Cell label="Last used">—</Cell>
                      <Cell label="Expires">—</Cell>
                    </tr>,
                  ]
                : c.secrets.map((s) => (
                    <tr data-credential={`oauth:${c.id}:${s.id}`}>
                      <Cell label="Credential">{`OAuth client "${c.name}", secret …${s.hint}`}</Cell>
                      <Cell label="State">{s.expired ? "expired" : "accepted"}</Cell>
                      <Cell label="Last used">
                        <LastUsed iso={s.lastUsedAt} retention={retention} createdAt={s.createdAt} />
                      </Cell>
                      <Cell label="Expires">{expiryText(s.expiresAt)}</Cell>
                    </tr>
                  )),
          )}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The static token: a Worker secret this page never reads. It can make a strong one here, in the
 * browser, and says how to rotate it without downtime: the new value goes in SCIM_BEARER_TOKEN_NEXT
 * first (setting SCIM_BEARER_TOKEN straight away refuses the IdP until it is updated too).
 */
export function TokenSteps({ data }: { data: Credentials | null }) {
  const [token, setToken] = useState<string | null>(null);
  const current = data?.tokens.find((t) => t.name === "SCIM_BEARER_TOKEN");
  const first = data !== null && !current?.configured;
  const secret = first ? "SCIM_BEARER_TOKEN" : "SCIM_BEARER_TOKEN_NEXT";
  return (
    <section aria-labelledby="token-h">
      <h3 id="token-h">The SCIM bearer token</h3>
      <p>
        The token is a Worker secret: this page never shows the one that is set. Okta's SCIM connectors send it; Entra can use OAuth instead
        (below). The page can make a strong token (in this browser, with <code>crypto.getRandomValues</code>, sent nowhere).
      </p>
      <ol id="rotation-steps">
        {first ? (
          <li>
            No token is set yet. Generate one and set it: <code>npx wrangler secret put SCIM_BEARER_TOKEN</code>, then paste the same value
            into Okta or Entra.
          </li>
        ) : (
          <>
            <li>
              Generate a new token and set it as the <strong>second</strong> accepted token:{" "}
              <code>npx wrangler secret put SCIM_BEARER_TOKEN_NEXT</code>. Both tokens work from now on.
            </li>
            <li>Paste the new token into Okta ("Test API Credentials") or Entra ("Test Connection") and save there.</li>
            <li>
              Wait until the table above shows SCIM_BEARER_TOKEN_NEXT in use and SCIM_BEARER_TOKEN no longer used since (an IdP keeps the
              old token until its settings are saved).
            </li>
            <li>
              Swap: <code>npx wrangler secret put SCIM_BEARER_TOKEN</code> with the new token, then{" "}
              <code>npx wrangler secret delete SCIM_BEARER_TOKEN_NEXT</code>.
            </li>
          </>
        )}
      </ol>
      <button type="button" id="generate-token" onClick={() => setToken(randomToken())}>
        {token ? "Generate another token" : "Generate a token"}
      </button>
      {token ? (
        <div id="generated">
          <CopyField id="generated-token" label="New SCIM token (32 random bytes)" value={token} />
          <p>Set it (wrangler asks for the value: paste the token):</p>
          <pre>
            <code>{`npx wrangler secret put ${secret}`}</code>
          </pre>
          <p class="hint">Keep it in your password manager: once set, nobody can read it back, not even this page.</p>
        </div>
      ) : null}
      <p>
        The admin token of this page is set the same way: <code>npx wrangler secret put ADMIN_TOKEN</code>.
      </p>
    </section>
  );
}

/** "Require OAuth" (staticTokenEnabled off) and the access tokens' lifetime, with what the table says before turning the token off. */
export function RequireOAuth({ data, onSaved }: { data: Credentials | null; onSaved: () => void }) {
  const [msg, setMsg] = useStatus();
  const [saving, setSaving] = useState(false);
  const save = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    if (!(form instanceof HTMLFormElement) || !data) return;
    const accept = form.elements.namedItem("staticTokenEnabled");
    const minutesInput = form.elements.namedItem("oauthAccessTokenMinutes");
    const staticTokenEnabled = accept instanceof HTMLInputElement && accept.checked;
    const raw = minutesInput instanceof HTMLInputElement ? minutesInput.value.trim() : "";
    const minutes = Number(raw);
    if (!/^\d+$/.test(raw) || minutes < 60 || minutes > 360) {
      setMsg({ text: "Not saved: the access token lifetime must be a whole number of minutes from 60 to 360.", kind: "error" });
      return;
    }
    if (!staticTokenEnabled && data.staticTokenEnabled) {
      const day = new Date(Date.now() - 86_400_000).toISOString();
      const recent = data.tokens.filter((t) => t.lastUsedAt && t.lastUsedAt > day).map((t) => t.name);
      const oauthInUse = data.clients.some((c) => c.lastUsedAt && c.lastUsedAt > day);
      const question = [
        "Refuse SCIM_BEARER_TOKEN and SCIM_BEARER_TOKEN_NEXT from now on (within 5 seconds)?",
        recent.length ? `${recent.join(" and ")} let requests in within the last 24 hours: that IdP will be refused.` : "",
        oauthInUse ? "" : "No OAuth client has been used within the last 24 hours.",
      ]
        .filter(Boolean)
        .join(" ");
      if (!window.confirm(question)) return;
    }
    setSaving(true);
    try {
      await read(api.settings.$put({ json: { staticTokenEnabled, oauthAccessTokenMinutes: minutes } }));
      setMsg({ text: "Saved.", kind: "ok" });
      onSaved();
    } catch (err) {
      setMsg({ text: `Not saved: ${errorText(err)}`, kind: "error" });
    } finally {
      setSaving(false);
    }
  };
  return (
    <section aria-labelledby="require-h">
      <h3 id="require-h">Require OAuth</h3>
      <form id="require-form" onSubmit={(ev: Event) => void save(ev)} noValidate>
        <div class="check">
          <input id="staticTokenEnabled" name="staticTokenEnabled" type="checkbox" checked={data?.staticTokenEnabled ?? true} />
          <label for="staticTokenEnabled">Accept the static token (SCIM_BEARER_TOKEN and SCIM_BEARER_TOKEN_NEXT)</label>
        </div>
        <p class="hint">
          Unchecked, only OAuth access tokens are accepted, as Microsoft requires of provisioning apps from 2026. Okta's SCIM connectors
          have no OAuth client credentials mode: keep this on while Okta provisions.
        </p>
        <label for="oauthAccessTokenMinutes">Access token lifetime (minutes, 60 to 360)</label>
        <input
          id="oauthAccessTokenMinutes"
          name="oauthAccessTokenMinutes"
          type="number"
          min="60"
          max="360"
          value={data ? String(data.oauthAccessTokenMinutes) : ""}
        />
        <div class="actions">
          <button type="submit" disabled={saving || !data}>
            Save
          </button>
        </div>
        <Status id="require-msg" msg={msg} />
      </form>
    </section>
  );
}
