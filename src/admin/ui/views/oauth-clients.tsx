import { useState } from "hono/jsx/dom";
import { api, type Credentials, type NewSecret, type OAuthClientItem, read, respond } from "../api";
import { Cell, CopyField, Status, Time, useStatus } from "../components";
import { daysUntil, timeText } from "../format";

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const scimBase = () => `${location.origin}/api/scim/v2`;
/** Entra's Tenant URL: the SCIM base URL with its RFC-compliant PATCH flag. */
const tenantUrl = () => `${scimBase()}?aadOptscim062020`;

function field(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value.trim() : "";
}

/** A secret, shown once, with the four fields Entra's "OAuth2 client credentials grant" asks for. */
function SecretOnce({
  secret,
  client,
  tokenEndpoint,
  onDone,
}: {
  secret: NewSecret;
  client: string;
  tokenEndpoint: string;
  onDone: () => void;
}) {
  return (
    <section id="new-secret" class="banner" aria-labelledby="new-secret-h">
      <h4 id="new-secret-h">{`New secret of "${client}": copy it now`}</h4>
      <p>
        This is the only time the secret is shown; only its hash is kept. In Entra, <strong>Provisioning → Admin Credentials</strong>,
        Authentication Method <strong>OAuth2 client credentials grant</strong>, enter:
      </p>
      <CopyField id="new-tenant-url" label="Tenant URL" value={tenantUrl()} />
      <CopyField id="new-token-endpoint" label="Token Endpoint" value={tokenEndpoint} />
      <CopyField id="new-client-id" label="Client Identifier" value={secret.clientId ?? ""} />
      <CopyField id="new-client-secret" label="Client Secret" value={secret.secret} />
      <p class="hint">{`Expires ${timeText(secret.expiresAt).slice(0, 10)}. Then Test Connection and Save.`}</p>
      <button type="button" id="secret-copied" onClick={onDone}>
        I have copied it
      </button>
    </section>
  );
}

/** No use on record: never, if the client is younger than the log's retention; else not within it. */
export const neverUsed = (createdAt: string, retention: number) =>
  Date.parse(createdAt) > Date.now() - retention * 86_400_000 ? "never" : `not in the last ${retention} days`;

function ExpirySelect({ id }: { id: string }) {
  return (
    <>
      <label for={id}>Secret expires after</label>
      <select id={id} name="expiresInDays">
        <option value="365" selected>
          1 year
        </option>
        <option value="730">2 years</option>
        <option value="1095">3 years</option>
      </select>
    </>
  );
}

