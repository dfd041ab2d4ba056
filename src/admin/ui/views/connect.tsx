import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, api, type Credentials, read } from "../api";
import { CopyField, Status, useStatus } from "../components";
import { CredentialsTable, RequireOAuth, TokenSteps } from "./credentials";
import { OAuthClients } from "./oauth-clients";

const scimBase = () => `${location.origin}/api/scim/v2`;

/** The Connect view: the base URL to copy, Okta's and Entra's steps, the credentials and when each was last used, OAuth clients. */
export function ConnectView({ active }: { active: boolean }) {
  const base = scimBase();
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
      <section aria-labelledby="okta-h">
        <h3 id="okta-h">Okta</h3>
        <CopyField id="base-url" label="SCIM 2.0 Base Url" value={base} />
        <ol>
          <li>
            Method 1: add the <strong>SCIM 2.0 Test App (OAuth Bearer Token)</strong>; under Provisioning, Configure API Integration, paste
            the URL above as "SCIM 2.0 Base Url" and the token as "OAuth Bearer Token".
          </li>
          <li>
            Method 2, on your existing SSO app: Enable SCIM provisioning; paste the URL as "SCIM connector base URL", set "Unique identifier
            field for users" to <code>email</code> and Authentication Mode to HTTP Header (the token as Authorization).
          </li>
          <li>Click "Test API Credentials" / "Test Connector Configuration": Okta says "verified".</li>
          <li>To App: enable Create Users, Update User Attributes and Deactivate Users (Sync Password may stay on).</li>
        </ol>
        <p class="hint">
          Okta's SCIM connectors authenticate with a header token (SCIM_BEARER_TOKEN). Okta's OAuth for SCIM is the authorization-code grant
          of catalog (OIN) apps, which this service does not offer; its OAuth clients below are for Entra.
        </p>
      </section>
      <section aria-labelledby="entra-h">
        <h3 id="entra-h">Microsoft Entra ID</h3>
        <CopyField id="tenant-url" label="Tenant URL" value={`${base}?aadOptscim062020`} />
        <ol>
          <li>
            Entra admin center: Enterprise applications, New application, Create your own application (Non-gallery); then Provisioning,
            Provisioning Mode <strong>Automatic</strong>.
          </li>
          <li>
            Admin Credentials: the Tenant URL above (<code>?aadOptscim062020</code> turns on Entra's RFC-compliant PATCH), and either an{" "}
            <strong>OAuth client</strong> (below: Microsoft's recommended way, with no long-lived token) or the token as Secret Token. Click{" "}
            <strong>Test Connection</strong>: Entra looks up a random user, gets an empty list, and says the credentials are authorized.
            Save.
          </li>
          <li>
            Mappings, Provision Microsoft Entra ID Users: keep <code>userPrincipalName</code> to <code>userName</code> as the matching
            attribute. For roles, add an app role per site role (Moderator, Admin) to the application, assign it, and map an expression to{" "}
            <code>userType</code>:
            <pre>
              <code>Switch(SingleAppRoleAssignment([appRoleAssignments]), "Registered", "Moderator", "Moderator", "Admin", "Admin")</code>
            </pre>
            then allow the promotions under Settings.
          </li>
          <li>Mappings, Provision Microsoft Entra ID Groups: on if you map groups to roles (pick them under Settings).</li>
          <li>
            Settings, Scope: "Sync only assigned users and groups"; Provisioning Status On, Save (or Provision on demand for one user).
          </li>
        </ol>
      </section>
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
