/**
 * The admin page's markup (SPEC §10). Static: no request data is ever interpolated, so nothing
 * here needs escaping. The script and stylesheet are separate same-origin files because the
 * Content-Security-Policy allows no inline code. The first section mirrors the seed's SCIM
 * settings screen (SCIM On/Off, the two "Allow ... Promotion" checkboxes, Save settings).
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCIM settings</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/app.css">
<script src="/admin/app.js" defer></script>
</head>
<body>
<header class="top">
  <div>
    <h1>SCIM</h1>
    <p>Automate the activation status and role of users based on actions taken on the Identity Provider (IdP).</p>
  </div>
  <button type="button" id="signout" class="secondary" hidden>Sign out</button>
</header>
<main>
<noscript><p class="msg error">This page needs JavaScript.</p></noscript>

<section id="login" aria-labelledby="login-h">
  <h2 id="login-h">Sign in</h2>
  <p>Enter the admin token (the Worker secret <code>ADMIN_TOKEN</code>). It stays in this browser tab only
  and is sent as an <code>Authorization: Bearer</code> header; no cookies are used.</p>
  <form id="login-form" novalidate>
    <label for="admin-token">Admin token</label>
    <div class="row">
      <input id="admin-token" name="admin-token" type="password" autocomplete="current-password" spellcheck="false">
      <button type="submit">Sign in</button>
    </div>
  </form>
  <p id="login-msg" class="msg" role="alert"></p>
</section>

<div id="app" hidden>
<p id="alert-banner" class="banner" role="alert" hidden></p>
<nav aria-label="Sections">
  <a href="#settings">Settings</a>
  <a href="#connect">Connect Okta</a>
  <a href="#log">Provisioning log</a>
  <a href="#timeline">User timeline</a>
  <a href="#events">Events</a>
</nav>

<section id="settings" aria-labelledby="settings-h">
  <h2 id="settings-h">SCIM settings</h2>
  <form id="settings-form" novalidate>
    <fieldset>
      <legend>SCIM</legend>
      <div class="radios">
        <label><input type="radio" name="scimEnabled" id="scim-on" value="on"> On</label>
        <label><input type="radio" name="scimEnabled" id="scim-off" value="off"> Off</label>
      </div>
      <p class="hint">Off: every SCIM request answers 403 "provisioning is disabled", so Okta's
      "Test API Credentials" fails with that reason.</p>
    </fieldset>
    <fieldset>
      <legend>Role promotion</legend>
      <div class="check">
        <input type="checkbox" id="allowModeratorPromotion">
        <label for="allowModeratorPromotion">Allow Moderator Promotion via a userType property</label>
      </div>
      <p class="hint">Promote and demote between regular user and moderator when <code>userType</code> is Registered or Moderator.</p>
      <div class="check">
        <input type="checkbox" id="allowAdminPromotion">
        <label for="allowAdminPromotion">Allow Admin Promotion via a userType property</label>
      </div>
      <p class="hint">Promote and demote to and from admin when <code>userType</code> is Admin (admins have moderator privileges).</p>
    </fieldset>
    <fieldset>
      <legend>Group to role mapping</legend>
      <label for="moderatorGroup">Moderator group</label>
      <select id="moderatorGroup"><option value="">None</option></select>
      <label for="adminGroup">Admin group</label>
      <select id="adminGroup"><option value="">None</option></select>
      <p class="hint">Members of these groups (pushed with Okta's Push Groups) get the role at once, under the
      two settings above: no Force Sync needed. Only groups your IdP has pushed are listed.</p>
      <button type="button" id="reload-groups" class="secondary">Reload groups</button>
      <p id="groups-msg" class="msg" role="status"></p>
    </fieldset>
    <fieldset>
      <legend>Delivery to the main site</legend>
      <div class="check">
        <input type="checkbox" id="dryRun">
        <label for="dryRun">Dry run: record events, do not deliver them</label>
      </div>
      <label for="maxPerHour">Deprovisioning guard: deactivations and deletions delivered per hour</label>
      <input id="maxPerHour" type="number" min="1" max="1000000" step="1" inputmode="numeric">
      <p class="hint">Or 10% of active users, if larger. Beyond it, <code>user.deactivated</code> and
      <code>user.deleted</code> events are held until you release or discard them under Events.</p>
      <label for="logRetentionDays">Keep the provisioning log for (days)</label>
      <input id="logRetentionDays" type="number" min="1" max="3650" step="1" inputmode="numeric">
    </fieldset>
    <button type="submit" id="save-settings">Save settings</button>
    <p id="settings-msg" class="msg" role="status"></p>
    <div id="roles-job" hidden>
      <label for="roles-job-progress" id="roles-job-label">Re-evaluating roles</label>
      <progress id="roles-job-progress" max="1" value="0"></progress>
      <p id="roles-job-msg" class="hint" role="status"></p>
    </div>
  </form>
</section>

<section id="connect" aria-labelledby="connect-h">
  <h2 id="connect-h">Connect Okta</h2>
  <label for="base-url">SCIM 2.0 Base Url</label>
  <div class="row">
    <input id="base-url" type="text" readonly>
    <button type="button" id="copy-url" class="secondary">Copy</button>
  </div>
  <p id="copy-msg" class="msg" role="status"></p>
  <p>Paste it into Okta as "SCIM 2.0 Base Url" (Method 1, SCIM 2.0 Test App (OAuth Bearer Token)) or as
  "SCIM connector base URL" (Method 2, with unique identifier field <code>email</code> and Authentication Mode
  HTTP Header), then click "Test API Credentials" / "Test Connector Configuration".</p>
  <h3>SCIM authorization bearer token</h3>
  <p>The token is a Worker secret and this page never shows it. Set it, then enter the same value in Okta:</p>
  <pre><code>npx wrangler secret put SCIM_BEARER_TOKEN</code></pre>
  <p>To rotate it without downtime:</p>
  <ol>
    <li>Set the new token as the second accepted token: <code>npx wrangler secret put SCIM_BEARER_TOKEN_NEXT</code>.
    Both tokens work from now on.</li>
    <li>Enter the new token in Okta and click "Test API Credentials".</li>
    <li>Swap: <code>npx wrangler secret put SCIM_BEARER_TOKEN</code> with the new token, then
    <code>npx wrangler secret delete SCIM_BEARER_TOKEN_NEXT</code>.</li>
  </ol>
  <p>The admin token of this page is set the same way: <code>npx wrangler secret put ADMIN_TOKEN</code>.</p>
</section>

<section id="log" aria-labelledby="log-h">
  <h2 id="log-h">Provisioning log</h2>
  <form id="log-form" class="filters" novalidate>
    <div><label for="log-q">Search</label><input id="log-q" type="search" spellcheck="false"></div>
    <div><label for="log-user">User id</label><input id="log-user" type="text" spellcheck="false"></div>
    <div><label for="log-outcome">Outcome</label>
      <select id="log-outcome">
        <option value="">All</option>
        <option value="success">Success</option>
        <option value="error">Error</option>
        <option value="decision">Decision taken</option>
        <option value="quirk">IdP quirk tolerated</option>
      </select></div>
    <div class="buttons"><button type="submit">Search</button></div>
  </form>
  <p id="log-msg" class="msg" role="status"></p>
  <div class="table-wrap">
    <table id="log-table">
      <caption class="sr-only">SCIM requests, newest first</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Method</th><th scope="col">Path</th><th scope="col">Status</th>
      <th scope="col">User</th><th scope="col">IdP quirk tolerated</th><th scope="col">Decision</th></tr></thead>
      <tbody id="log-body"></tbody>
    </table>
  </div>
  <button type="button" id="log-more" class="secondary" hidden>Older entries</button>
</section>

<section id="timeline" aria-labelledby="timeline-h">
  <h2 id="timeline-h">User timeline</h2>
  <form id="timeline-form" class="filters" novalidate>
    <div><label for="timeline-id">User id</label><input id="timeline-id" type="text" spellcheck="false"></div>
    <div class="buttons"><button type="submit">Show timeline</button></div>
  </form>
  <p id="timeline-msg" class="msg" role="status"></p>
  <ol id="timeline-list" class="timeline" aria-label="Requests and events, newest first"></ol>
</section>

<section id="events" aria-labelledby="events-h">
  <h2 id="events-h">Events</h2>
  <p>Every change is sent to the main site as a signed webhook. Events that failed, are held by the
  deprovisioning guard, or could not be sent are listed here.</p>
  <ul id="event-counts" class="counts" aria-label="Number of events in each state"></ul>
  <form id="events-form" class="filters" novalidate>
    <div><label for="events-state">Delivery state</label>
      <select id="events-state">
        <option value="pending,queued,retrying,rejected,dead,held,undeliverable">Needs attention or on its way</option>
        <option value="">All</option>
        <option value="pending">pending</option>
        <option value="queued">queued</option>
        <option value="retrying">retrying</option>
        <option value="rejected">rejected</option>
        <option value="dead">dead</option>
        <option value="held">held</option>
        <option value="undeliverable">undeliverable</option>
        <option value="dry_run">dry run</option>
        <option value="delivered">delivered</option>
        <option value="discarded">discarded</option>
      </select></div>
    <div class="buttons"><button type="submit">Refresh</button></div>
  </form>
  <div class="row actions">
    <button type="button" id="release-held">Release all held</button>
    <button type="button" id="discard-held" class="danger">Discard all held</button>
    <button type="button" id="redeliver-state" class="secondary" hidden>Redeliver all in this state</button>
  </div>
  <p id="events-msg" class="msg" role="status"></p>
  <div class="table-wrap">
    <table id="events-table">
      <caption class="sr-only">Events, newest first</caption>
      <thead><tr><th scope="col">Created</th><th scope="col">Type</th><th scope="col">User or group</th>
      <th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last result</th>
      <th scope="col">Delivered</th><th scope="col">Actions</th></tr></thead>
      <tbody id="events-body"></tbody>
    </table>
  </div>
  <button type="button" id="events-more" class="secondary" hidden>Older events</button>
</section>
</div>
</main>
</body>
</html>
`;
