import { useState } from "hono/jsx/dom";
import { Status, useStatus } from "../components";
import { randomToken } from "../format";

const scimBase = () => `${location.origin}/api/scim/v2`;

/** Copies `text`; where the clipboard is refused (no permission, plain http), selects the field instead. */
function CopyField({ id, label, value }: { id: string; label: string; value: string }) {
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
      <label for={id}>{label}</label>
      <div class="row">
        <input id={id} type="text" readOnly value={value} spellcheck={false} />
        <button type="button" class="secondary" aria-label={`Copy ${label}`} onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <Status id={`${id}-msg`} msg={msg} />
    </>
  );
}

/**
 * The token step of the seed's screen. The token stays a Worker secret that this page never reads;
 * what the page can do is make a strong one here, in the browser, and show the exact commands.
 */
function TokenSteps() {
  const [token, setToken] = useState<string | null>(null);
  return (
    <section aria-labelledby="token-h">
      <h3 id="token-h">SCIM authorization bearer token</h3>
      <p>
        The token is a Worker secret: this page never shows the one that is set. To set one, generate a strong token here (made in this
        browser with <code>crypto.getRandomValues</code>, sent nowhere), set it as the secret, then paste the same value into Okta or Entra.
      </p>
      <button type="button" id="generate-token" onClick={() => setToken(randomToken())}>
        {token ? "Generate another token" : "Generate a token"}
      </button>
      {token ? (
        <div id="generated">
          <CopyField id="generated-token" label="New SCIM token (32 random bytes)" value={token} />
          <p>Set it (wrangler asks for the value: paste the token):</p>
          <pre>
            <code>npx wrangler secret put SCIM_BEARER_TOKEN</code>
          </pre>
          <p class="hint">Keep it in your password manager: once set, nobody can read it back, not even this page.</p>
        </div>
      ) : null}
      <p>To rotate it without downtime:</p>
      <ol>
        <li>
          Set the new token as the second accepted token: <code>npx wrangler secret put SCIM_BEARER_TOKEN_NEXT</code>. Both tokens work from
          now on.
        </li>
        <li>Enter the new token in Okta ("Test API Credentials") or Entra ("Test Connection").</li>
        <li>
          Swap: <code>npx wrangler secret put SCIM_BEARER_TOKEN</code> with the new token, then{" "}
          <code>npx wrangler secret delete SCIM_BEARER_TOKEN_NEXT</code>.
        </li>
      </ol>
      <p>
        The admin token of this page is set the same way: <code>npx wrangler secret put ADMIN_TOKEN</code>.
      </p>
    </section>
  );
}

/** The Connect view: the base URL to copy, Okta's and Entra's steps, and the token. */
export function ConnectView() {
  const base = scimBase();
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
            Admin Credentials: the Tenant URL above (<code>?aadOptscim062020</code> turns on Entra's RFC-compliant PATCH) and the token as
            Secret Token. Click <strong>Test Connection</strong>: Entra looks up a random user, gets an empty list, and says the credentials
            are authorized. Save.
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
      <TokenSteps />
    </>
  );
}
