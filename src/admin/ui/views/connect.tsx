import { type Child, useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, type Credentials, read } from "../api";
import { CopyField, Status, useStatus } from "../components";
import { ENTRA, fill, OKTA, type Provider as ProviderSteps, pieces, type Urls } from "../connect-steps";
import { CredentialsTable, RequireOAuth, TokenSteps } from "./credentials";
import { OAuthClients } from "./oauth-clients";

const scimBase = () => `${location.origin}/api/scim/v2`;

/** Marked text (connect-steps.ts) as text nodes: bold, code, and a link to the docs shown as its name and path. */
function Rich({ text, urls }: { text: string; urls: Urls }) {
  return (
    <>
      {pieces(fill(text, urls)).map((p) =>
        p.kind === "strong" ? (
          <strong>{p.text}</strong>
        ) : p.kind === "code" ? (
          <code>{p.text}</code>
        ) : p.kind === "link" ? (
          `${p.text} (${p.href})`
        ) : (
          p.text
        ),
      )}
    </>
  );
}

/** One IdP's steps, the same the README gives (src/admin/ui/connect-steps.ts), with this site's URLs. */
function Provider({ p, urls, children }: { p: ProviderSteps; urls: Urls; children?: Child }) {
  return (
    <section id={`steps-${p.id}`} aria-labelledby={`${p.id}-h`}>
      <h3 id={`${p.id}-h`}>{p.title.replace(/^Connect /, "")}</h3>
      {children}
      {p.intro.map((para) => (
        <p>
          <Rich text={para} urls={urls} />
        </p>
      ))}
      {p.groups.map((g) => (
        <section id={g.id} aria-labelledby={`${g.id}-h`}>
          <h4 id={`${g.id}-h`}>{g.title}</h4>
          {(g.intro ?? []).map((para) => (
            <p>
              <Rich text={para} urls={urls} />
            </p>
          ))}
          {g.steps?.length ? (
            <ol>
              {g.steps.map((step) => (
                <li>
                  <Rich text={step.text} urls={urls} />
                  {step.items?.length ? (
                    <ul>
                      {step.items.map((item) => (
                        <li>
                          <Rich text={item} urls={urls} />
                        </li>
                      ))}
                    </ul>
                  ) : null}
                  {step.code ? (
                    <pre>
                      <code>{step.code}</code>
                    </pre>
                  ) : null}
                </li>
              ))}
            </ol>
          ) : null}
          {(g.after ?? []).map((para) => (
            <p class="hint">
              <Rich text={para} urls={urls} />
            </p>
          ))}
        </section>
      ))}
    </section>
  );
}

/** The Connect view: the base URL to copy, Okta's and Entra's steps, the credentials and when each was last used, OAuth clients. */
export function ConnectView({ active }: { active: boolean }) {
  const base = scimBase();
  const urls: Urls = { base, tenant: `${base}?aadOptscim062020`, token: `${location.origin}/oauth/token` };
  const [data, setData] = useState<Credentials | null>(null);
  const [msg, setMsg] = useStatus();
  const load = async () => {
    try {
      setData(await read(api.credentials.$get({ query: {} })));
      setMsg(null);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401))
        setMsg({ text: `Could not load the credentials: ${err instanceof Error ? err.message : String(err)}`, kind: "error" });
    }
  };
  useEffect(() => {
    if (active) void load();
  }, [active]);
  return (
    <>
      <Provider p={OKTA} urls={urls}>
        <CopyField id="base-url" label="SCIM 2.0 Base Url" value={base} />
      </Provider>
      <Provider p={ENTRA} urls={urls}>
        <CopyField id="tenant-url" label="Tenant URL" value={urls.tenant} />
      </Provider>
      <section aria-labelledby="credentials-h">
        <h3 id="credentials-h">Credentials in use</h3>
        <p>
          Which credential let each SCIM request in, newest first per credential: before dropping an old token or secret, check the IdP has
          moved to the new one.
        </p>
        <div class="actions">
          <button type="button" class="secondary" id="credentials-refresh" onClick={() => void load()}>
            Refresh
          </button>
        </div>
        <Status id="credentials-msg" msg={msg} />
        <CredentialsTable data={data} />
      </section>
      <TokenSteps data={data} />
      <OAuthClients data={data} onChanged={() => void load()} />
      <RequireOAuth data={data} onSaved={() => void load()} />
    </>
  );
}