function ClientCard(props: {
  client: OAuthClientItem;
  retention: number;
  onSecret: (secret: NewSecret, client: string) => void;
  onChanged: () => void;
}) {
  const { client: c } = props;
  const [msg, setMsg] = useStatus();
  const act = async (what: () => Promise<string>) => {
    try {
      setMsg({ text: await what(), kind: "ok" });
      props.onChanged();
    } catch (err) {
      setMsg({ text: errorText(err), kind: "error" });
    }
  };
  const newSecret = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    void act(async () => {
      const made = await read(
        api.oauth.clients[":id"].secrets.$post({ param: { id: c.id }, json: { expiresInDays: Number(field(form, "expiresInDays")) } }),
      );
      props.onSecret(made, c.name);
      return `Secret …${made.hint} created.`;
    });
  };
  const deleteSecret = (secretId: string, hint: string) => {
    if (!window.confirm(`Delete secret …${hint} of "${c.name}"? Access tokens issued for it stop working within 5 seconds.`)) return;
    void act(async () => {
      await respond(api.oauth.clients[":id"].secrets[":secretId"].$delete({ param: { id: c.id, secretId } }));
      return `Secret …${hint} deleted.`;
    });
  };
  const deleteClient = () => {
    if (!window.confirm(`Delete OAuth client "${c.name}"? Its access tokens stop working within 5 seconds.`)) return;
    void act(async () => {
      await respond(api.oauth.clients[":id"].$delete({ param: { id: c.id } }));
      return `"${c.name}" deleted.`;
    });
  };
  const f = c.federation;
  return (
    <article class="card" data-client={c.id} aria-labelledby={`client-${c.id}-h`}>
      <h4 id={`client-${c.id}-h`}>{c.name}</h4>
      <p class="hint">
        {c.type === "secret" ? "Client secret" : "Workload identity federation"}
        {" · last used "}
        {c.lastUsedAt ? <Time iso={c.lastUsedAt} /> : neverUsed(c.createdAt, props.retention)}
      </p>
      <CopyField id={`client-${c.id}-id`} label="Client Identifier" value={c.clientId} of={c.name} />
      {f ? (
        <dl class="facts">
          <dt>Issuer</dt>
          <dd>{f.issuer ?? ""}</dd>
          <dt>JWKS URL</dt>
          <dd>{f.jwksUri ?? ""}</dd>
          <dt>Subject</dt>
          <dd>{f.subject ?? ""}</dd>
          <dt>Audience</dt>
          <dd>{f.audience ?? ""}</dd>
          {f.tenantId ? (
            <>
              <dt>Tenant (its tid is checked)</dt>
              <dd>{f.tenantId}</dd>
            </>
          ) : null}
        </dl>
      ) : (
        <>
          {c.secrets.length ? (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">{`Secrets of ${c.name}`}</caption>
                <thead>
                  <tr>
                    <th scope="col">Secret</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {c.secrets.map((s) => (
                    <tr data-secret={s.id}>
                      <Cell label="Secret" class="mono">{`…${s.hint}`}</Cell>
                      <Cell label="Expires">
                        {s.expired
                          ? `expired ${timeText(s.expiresAt).slice(0, 10)}`
                          : `${timeText(s.expiresAt).slice(0, 10)} (in ${daysUntil(s.expiresAt)} days)`}
                      </Cell>
                      <Cell label="Last used">{s.lastUsedAt ? <Time iso={s.lastUsedAt} /> : "—"}</Cell>
                      <Cell label="Actions">
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Delete secret …${s.hint} of ${c.name}`}
                          onClick={() => deleteSecret(s.id, s.hint)}
                        >
                          Delete
                        </button>
                      </Cell>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="hint">No secret yet: create one to connect.</p>
          )}
          <form class="filters" onSubmit={newSecret} noValidate>
            <div>
              <ExpirySelect id={`client-${c.id}-expiry`} />
            </div>
            <div class="buttons">
              <button type="submit" class="secondary">
                New secret<span class="sr-only">{` for ${c.name}`}</span>
              </button>
            </div>
          </form>
        </>
      )}
      <div class="actions">
        <button type="button" class="danger" onClick={deleteClient}>
          Delete client<span class="sr-only">{` ${c.name}`}</span>
        </button>
      </div>
      <Status id={`client-${c.id}-msg`} msg={msg} />
    </article>
  );
}

/**
 * OAuth clients for SCIM: Entra's "OAuth2 client credentials grant" (a client with secrets, made
 * and shown once here) and "workload identity federation" (a client that trusts Entra's signed
 * assertions: no secret anywhere).
 */
export function OAuthClients({ data, onChanged }: { data: Credentials | null; onChanged: () => void }) {
  const [kind, setKind] = useState<"secret" | "federated">("secret");
  const [fresh, setFresh] = useState<{ secret: NewSecret; client: string } | null>(null);
  const [msg, setMsg] = useStatus();
  const [busy, setBusy] = useState(false);
  const tokenEndpoint = data?.tokenEndpoint ?? `${location.origin}/oauth/token`;

  const create = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    const name = field(form, "name");
    setBusy(true);
    try {
      if (kind === "secret") {
        const client = await read(api.oauth.clients.$post({ json: { type: "secret", name } }));
        const secret = await read(
          api.oauth.clients[":id"].secrets.$post({
            param: { id: client.id },
            json: { expiresInDays: Number(field(form, "expiresInDays")) },
          }),
        );
        setFresh({ secret, client: client.name });
      } else {
        const tenantId = field(form, "tenantId");
        const issuer = field(form, "issuer");
        const jwksUri = field(form, "jwksUri");
        await read(
          api.oauth.clients.$post({
            json: {
              type: "federated",
              name,
              subject: field(form, "subject"),
              audience: field(form, "audience"),
              ...(tenantId ? { tenantId } : {}),
              ...(issuer ? { issuer } : {}),
              ...(jwksUri ? { jwksUri } : {}),
            },
          }),
        );
        setMsg({ text: `"${name}" created: give Entra its Client ID, the Token URL and the SCIM URL.`, kind: "ok" });
      }
      form.reset();
      onChanged();
    } catch (err) {
      setMsg({ text: `Not created: ${errorText(err)}`, kind: "error" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="oauth-h">
      <h3 id="oauth-h">OAuth clients (Entra)</h3>
      <p>
        Entra can authenticate with OAuth 2.0 instead of the static token: with a <strong>client secret</strong> (1 to 3 years, several at
        once for a rotation) or with <strong>workload identity federation</strong> (Entra proves itself with a signed assertion: no secret
        exists anywhere). It fetches an access token from the token endpoint and sends it like the static token.
      </p>
      <CopyField id="oauth-token-endpoint" label="Token Endpoint" value={tokenEndpoint} />
      <CopyField id="oauth-scim-url" label="SCIM URL (Entra's Tenant URL)" value={tenantUrl()} />
      {fresh ? (
        <SecretOnce secret={fresh.secret} client={fresh.client} tokenEndpoint={tokenEndpoint} onDone={() => setFresh(null)} />
      ) : null}
      <form id="oauth-create" onSubmit={(ev: Event) => void create(ev)} noValidate>
        <fieldset>
          <legend>New OAuth client</legend>
          <label for="oauth-name">Name</label>
          <input id="oauth-name" name="name" type="text" maxLength={100} placeholder="Entra" required />
          <fieldset>
            <legend>How it authenticates</legend>
            <div class="radios">
              <label>
                <input type="radio" name="kind" id="oauth-kind-secret" checked={kind === "secret"} onChange={() => setKind("secret")} />{" "}
                Client secret
              </label>
              <label>
                <input
                  type="radio"
                  name="kind"
                  id="oauth-kind-federated"
                  checked={kind === "federated"}
                  onChange={() => setKind("federated")}
                />{" "}
                Workload identity federation
              </label>
            </div>
          </fieldset>
          {kind === "secret" ? (
            <ExpirySelect id="oauth-expiry" />
          ) : (
            <>
              <p class="hint">
                From Entra's workload identity page: the Subject and the Audience, and either the tenant (Directory) ID, which fills the
                Issuer and the JWKS URL, or both of those.
              </p>
              <label for="oauth-tenant">Entra tenant ID</label>
              <input id="oauth-tenant" name="tenantId" type="text" placeholder="00000000-0000-0000-0000-000000000000" />
              <label for="oauth-issuer">Issuer (leave empty with a tenant ID)</label>
              <input id="oauth-issuer" name="issuer" type="text" placeholder="https://login.microsoftonline.com/<tenant>/v2.0" />
              <label for="oauth-jwks">JWKS URL (leave empty with a tenant ID)</label>
              <input
                id="oauth-jwks"
                name="jwksUri"
                type="text"
                placeholder="https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys"
              />
              <label for="oauth-subject">Subject</label>
              <input id="oauth-subject" name="subject" type="text" />
              <label for="oauth-audience">Audience</label>
              <input id="oauth-audience" name="audience" type="text" placeholder="api://<app id>/.default" />
            </>
          )}
          <div class="actions">
            <button type="submit" disabled={busy}>
              Create client
            </button>
          </div>
          <Status id="oauth-msg" msg={msg} />
        </fieldset>
      </form>
      <div id="oauth-clients">
        {data?.clients.length ? (
          data.clients.map((c) => (
            <ClientCard
              client={c}
              retention={data.logRetentionDays}
              onSecret={(secret, client) => setFresh({ secret, client })}
              onChanged={onChanged}
            />
          ))
        ) : (
          <p class="hint">No OAuth client yet.</p>
        )}
      </div>
    </section>
  );
}
