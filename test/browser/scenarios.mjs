// What test/browser/run.mjs checks in the browser, in order. Each check drives the page like an
// admin would, then confirms the effect from outside (SCIM requests with the SCIM token, admin
// API reads, what the stand-in main site received).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { overflowIn, runAdminQuestions } from "./admin-questions.mjs";
import { waitFor } from "./lib.mjs";

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The views of the page, by the label of their link in the nav. */
const VIEWS = {
  health: "Health",
  settings: "Settings",
  connect: "Connect Okta / Entra",
  users: "Users",
  log: "Provisioning log",
  timeline: "User timeline",
  events: "Events",
  resync: "Resync",
};

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function assertStatus(r, status, what) {
  assert(r.status === status, `${what}: expected ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
}

function client(origin, prefix, token, contentType) {
  return async function call(method, path, body) {
    const headers = { Authorization: `Bearer ${token}`, Accept: contentType };
    if (body !== undefined) headers["Content-Type"] = contentType;
    const res = await fetch(`${origin}${prefix}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, body: json, text };
  };
}

const patchOp = (...Operations) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations });
// The effective site role: the read-only extension (`roles` is what the IdP wrote, README "Roles").
const roleOf = (user) => user?.["urn:scim-edge:scim:schemas:extension:site:2.0:User"]?.role;

export async function runScenarios({ browser, page, context, origin, secrets, hook, access, artifacts, workDir }, check) {
  const scim = client(origin, "/api/scim/v2", secrets.SCIM_BEARER_TOKEN, "application/scim+json");
  const adminApi = client(origin, "/admin/api", secrets.ADMIN_TOKEN, "application/json");
  const problems = [];
  const watch = (p) => {
    p.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    p.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
    });
    p.on("dialog", (dialog) => dialog.accept());
  };
  watch(page);

  let counter = 0;
  async function createUser(label, extra = {}) {
    counter += 1;
    const userName = `${label}.${Date.now().toString(36)}${counter}@Example.com`;
    const r = await scim("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName,
      name: { givenName: label, familyName: "Browser" },
      emails: [{ primary: true, value: userName, type: "work" }],
      active: true,
      ...extra,
    });
    assertStatus(r, 201, `POST /Users ${label}`);
    return r.body;
  }
  async function patchUser(id, ...ops) {
    const r = await scim("PATCH", `/Users/${id}`, patchOp(...ops));
    assertStatus(r, 200, `PATCH /Users/${id}`);
    return r.body;
  }
  async function settings() {
    const r = await adminApi("GET", "/settings");
    assertStatus(r, 200, "GET /admin/api/settings");
    return r.body;
  }
  async function eventsOf(resourceId) {
    const r = await adminApi("GET", `/events?resourceId=${encodeURIComponent(resourceId)}&limit=50`);
    assertStatus(r, 200, "GET /admin/api/events");
    return r.body.events;
  }
  const text = async (selector, p = page) => (await p.locator(selector).textContent()) ?? "";
  /** Waits until `selector` reads `re`; a failure says what it read last. */
  async function waitText(selector, re, p = page) {
    let seen = "";
    try {
      const probe = async () => {
        seen = await text(selector, p);
        return re.test(seen);
      };
      // Generous: a loaded CI machine's local runtime may be busy with earlier scenarios' deliveries.
      return await waitFor(probe, { ms: 30_000, label: `${selector} ~ ${re}` });
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; it read: ${JSON.stringify(seen.slice(0, 400))}`);
    }
  }
  /** Opens a view from the nav, as an admin would, and waits until it shows. */
  async function show(view, p = page) {
    await p.locator("nav").getByRole("link", { name: VIEWS[view], exact: true }).click();
    await p.locator(`section#${view}`).waitFor({ state: "visible" });
  }
  /** A full-page screenshot from the top (scrolled, the sticky nav would sit in the middle of it). */
  async function shoot(name, p = page) {
    await p.evaluate(() => window.scrollTo(0, 0));
    await p.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }
  async function saveSettings(p = page) {
    // Waits for the PUT itself: the status line of the previous save may still read "saved".
    const saved = p.waitForResponse((r) => r.url().endsWith("/admin/api/settings") && r.request().method() === "PUT");
    await p.getByRole("button", { name: "Save settings" }).click();
    const res = await saved;
    assert(res.status() === 200, `PUT /admin/api/settings answered ${res.status()}`);
    await waitText("#settings-msg", /^Settings saved\.$/, p);
  }
  async function signIn(token) {
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  /** Clicks Refresh in the events view until the row for `id` is in `state`. */
  async function waitEventRow(id, state, ms = 20_000) {
    await waitFor(
      async () => {
        await page.locator("#events-form").getByRole("button", { name: "Refresh" }).click();
        await page.waitForTimeout(300);
        return (
          (await page
            .locator(`#events-body tr[data-event-id="${id}"]`)
            .getAttribute("data-state")
            .catch(() => null)) === state
        );
      },
      { ms, every: 700, label: `event ${id} listed as ${state}` },
    );
  }
  /** A fresh browser context whose every request carries this Access token, as Access's edge adds it. */
  async function accessContext(jwt) {
    const ctx = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: "en-US",
      extraHTTPHeaders: { "Cf-Access-Jwt-Assertion": jwt },
    });
    const p = await ctx.newPage();
    p.setDefaultTimeout(10_000);
    watch(p);
    return { ctx, p };
  }

  await check("page, script and stylesheet carry the strict CSP and safe headers", async () => {
    for (const { path, type } of [
      { path: "/admin", type: /^text\/html/ },
      { path: "/admin/app.js", type: /^text\/javascript/ },
      { path: "/admin/app.css", type: /^text\/css/ },
    ]) {
      const res = await fetch(`${origin}${path}`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      assert(res.status === 200, `${path}: ${res.status}`);
      assert(type.test(res.headers.get("content-type") ?? ""), `${path} content-type ${res.headers.get("content-type")}`);
      assert(res.headers.get("content-security-policy") === CSP, `${path} CSP: ${res.headers.get("content-security-policy")}`);
      assert(res.headers.get("x-content-type-options") === "nosniff", `${path} nosniff`);
      assert(res.headers.get("referrer-policy") === "no-referrer", `${path} referrer-policy`);
      assert(res.headers.get("cache-control") === "no-store", `${path} cache-control`);
      assert(!res.headers.has("set-cookie"), `${path} sets a cookie`);
    }
  });

  await check("a missing or wrong admin token gets a clear message and no access", async () => {
    await page.goto(`${origin}/admin`);
    await page.locator("#login").waitFor({ state: "visible" });
    await waitFor(async () => await page.getByRole("button", { name: "Sign in" }).isEnabled(), { label: "sign-in ready" });
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitText("#login-msg", /Enter the admin token/);
    await signIn("definitely-not-the-token");
    await waitText("#login-msg", /not accepted \(401 Unauthorized\).*ADMIN_TOKEN/);
    assert((await page.locator("#app").count()) === 0, "the app is shown after a wrong token");
    assert((await page.evaluate(() => sessionStorage.length)) === 0, "a wrong token was stored");
    await shoot("sign-in");
  });

  await check("the right token signs in; settings, base URL and token instructions show, the token never", async () => {
    await signIn(secrets.ADMIN_TOKEN);
    await page.locator("#app").waitFor({ state: "visible" });
    await waitText("#whoami", /^Signed in as admin token$/);
    await show("settings");
    await waitFor(async () => await page.getByLabel("Off", { exact: true }).isChecked(), {
      label: "SCIM shown as Off on a fresh database",
    });
    await show("connect");
    assert((await page.getByLabel("SCIM 2.0 Base Url", { exact: true }).inputValue()) === `${origin}/api/scim/v2`, "wrong SCIM base URL");
    const body = await text("body");
    assert(body.includes("wrangler secret put SCIM_BEARER_TOKEN_NEXT"), "rotation instructions missing");
    assert(!body.includes(secrets.SCIM_BEARER_TOKEN) && !(await page.content()).includes(secrets.SCIM_BEARER_TOKEN), "SCIM token shown");
    assert((await page.evaluate(() => sessionStorage.getItem("scim-admin-token"))) === secrets.ADMIN_TOKEN, "token not in sessionStorage");
    await page.reload();
    await page.locator("#app").waitFor({ state: "visible" });
  });

  await check("Connect: Entra's Tenant URL and steps; a strong token is made in the browser with the exact commands", async () => {
    await show("connect");
    assert(
      (await page.getByLabel("Tenant URL", { exact: true }).inputValue()) === `${origin}/api/scim/v2?aadOptscim062020`,
      "wrong Tenant URL",
    );
    const steps = await text("section#connect");
    for (const words of ["Test Connection", "AssertiveAppRoleAssignmentsComplex", "userType", "Test API Credentials"]) {
      assert(steps.includes(words), `Connect view lacks "${words}"`);
    }
    await page.getByRole("button", { name: "Generate a token" }).click();
    const token = await page.getByLabel("New SCIM token (32 random bytes)", { exact: true }).inputValue();
    assert(/^[A-Za-z0-9_-]{43}$/.test(token), `generated token: ${token}`);
    // SCIM_BEARER_TOKEN is set: a new token goes in as _NEXT first (no downtime), and the steps lead with it.
    assert((await text("#generated")).includes("npx wrangler secret put SCIM_BEARER_TOKEN_NEXT"), "the secret put command is not _NEXT's");
    assert((await text("#rotation-steps li:first-child")).includes("SCIM_BEARER_TOKEN_NEXT"), "the rotation steps do not lead with _NEXT");
    await page.getByRole("button", { name: "Generate another token" }).click();
    assert((await page.getByLabel("New SCIM token (32 random bytes)", { exact: true }).inputValue()) !== token, "the same token twice");
    await shoot("connect");
  });

  await check("SCIM Off answers 403 with the disabled detail; On + Save settings answers 200", async () => {
    const off = await scim("GET", "/Users");
    assertStatus(off, 403, "SCIM while off");
    assert(/disabled/i.test(off.body?.detail ?? ""), `403 detail: ${off.body?.detail}`);
    await show("settings");
    await page.getByLabel("On", { exact: true }).check();
    await saveSettings();
    assert((await settings()).scimEnabled === true, "scimEnabled not saved");
    assertStatus(await scim("GET", "/Users"), 200, "SCIM while on");
    await page.getByLabel("Off", { exact: true }).check();
    await saveSettings();
    assertStatus(await scim("GET", "/Users?count=1"), 403, "SCIM off again");
    await page.getByLabel("On", { exact: true }).check();
    await saveSettings();
    assertStatus(await scim("GET", "/Users?count=1"), 200, "SCIM on again");
  });

  let oauthToken = "";
  await check(
    "Connect: an OAuth client made in the page, its secret read once, a token from it lets SCIM in, and the page shows it in use",
    async () => {
      await show("connect");
      await page.getByLabel("Name", { exact: true }).fill("Entra OAuth");
      await page.getByRole("button", { name: "Create client" }).click();
      await page.locator("#new-secret").waitFor({ state: "visible" });
      const clientId = await page.locator("#new-client-id").inputValue();
      const secret = await page.locator("#new-client-secret").inputValue();
      const tokenEndpoint = await page.locator("#new-token-endpoint").inputValue();
      assert(tokenEndpoint === `${origin}/oauth/token`, `Token Endpoint: ${tokenEndpoint}`);
      assert(
        (await page.locator("#new-tenant-url").inputValue()) === `${origin}/api/scim/v2?aadOptscim062020`,
        "Tenant URL of the new secret",
      );
      assert(/^scim-/.test(clientId) && /^scimcs_[A-Za-z0-9_-]{43}$/.test(secret), `client ${clientId}, secret ${secret.slice(0, 10)}…`);
      await shoot("connect-oauth-secret");
      // What Entra does with those four fields: a token (client_secret_post, scope scim), then SCIM with it.
      const issued = await fetch(tokenEndpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope: "scim" }),
        signal: AbortSignal.timeout(10_000),
      });
      const grant = await issued.json();
      assert(issued.status === 200 && grant.token_type === "Bearer", `token endpoint: ${issued.status} ${JSON.stringify(grant)}`);
      const users = await fetch(`${origin}/api/scim/v2/Users?count=1`, { headers: { Authorization: `Bearer ${grant.access_token}` } });
      assert(users.status === 200, `SCIM with the access token: ${users.status}`);
      await page.getByRole("button", { name: "I have copied it" }).click();
      await page.locator("#new-secret").waitFor({ state: "detached" });
      assert(!(await page.content()).includes(secret), "the secret is still on the page after it was copied");
      // In use: the credentials table and the client's card say when it was last used.
      const row = page.locator("#credentials-table tbody tr", { hasText: 'OAuth client "Entra OAuth"' });
      await waitFor(
        async () => {
          await page.locator("#credentials-refresh").click();
          return /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.test((await row.textContent()) ?? "");
        },
        { ms: 15_000, label: "the client's secret shown as used" },
      );
      assert(/accepted/.test((await row.textContent()) ?? ""), `credential row: ${await row.textContent()}`);
      const card = page.locator("#oauth-clients article", { hasText: "Entra OAuth" });
      assert(/last used \d{4}-/.test((await card.textContent()) ?? ""), `client card: ${await card.textContent()}`);
      // The static token has been in use all along (the checks above); _NEXT is set (a rotation begun) and not used yet.
      assert(
        /set, accepted.*UTC/.test((await page.locator('#credentials-table tr[data-credential="SCIM_BEARER_TOKEN"]').textContent()) ?? ""),
        "SCIM_BEARER_TOKEN row",
      );
      assert(
        /set, accepted.*not in the last/.test(
          (await page.locator('#credentials-table tr[data-credential="SCIM_BEARER_TOKEN_NEXT"]').textContent()) ?? "",
        ),
        "_NEXT row",
      );
      await page.reload();
      await page.locator("#app").waitFor({ state: "visible" });
      await show("connect");
      await page.locator("#oauth-clients article", { hasText: "Entra OAuth" }).waitFor();
      assert(!(await page.content()).includes(secret), "the secret is shown again after a reload");
      await shoot("connect-oauth");
      await page.evaluate(() => window.scrollTo(0, 0));
      oauthToken = grant.access_token;
    },
  );

  await check(
    "Connect: Require OAuth refuses the static token and keeps the access token working; accepted again when checked",
    async () => {
      await show("connect");
      const save = async () => {
        const saved = page.waitForResponse((r) => r.url().endsWith("/admin/api/settings") && r.request().method() === "PUT");
        await page.locator("#require-form").getByRole("button", { name: "Save" }).click();
        assert((await saved).status() === 200, "PUT /admin/api/settings");
        await waitText("#require-msg", /^Saved\.$/);
      };
      await page.getByLabel("Accept the static token (SCIM_BEARER_TOKEN and SCIM_BEARER_TOKEN_NEXT)").uncheck();
      await save();
      try {
        assert((await settings()).staticTokenEnabled === false, "staticTokenEnabled not saved");
        await waitFor(async () => (await scim("GET", "/Users?count=1")).status === 401, { ms: 10_000, label: "the static token refused" });
        const refused = await scim("GET", "/Users?count=1");
        assert(/requires OAuth/.test(refused.body?.detail ?? ""), `refusal: ${refused.text}`);
        const withToken = await fetch(`${origin}/api/scim/v2/Users?count=1`, {
          headers: { Authorization: `Bearer ${oauthToken}` },
        });
        assert(withToken.status === 200, `the access token while OAuth is required: ${withToken.status}`);
      } finally {
        // Whatever failed above, the checks after this one need the static token again, on the settings view.
        await page.getByLabel("Accept the static token (SCIM_BEARER_TOKEN and SCIM_BEARER_TOKEN_NEXT)").check();
        await save();
        await show("settings");
      }
      await waitFor(async () => (await scim("GET", "/Users?count=1")).status === 200, {
        ms: 10_000,
        label: "the static token accepted again",
      });
    },
  );

  let alice;
  await check("the first webhook fails at the (stand-in) main site", async () => {
    alice = await createUser("Alice");
    await waitFor(() => hook.failedId, { ms: 20_000, label: "a failed delivery at the stand-in site" });
    const failed = (await eventsOf(alice.id)).find((e) => e.id === hook.failedId);
    assert(failed, `the failed event ${hook.failedId} is not alice's`);
    await waitFor(async () => (await eventsOf(alice.id)).find((e) => e.id === hook.failedId)?.state === "retrying", {
      label: "event state retrying",
    });
  });

  await check("userType promotion follows the two Allow ... Promotion checkboxes", async () => {
    assert(
      roleOf(await patchUser(alice.id, { op: "replace", path: "userType", value: "Admin" })) === "registered",
      "promoted with promotion off",
    );
    await page.getByLabel("Allow Moderator Promotion via a userType property").check();
    await saveSettings();
    assert((await settings()).allowModeratorPromotion === true, "allowModeratorPromotion not saved");
    assert(roleOf(await patchUser(alice.id, { op: "replace", path: "userType", value: "Moderator" })) === "moderator", "not moderator");
    await page.getByLabel("Allow Admin Promotion via a userType property").check();
    await saveSettings();
    assert((await settings()).allowAdminPromotion === true, "allowAdminPromotion not saved");
    assert(roleOf(await patchUser(alice.id, { op: "replace", value: { userType: "Admin" } })) === "admin", "not admin");
    await page.getByLabel("Allow Admin Promotion via a userType property").uncheck();
    await saveSettings();
    assert(
      roleOf(await patchUser(alice.id, { op: "replace", path: "userType", value: "Registered" })) === "admin",
      "demoted with admin promotion off",
    );
  });

  await check("group-to-role mapping: pick a pushed group, its members get the role, with progress shown", async () => {
    const existing = await createUser("Existing");
    const group = await scim("POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: `Browser Moderators ${Date.now().toString(36)}`,
      members: [{ value: existing.id }],
    });
    assertStatus(group, 201, "POST /Groups");
    const member = await createUser("Member");
    await page.getByRole("button", { name: "Reload groups" }).click();
    await waitFor(async () => (await page.locator(`#moderatorGroup option[value="${group.body.id}"]`).count()) === 1, {
      label: "group listed",
    });
    await page.getByLabel("Moderator group").selectOption(group.body.id);
    await saveSettings();
    assert((await settings()).moderatorGroup === group.body.id, "moderatorGroup not saved");
    // The member the group already had is promoted by the background re-evaluation; the page
    // shows it running, then done.
    await waitText("#roles-job-msg", /moderatorGroup/);
    await waitFor(async () => /^done/.test((await page.locator("#roles-job-msg").textContent()) ?? ""), {
      ms: 30_000,
      label: "re-evaluation done",
    });
    assert(roleOf((await scim("GET", `/Users/${existing.id}`)).body) === "moderator", "the group's existing member is not a moderator");
    const add = await scim("PATCH", `/Groups/${group.body.id}`, patchOp({ op: "add", path: "members", value: [{ value: member.id }] }));
    assert(add.status === 204 || add.status === 200, `PATCH /Groups: ${add.status} ${add.text.slice(0, 200)}`);
    const after = await scim("GET", `/Users/${member.id}`);
    assert(roleOf(after.body) === "moderator", `member's role: ${roleOf(after.body)}`);
    await page.getByLabel("Moderator group").selectOption("");
    await saveSettings();
    assert((await settings()).moderatorGroup === null, "moderatorGroup not cleared");
  });

  await check("log and event retention are saved; a bad value is refused in the page", async () => {
    await page.getByLabel("Keep the provisioning log for (days)").fill("0");
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitText("#settings-msg", /Not saved: Log retention must be between 1 and 3650/);
    await page.getByLabel("Keep the provisioning log for (days)").fill("7");
    await page.getByLabel("Keep delivered and discarded events for (days)").fill("14");
    await saveSettings();
    const saved = await settings();
    assert(
      saved.logRetentionDays === 7 && saved.eventRetentionDays === 14,
      `retention saved as ${saved.logRetentionDays}, ${saved.eventRetentionDays}`,
    );
    await shoot("settings");
  });

  await check("dry run records events without delivering them", async () => {
    await page.getByLabel("Dry run: record events, do not deliver them").check();
    await saveSettings();
    const dry = await createUser("Dry");
    const events = await eventsOf(dry.id);
    assert(events.length === 1 && events[0].state === "dry_run", `events: ${JSON.stringify(events.map((e) => e.state))}`);
    await page.getByLabel("Dry run: record events, do not deliver them").uncheck();
    await saveSettings();
    assert((await settings()).dryRun === false, "dryRun not switched off");
    assert(!hook.deliveries.some((d) => d.id === events[0].id), "a dry-run event reached the site");
    // Once dryRun is off, what it recorded can be sent: one event from its row, or all of them by state.
    const [recorded] = events;
    await show("events");
    await page.getByLabel("Delivery state", { exact: true }).selectOption("dry_run");
    await waitEventRow(recorded.id, "dry_run");
    assert(await page.getByRole("button", { name: "Redeliver all dry run events" }).isVisible(), "no bulk redelivery of dry_run");
    await page
      .locator("#events")
      .getByRole("button", { name: `Redeliver event user.created ${recorded.id}` })
      .click();
    await waitText("#events-msg", new RegExp(`^Event ${recorded.id} sent \\(now \\w+\\)\\.$`));
    await waitFor(async () => hook.deliveries.some((d) => d.id === recorded.id && d.status === 204), {
      label: "the recorded event delivered",
    });
    await show("settings");
  });

  await check("the deprovisioning guard holds deactivations; Release and Discard in the page", async () => {
    await page.getByLabel("Deprovisioning guard: deactivations and deletions delivered per hour").fill("1");
    await saveSettings();
    assert((await settings()).deprovisionGuard.maxPerHour === 1, "maxPerHour not saved");
    const [d1, d2, d3] = [await createUser("Leaver"), await createUser("Leaver"), await createUser("Leaver")];
    await patchUser(d1.id, { op: "replace", value: { active: false } });
    await patchUser(d2.id, { op: "replace", value: { active: false } });
    await patchUser(d3.id, { op: "replace", value: { active: false } });
    const heldOf = async (u) => (await eventsOf(u.id)).find((e) => e.type === "user.deactivated");
    const [e2, e3] = [await heldOf(d2), await heldOf(d3)];
    assert(e2?.state === "held" && e3?.state === "held", `states: ${e2?.state}, ${e3?.state}`);
    await show("events");
    await page.getByLabel("Delivery state", { exact: true }).selectOption("held");
    await waitEventRow(e2.id, "held");
    await waitText("#alert-banner", /2 changes held by the deprovisioning guard for 2 people/);
    // People, not UUIDs: the held row names the user.
    assert((await text(`#events-body tr[data-event-id="${e2.id}"]`)).includes(d2.userName), "the held row does not name its user");
    await shoot("events-held");
    // One row's Release asks first, naming the person and the number of changes, then does exactly that.
    await page
      .locator("#events")
      .getByRole("button", { name: `Release held event user.deactivated ${e2.id}` })
      .click();
    await waitText("#held-dialog", /Release the held changes of 1 person: the site receives 1 deactivation, in order\./);
    await page.locator("#held-dialog").getByRole("button", { name: "Release 1 change of 1 person" }).click();
    await waitFor(async () => hook.deliveries.some((d) => d.id === e2.id && d.status === 204), { label: "released event delivered" });
    await page
      .locator("#events")
      .getByRole("button", { name: `Discard held event user.deactivated ${e3.id}` })
      .click();
    await waitText("#held-dialog", /Discard the held changes of 1 person: 1 deactivation, never delivered\./);
    await page.locator("#held-dialog").getByRole("button", { name: "Discard 1 change of 1 person" }).click();
    await waitFor(async () => (await heldOf(d3))?.state === "discarded", { label: "held event discarded" });
    // The banner no longer speaks of held changes (it may still say the site failed alice's first event).
    await waitFor(async () => (await page.locator('#alert-banner [data-finding="held"]').count()) === 0, {
      label: "the banner's held line gone once nothing is held",
    });
    await show("settings");
    await page.getByLabel("Deprovisioning guard: deactivations and deletions delivered per hour").fill("25");
    await saveSettings();
  });

  await check("the provisioning log is searchable by user and filterable by outcome", async () => {
    assertStatus(
      await scim("PATCH", `/Users/${alice.id}`, patchOp({ op: "replace", path: "noSuchAttribute", value: 1 })),
      400,
      "bad PATCH",
    );
    await show("log");
    await page.locator("#log-user").fill(alice.id);
    await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
    await waitText("#log-msg", /requests? shown/);
    const rows = page.locator("#log-body tr");
    await waitFor(async () => (await rows.count()) >= 6, { label: "alice's rows" });
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-resource-id")));
    assert(
      ids.every((id) => id === alice.id),
      `rows for alice: ${JSON.stringify(ids)}`,
    );
    const all = await text("#log-body");
    assert(/POST/.test(all) && /PATCH/.test(all), "POST and PATCH rows expected");
    await page.locator("#log-outcome").selectOption("decision");
    await waitFor(async () => /role kept: admin/.test(await text("#log-body")), { label: "role kept decision" });
    await page.locator("#log-outcome").selectOption("error");
    await waitFor(async () => (await rows.count()) === 1 && /400/.test(await text("#log-body")), { label: "the one 400 row" });
  });

  await check("log content is shown as text, never as markup", async () => {
    const r = await scim("GET", `/Users/${encodeURIComponent('<img src="x" id="injected">')}`);
    assertStatus(r, 404, "GET markup id");
    await page.locator("#log-user").fill("");
    await page.locator("#log-q").fill("injected");
    await page.locator("#log-outcome").selectOption("");
    await waitFor(async () => (await text("#log-body")).includes('<img src="x" id="injected">'), { label: "markup shown as text" });
    assert((await page.locator("#injected").count()) === 0, "markup from the log was parsed into the page");
    await page.locator("#log-q").fill("");
  });

  await check("the user's timeline opens from the log after a SCIM PATCH; the log names the user", async () => {
    await patchUser(alice.id, { op: "replace", path: "displayName", value: "Alice Timeline" });
    await page.locator("#log-user").fill(alice.id);
    await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
    const link = page.getByRole("link", { name: `Show the timeline of user ${alice.userName}` }).first();
    await link.waitFor({ state: "visible" });
    assert((await link.textContent()) === alice.userName, `the log's User column shows ${await link.textContent()}, not the userName`);
    assert((await text("#log-body tr:first-child")).includes("Alice Timeline"), "the log does not show the user's name");
    await shoot("log");
    await link.click();
    await waitText("#timeline-msg", /User Alice\..*role admin, active/);
    const kinds = await page.locator("#timeline-list > li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-kind")));
    assert(kinds.includes("request") && kinds.includes("event"), `kinds: ${kinds}`);
    const first = await text("#timeline-list > li:first-child");
    assert(/user\.updated|PATCH/.test(first), `newest entry: ${first}`);
    const failed = page.locator(`#timeline-list li[data-event-id="${hook.failedId}"]`);
    assert(
      (await failed.count()) === 1 && /retrying/.test(await failed.textContent()),
      "the failed event is not in the timeline as retrying",
    );
  });

  await check("a failed event is listed with its delivery state and delivered after Redeliver", async () => {
    const id = hook.failedId;
    assert(id, "no failed event");
    await show("events");
    await page.getByLabel("Delivery state", { exact: true }).selectOption("retrying");
    await waitEventRow(id, "retrying");
    const row = await text(`#events-body tr[data-event-id="${id}"]`);
    assert(/HTTP 500/.test(row), `row shows no HTTP 500: ${row}`);
    hook.failing = false;
    await page
      .locator("#events")
      .getByRole("button", { name: `Redeliver event user.created ${id}` })
      .click();
    await waitText("#events-msg", new RegExp(`Event ${id} sent again`));
    await waitFor(async () => hook.deliveries.some((d) => d.id === id && d.status === 204), { label: "redelivered event received" });
    await page.getByLabel("Delivery state", { exact: true }).selectOption("delivered");
    await waitEventRow(id, "delivered");
    assert(
      hook.deliveries.every((d) => d.signed),
      "an unsigned delivery",
    );
  });

  await check("rejected events are sent again with Redeliver all rejected events", async () => {
    hook.rejecting = true;
    let user;
    try {
      user = await createUser("Refused");
      await waitFor(async () => (await eventsOf(user.id))[0]?.state === "rejected", { label: "event rejected (400)" });
    } finally {
      hook.rejecting = false;
    }
    const [event] = await eventsOf(user.id);
    await page.getByLabel("Delivery state", { exact: true }).selectOption("rejected");
    await waitEventRow(event.id, "rejected");
    assert(/HTTP 400/.test(await text(`#events-body tr[data-event-id="${event.id}"]`)), "row shows no HTTP 400");
    await page.getByRole("button", { name: "Redeliver all rejected events" }).click();
    await waitText("#events-msg", /[1-9]\d* rejected events? sent again/);
    await waitFor(async () => (await eventsOf(user.id))[0]?.state === "delivered", { label: "rejected event delivered" });
  });

  await check("Users: find a user by email, open the timeline by name, see names instead of ids", async () => {
    const erin = await createUser("Erin", { displayName: "Erin Example", externalId: "00u-erin" });
    await show("users");
    await page.getByLabel("Find users by userName, email, name or externalId").fill(erin.userName.toLowerCase());
    await page.getByRole("button", { name: "Search users" }).click();
    await waitText("#users-msg", /^1 user matching/);
    const row = await text(`#users-body tr[data-user-id="${erin.id}"]`);
    assert(row.includes("Erin Example") && row.includes(erin.userName) && row.includes("00u-erin"), `the user row: ${row}`);
    await page.getByLabel("Find users by userName, email, name or externalId").fill("ERIN EXAMPLE");
    await page.getByRole("button", { name: "Search users" }).click();
    await waitFor(async () => (await page.locator(`#users-body tr[data-user-id="${erin.id}"]`).count()) === 1, { label: "found by name" });
    await shoot("users");
    await page.getByRole("link", { name: `Show the timeline of user ${erin.userName}` }).click();
    await waitText(
      "#timeline-msg",
      new RegExp(
        `^User ${erin.userName.replace(/\./g, "\\.")} \\(Erin Example, ${erin.userName.replace(/\./g, "\\.")}\\) — role registered, active`,
      ),
    );
    // Typing an email (what an admin has at hand) works too, and the address bar ends on the id.
    await page.getByLabel("User id, userName or email").fill(erin.userName.toUpperCase());
    await page.getByRole("button", { name: "Show timeline" }).click();
    await waitText("#timeline-msg", /^User Erin\./);
    await waitFor(async () => page.url().endsWith(`#timeline/${erin.id}`), { label: "the timeline's address names the id" });
    await shoot("timeline");
    // The events list names the user too.
    await show("events");
    await page.getByLabel("Delivery state", { exact: true }).selectOption("");
    const [event] = await eventsOf(erin.id);
    await waitEventRow(event.id, event.state === "delivered" ? "delivered" : event.state);
    assert((await text(`#events-body tr[data-event-id="${event.id}"]`)).includes(erin.userName), "the event row does not name the user");
    await shoot("events");
  });

  await check("Health: the charts are drawn from the real numbers of the last 24 hours", async () => {
    await show("health");
    // Fresh numbers: reload the page (the session stays), then compare with the API's.
    await page.reload();
    await page.locator("#chart-requests canvas").first().waitFor({ state: "attached" });
    const stats = (await adminApi("GET", "/stats")).body;
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const apiRequests = Object.values(stats.requests)
      .map(sum)
      .reduce((a, b) => a + b, 0);
    const apiEvents = Object.values(stats.events.byState).reduce((a, b) => a + b, 0);
    const shown = async (id) => Number(await page.locator(`#${id}`).getAttribute("data-total"));
    // The page read its numbers a moment before this API call: requests only grow meanwhile.
    assert(
      (await shown("chart-requests")) > 10 && (await shown("chart-requests")) <= apiRequests,
      `requests: ${await shown("chart-requests")} vs ${apiRequests}`,
    );
    assert((await shown("chart-states")) === apiEvents, `events: ${await shown("chart-states")} vs ${apiEvents}`);
    for (const id of ["chart-requests", "chart-created", "chart-states", "chart-ages"]) {
      const painted = await page.evaluate((chart) => {
        const canvas = document.querySelector(`#${chart} canvas`);
        if (!(canvas instanceof HTMLCanvasElement) || canvas.width === 0) return 0;
        const data = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
      }, id);
      assert(painted > 200, `${id}: ${painted} painted pixels`);
    }
    assert(/held by the deprovisioning guard/.test(await text("#tile-held")), "no held tile");
    // Which signing secrets are set, by name, as the API says; no value anywhere on the page.
    for (const { name, state } of stats.signingSecrets) {
      const shownState = await page.locator(`#signing-secrets [data-secret="${name}"]`).getAttribute("data-state");
      assert(shownState === state, `${name}: the page says ${shownState}, the API ${state}`);
    }
    assert(!(await page.content()).includes("whsec_"), "a signing secret's value is on the page");
    await shoot("health");
  });

  await check("Export: the log of a chosen range downloads as CSV and as NDJSON", async () => {
    await show("log");
    const from = new Date(Date.now() - 3_600_000);
    const pad = (n) => String(n).padStart(2, "0");
    const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    await page.getByLabel("From (your local time)").fill(local(from));
    await page.getByLabel("To", { exact: true }).fill(local(new Date(Date.now() + 120_000)));
    for (const format of ["csv", "ndjson"]) {
      await page.getByLabel("Format").selectOption(format);
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
      const file = join(workDir, download.suggestedFilename());
      await download.saveAs(file);
      assert(
        download.suggestedFilename().startsWith("provisioning-log_") && file.endsWith(`.${format}`),
        `file name ${download.suggestedFilename()}`,
      );
      const body = readFileSync(file, "utf8");
      if (format === "csv") {
        assert(body.startsWith("seq,at,requestId,method,path,status,"), `CSV header: ${body.slice(0, 80)}`);
        assert(body.includes(alice.userName), "the CSV does not name alice");
      } else {
        const lines = body
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        assert(lines.length > 10 && lines.every((l) => typeof l.seq === "number"), `NDJSON lines: ${lines.length}`);
      }
      await waitText("#export-msg", /^Downloaded provisioning-log_.*rows\)\.$/);
    }
    const bad = page.getByLabel("To", { exact: true });
    await bad.fill(local(new Date(from.getTime() - 60_000)));
    await page.getByRole("button", { name: "Download" }).click();
    await waitText("#export-msg", /The end must be after the start/);
  });

  await check("the admin token's settings change is logged with its actor, shown in the log", async () => {
    await show("settings");
    await page.getByLabel("Keep the provisioning log for (days)").fill("30");
    await saveSettings();
    await show("log");
    await page.locator("#log-user").fill("settings");
    await page.locator("#log-q").fill("logRetentionDays");
    await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
    await waitFor(async () => /logRetentionDays: 7 → 30/.test(await text("#log-body tr:first-child")), {
      label: "the settings change row",
    });
    const actor = await page.locator('#log-body tr:first-child td[data-label="Actor"]').textContent();
    assert(actor === "admin token", `actor shown: ${actor}`);
    assert((await text('#log-body tr:first-child td[data-label="User"]')) === "Settings", "the row is not about Settings");
  });

  await check(
    "Cloudflare Access: a token the team's key signed signs in with no admin token; its settings change shows the email",
    async () => {
      const { ctx, p } = await accessContext(await access.token({ email: "carol@example.com" }));
      try {
        await p.goto(`${origin}/admin`);
        await p.locator("#app").waitFor({ state: "visible" });
        await waitText("#whoami", /^Signed in as carol@example\.com \(Cloudflare Access\)$/, p);
        assert((await p.evaluate(() => sessionStorage.length)) === 0, "something was stored for an Access session");
        assert(
          (await p.getByRole("link", { name: "Sign out of Cloudflare Access" }).getAttribute("href")) === "/cdn-cgi/access/logout",
          "no Access sign-out",
        );
        await shoot("access-signed-in", p);
        await show("settings", p);
        await p.getByLabel("Keep the provisioning log for (days)").fill("31");
        await saveSettings(p);
        await show("log", p);
        await p.locator("#log-q").fill("carol@example.com");
        await p.locator("#log-form").getByRole("button", { name: "Search" }).click();
        await waitFor(async () => /logRetentionDays: 30 → 31/.test(await text("#log-body tr:first-child", p)), {
          label: "Access user's change",
        });
        const actor = await p.locator('#log-body tr:first-child td[data-label="Actor"]').textContent();
        assert(actor === "carol@example.com", `actor shown: ${actor}`);
        assert(access.certsFetched() >= 1, "the Worker never fetched the team's keys");
      } finally {
        await ctx.close();
      }
    },
  );

  for (const bad of [
    { name: "another application's audience", claims: { aud: "some-other-application" }, say: /another Access application/ },
    { name: "an expired token", claims: { expiresIn: -120 }, say: /expired/ },
    { name: "another team's issuer", claims: { iss: "https://evil.cloudflareaccess.com" }, say: /not issued by http:\/\/127\.0\.0\.1/ },
  ]) {
    await check(`Cloudflare Access: ${bad.name} is refused with the reason`, async () => {
      const { ctx, p } = await accessContext(await access.token(bad.claims));
      try {
        await p.goto(`${origin}/admin`);
        await waitText("#login-msg", /^Cloudflare Access sign-in was refused: /, p);
        assert(bad.say.test(await text("#login-msg", p)), `message: ${await text("#login-msg", p)}`);
        assert((await p.locator("#app").count()) === 0, "the app is shown for a refused Access token");
      } finally {
        await ctx.close();
      }
    });
  }

  const SEEDED = 300;
  let drifter;
  await check(`Resync: ${SEEDED} users seeded through POST /Bulk, one of them kept as an admin by the site`, async () => {
    for (let from = 0; from < SEEDED; from += 100) {
      const Operations = Array.from({ length: 100 }, (_, i) => {
        const userName = `sync${from + i}.${Date.now().toString(36)}@example.com`;
        return {
          method: "POST",
          path: "/Users",
          bulkId: `u${from + i}`,
          data: {
            schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
            userName,
            emails: [{ primary: true, value: userName }],
            active: true,
          },
        };
      });
      const r = await scim("POST", "/Bulk", { schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations });
      assertStatus(r, 200, "POST /Bulk");
      const refused = r.body.Operations.filter((op) => op.status !== "201");
      assert(refused.length === 0, `bulk operations not created: ${JSON.stringify(refused.slice(0, 3))}`);
    }
    drifter = await createUser("Drifter");
    // The site keeps this user as an admin whatever it is told: its answer to the resync disagrees.
    hook.siteViews.set(drifter.id, { role: "admin" });
  });

  /** What the resync view shows now: the run's id and state, and the progress bar's value. */
  const resyncShown = () =>
    page.evaluate(() => {
      const report = document.querySelector("#resync-report");
      const bar = document.querySelector("#resync-progress");
      return {
        id: report?.getAttribute("data-resync-id") ?? null,
        state: report?.getAttribute("data-state") ?? null,
        value: bar instanceof HTMLProgressElement ? bar.value : null,
      };
    });
  /** One count of the report ("delivered: 12"), as a number. */
  const outcome = async (name) => Number(/: (\d+)$/.exec(await text(`#resync-counts li[data-outcome="${name}"]`))?.[1] ?? Number.NaN);
  async function directorySize() {
    const [u, g] = [await scim("GET", "/Users?count=0"), await scim("GET", "/Groups?count=0")];
    assertStatus(u, 200, "GET /Users");
    assertStatus(g, 200, "GET /Groups");
    return u.body.totalResults + g.body.totalResults;
  }
  /**
   * Presses the resync button, then watches the page until the new run is done at 100%; returns
   * its id and every value the progress bar showed on the way.
   */
  async function runResync() {
    const before = (await resyncShown()).id;
    const values = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await resyncShown();
        if (now.id && now.id !== before && values.at(-1) !== now.value) values.push(now.value);
        await page.waitForTimeout(50);
      }
    })();
    try {
      await page.getByRole("button", { name: "Resync everything to the site" }).click();
      await waitText("#resync-msg", /^Resync resync_[0-9a-f]+ started/);
      const id = /resync_[0-9a-f]+/.exec(await text("#resync-msg"))?.[0];
      await waitFor(
        async () => {
          const now = await resyncShown();
          return now.id === id && now.state === "done" && now.value === 100;
        },
        { ms: 40_000, every: 100, label: "the resync done at 100%" },
      );
      return { id, values };
    } finally {
      sampling = false;
      await sampler;
      const last = await resyncShown();
      if (last.id && last.id !== before && values.at(-1) !== last.value) values.push(last.value);
    }
  }
  const runs = [];
  const nonDecreasing = (xs) => xs.every((x, i) => i === 0 || x >= xs[i - 1]);

  await check("Resync: the progress bar runs to 100%, every user and group is delivered, the site's disagreement is listed", async () => {
    const size = await directorySize();
    assert(size > SEEDED, `the directory has ${size} users and groups`);
    await show("resync");
    await waitText("section#resync", /No resync has run yet\./);
    const run = await runResync();
    runs.push(run);
    assert(nonDecreasing(run.values) && run.values.at(-1) === 100, `the progress bar showed ${JSON.stringify(run.values)}`);
    assert(
      run.values.every((v) => v === 100 || v <= 99),
      `100% before done: ${JSON.stringify(run.values)}`,
    );
    await waitText("#resync-state", new RegExp(`^Done: ${size} of ${size} users and groups sent as ${size} events\\.$`));
    // Delivery goes on after the last chunk is written: the page keeps reading until none is on its way.
    await waitFor(async () => (await outcome("delivered")) === size, { ms: 30_000, label: `${size} delivered in the page` });
    assert((await outcome("failed")) === 0 && (await outcome("waiting")) === 0, `counts: ${await text("#resync-counts")}`);
    assert(/^Started .+ by admin token; finished .+ UTC\.$/.test(await text("#resync-meta")), `meta: ${await text("#resync-meta")}`);
    const report = (await adminApi("GET", "/resync")).body.last;
    assert(report.id === run.id && report.state === "done" && !report.dryRun, `report: ${JSON.stringify(report).slice(0, 300)}`);
    assert(
      report.total === size && report.visited === size && report.emitted === size,
      `report: ${report.total}, ${report.visited}, ${report.emitted}`,
    );
    assert(report.events.delivered === size, `delivered: ${JSON.stringify(report.events)}`);
    const synced = hook.deliveries.filter((d) => /\.synced$/.test(d.type) && d.status < 300);
    assert(new Set(synced.map((d) => d.id)).size === size, `the site got ${synced.length} synced events`);
    // The site's answer for the drifter disagrees on the role, and says nothing against anyone else.
    await waitText("#resync-disagree-msg", /^1 resource where the site's own view differs/);
    const row = await text(`#resync-disagree-body tr[data-resource-id="${drifter.id}"]`);
    assert(row.includes(drifter.userName) && /role: admin/.test(row) && /role: registered/.test(row), `disagreement row: ${row}`);
    await shoot("resync");
  });

  await check("Resync: pressed while another admin's resync runs, the page shows the API's refusal, then follows that run", async () => {
    const size = await directorySize();
    const other = await adminApi("POST", "/resync");
    assertStatus(other, 202, "POST /admin/api/resync");
    await page.getByRole("button", { name: "Resync everything to the site" }).click();
    await waitText(
      "#resync-msg",
      new RegExp(`^Not done: A resync is already running \\(${other.body.id}\\); wait for it to finish, then start another\\.$`),
    );
    await waitFor(
      async () => {
        const now = await resyncShown();
        return now.id === other.body.id && now.state === "done" && now.value === 100;
      },
      { ms: 40_000, label: "the other admin's run done in the page" },
    );
    // Once that run is over the refusal no longer stands; its events are all delivered before the next check.
    await waitText("#resync-msg", /^$/);
    await waitFor(async () => (await outcome("delivered")) === size, { ms: 30_000, label: `${size} delivered in the page` });
  });

  await check("Resync under dryRun: recorded, not delivered; Send the recorded events is refused until dryRun is off", async () => {
    hook.siteViews.clear();
    await show("settings");
    await page.getByLabel("Dry run: record events, do not deliver them").check();
    await saveSettings();
    const size = await directorySize();
    const delivered = hook.deliveries.length;
    await show("resync");
    const run = await runResync();
    runs.push(run);
    assert(nonDecreasing(run.values) && run.values.at(-1) === 100, `the progress bar showed ${JSON.stringify(run.values)}`);
    await waitFor(async () => (await outcome("recorded")) === size, { label: `${size} recorded` });
    assert(/its events were recorded, not delivered/.test(await text("#resync-dry-run")), "no dry-run note");
    assert(hook.deliveries.length === delivered, "a dry run's event reached the site");
    await page.getByRole("button", { name: "Send the recorded events" }).click();
    await waitText("#resync-msg", /^Not done: dryRun is on, so dry_run events cannot be sent/);
    await shoot("resync-dry-run");
    await show("settings");
    await page.getByLabel("Dry run: record events, do not deliver them").uncheck();
    await saveSettings();
    await show("resync");
    await page.getByRole("button", { name: "Send the recorded events" }).click();
    await waitText("#resync-msg", new RegExp(`^${size} recorded events sent to the main site\\.$`));
    await waitFor(async () => (await outcome("delivered")) === size, { ms: 30_000, label: `${size} delivered in the page` });
    assert((await adminApi("GET", "/resync")).body.last.events.delivered === size, "the API does not count them delivered");
    assert((await page.getByRole("button", { name: "Send the recorded events" }).count()) === 0, "Send is offered with nothing recorded");
  });

  await check("Resync: the page's progress bar moved through values between 0 and 100 on the way", async () => {
    // Each run takes seconds (chunks of 200 users through the queue, whose batches wait up to 1 s),
    // so the page, reading every second while one runs, shows it part-way.
    const shown = runs.map((r) => JSON.stringify(r.values)).join(", ");
    assert(
      runs.some((r) => r.values.some((v) => v > 0 && v < 100)),
      `no value between 0 and 100 was shown: ${shown}`,
    );
  });

  // The admin's questions, each a scenario with its screenshots at 1440x900 and 390x844; a longer bound each.
  await runAdminQuestions(
    { page, hook, scim, adminApi, show, text, waitText, shoot, createUser, patchUser, saveSettings, workDir, secrets, origin },
    (name, fn) => check(name, fn, 180_000),
  );

  await check(
    "every control has an accessible name; no view scrolls sideways at 390 px (nor a table at 1440 px), with the widest content shown",
    async () => {
      await show("health");
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll("input, select, button, textarea")]
          .filter((c) => {
            const labelled = c.labels && c.labels.length > 0 && [...c.labels].some((l) => l.textContent.trim());
            return !labelled && !c.getAttribute("aria-label") && !(c.tagName === "BUTTON" && c.textContent.trim());
          })
          .map((c) => c.outerHTML.slice(0, 80)),
      );
      assert(unnamed.length === 0, `controls without a name: ${unnamed.join(" | ")}`);
      // The widest content: a user whose userName, displayName and title have nowhere to break, and a
      // change of it, shown in every view that lists users, requests or events.
      const wide = await createUser(`Wide${"w".repeat(56)}`, { displayName: `Display${"d".repeat(72)}`, title: `Title${"t".repeat(72)}` });
      await patchUser(wide.id, { op: "replace", path: "title", value: `Retitled${"r".repeat(72)}` });
      await show("users");
      await page.getByLabel("Find users by userName, email, name or externalId").fill(wide.userName);
      await page.getByRole("button", { name: "Search users" }).click();
      await page.locator(`#users-body tr[data-user-id="${wide.id}"]`).waitFor();
      await show("timeline");
      await page.getByLabel("User id, userName or email").fill(wide.userName);
      await page.getByRole("button", { name: "Show timeline" }).click();
      await waitText("#timeline-msg", /entries|entry/);
      await show("log");
      await page.locator("#log-user").fill("");
      await page.locator("#log-outcome").selectOption("");
      await page.locator("#log-q").fill(wide.userName);
      await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
      await page.locator(`#log-body tr[data-resource-id="${wide.id}"]`).first().waitFor();
      await show("events");
      await page.getByLabel("Delivery state", { exact: true }).selectOption("");
      // The measure itself can fail: a box wider than the screen, put in and taken out again, is seen.
      await page.setViewportSize({ width: 390, height: 844 });
      const probe = await page.evaluate(() => {
        const card = document.createElement("div");
        card.className = "card";
        const inner = document.createElement("div");
        inner.style.width = "2000px";
        inner.textContent = "probe";
        card.append(inner);
        document.querySelector("section#events")?.append(card);
        return true;
      });
      const seen = await overflowIn(page);
      await page.evaluate(() => document.querySelector("section#events > .card:last-child")?.remove());
      assert(probe && (seen.page > 1 || seen.scrolling.length > 0), `a 2000 px box was not seen: ${JSON.stringify(seen)}`);
      const sideways = [];
      try {
        // At 390 px (cards, the phone) and at 1440 px (tables: Status and Role never cut off).
        for (const [width, height] of [
          [390, 844],
          [1440, 900],
        ]) {
          await page.setViewportSize({ width, height });
          for (const view of Object.keys(VIEWS)) {
            await show(view);
            await page.waitForTimeout(200);
            const o = await overflowIn(page);
            if (o.page > 1 || o.scrolling.length > 0) sideways.push(`${view} at ${width} px: page ${o.page}px; ${o.scrolling.join(", ")}`);
            if (width === 390) await shoot(`narrow-${view}`);
          }
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
      }
      assert(sideways.length === 0, `wider than the screen: ${sideways.join(" | ")}`);
    },
  );

  await check("a heading opened from the nav is not hidden under the sticky nav", async () => {
    await show("settings");
    await page.evaluate(() => window.scrollTo(0, 400));
    await show("events");
    const hidden = await page.evaluate(() => {
      const nav = document.querySelector("nav")?.getBoundingClientRect();
      const heading = document.querySelector("#events-h")?.getBoundingClientRect();
      return nav && heading ? nav.bottom - heading.top : 999;
    });
    assert(hidden <= 0, `the Events heading is ${hidden}px under the nav`);
  });

  await check("sign out forgets the token; a saved token that stops working asks again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#login").waitFor({ state: "visible" });
    assert((await page.evaluate(() => sessionStorage.getItem("scim-admin-token"))) === null, "token kept after sign out");
    await page.evaluate(() => sessionStorage.setItem("scim-admin-token", "rotated-away"));
    await page.reload();
    await waitText("#login-msg", /saved admin token is no longer accepted/);
    assert((await context.cookies()).length === 0, "the page set cookies");
  });

  await check("no script errors and no CSP violations in the console", async () => {
    // Refused sign-ins answer 401 by design, and the resync refusals provoked above 409; Chromium logs every failed fetch.
    const real = problems.filter((p) => !/status of (401|409)/.test(p));
    assert(real.length === 0, real.join("\n"));
  });
}
