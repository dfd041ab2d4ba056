// What test/browser/run.mjs checks in the browser, in order. Each check drives the page like an
// admin would, then confirms the effect from outside (SCIM requests with the SCIM token, admin
// API reads, what the stand-in main site received).
import { join } from "node:path";
import { waitFor } from "./lib.mjs";

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

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
const roleOf = (user) => user?.roles?.[0]?.value;

export async function runScenarios({ page, context, origin, secrets, hook, artifacts }, check) {
  const scim = client(origin, "/api/scim/v2", secrets.SCIM_BEARER_TOKEN, "application/scim+json");
  const adminApi = client(origin, "/admin/api", secrets.ADMIN_TOKEN, "application/json");
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("dialog", (dialog) => dialog.accept());

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
  const text = async (selector) => (await page.locator(selector).textContent()) ?? "";
  const waitText = (selector, re) => waitFor(async () => re.test(await text(selector)), { ms: 10_000, label: `${selector} ~ ${re}` });
  async function saveSettings() {
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitText("#settings-msg", /^Settings saved\.$/);
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

  await check("page, script and stylesheet carry the strict CSP and safe headers", async () => {
    for (const [path, type] of [
      ["/admin", /^text\/html/],
      ["/admin/app.js", /^text\/javascript/],
      ["/admin/app.css", /^text\/css/],
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
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitText("#login-msg", /Enter the admin token/);
    await signIn("definitely-not-the-token");
    await waitText("#login-msg", /not accepted \(401 Unauthorized\).*ADMIN_TOKEN/);
    assert(await page.locator("#app").isHidden(), "the app is visible after a wrong token");
    assert((await page.evaluate(() => sessionStorage.length)) === 0, "a wrong token was stored");
  });

  await check("the right token signs in; settings, base URL and token instructions show, the token never", async () => {
    await signIn(secrets.ADMIN_TOKEN);
    await page.locator("#app").waitFor({ state: "visible" });
    assert(await page.getByLabel("Off", { exact: true }).isChecked(), "SCIM is not shown as Off on a fresh database");
    assert((await page.getByLabel("SCIM 2.0 Base Url").inputValue()) === `${origin}/api/scim/v2`, "wrong SCIM base URL");
    const body = await text("body");
    assert(body.includes("wrangler secret put SCIM_BEARER_TOKEN_NEXT"), "rotation instructions missing");
    assert(!body.includes(secrets.SCIM_BEARER_TOKEN) && !(await page.content()).includes(secrets.SCIM_BEARER_TOKEN), "SCIM token shown");
    assert((await page.evaluate(() => sessionStorage.getItem("scim-admin-token"))) === secrets.ADMIN_TOKEN, "token not in sessionStorage");
    await page.reload();
    await page.locator("#app").waitFor({ state: "visible" });
  });

  await check("SCIM Off answers 403 with the disabled detail; On + Save settings answers 200", async () => {
    const off = await scim("GET", "/Users");
    assertStatus(off, 403, "SCIM while off");
    assert(/disabled/i.test(off.body?.detail ?? ""), `403 detail: ${off.body?.detail}`);
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

  await check("log retention is saved; a bad value is refused in the page", async () => {
    await page.getByLabel("Keep the provisioning log for (days)").fill("0");
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitText("#settings-msg", /Not saved: Log retention must be between 1 and 3650/);
    await page.getByLabel("Keep the provisioning log for (days)").fill("7");
    await saveSettings();
    assert((await settings()).logRetentionDays === 7, "logRetentionDays not saved");
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
    await page.getByLabel("Delivery state", { exact: true }).selectOption("held");
    await waitEventRow(e2.id, "held");
    await waitText("#alert-banner", /2 events are held by the deprovisioning guard/);
    await page
      .locator("#events")
      .getByRole("button", { name: `Release held event user.deactivated ${e2.id}` })
      .click();
    await waitFor(async () => hook.deliveries.some((d) => d.id === e2.id && d.status === 204), { label: "released event delivered" });
    await page
      .locator("#events")
      .getByRole("button", { name: `Discard held event user.deactivated ${e3.id}` })
      .click();
    await waitFor(async () => (await heldOf(d3))?.state === "discarded", { label: "held event discarded" });
    await waitFor(async () => await page.locator("#alert-banner").isHidden(), { label: "banner gone once nothing is held" });
    await page.getByLabel("Deprovisioning guard: deactivations and deletions delivered per hour").fill("25");
    await saveSettings();
  });

  await check("the provisioning log is searchable by user and filterable by outcome", async () => {
    assertStatus(
      await scim("PATCH", `/Users/${alice.id}`, patchOp({ op: "replace", path: "noSuchAttribute", value: 1 })),
      400,
      "bad PATCH",
    );
    await page.locator("#log-user").fill(alice.id);
    await page.locator("#log-outcome").selectOption("");
    await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
    await waitText("#log-msg", /requests? shown/);
    const rows = page.locator("#log-body tr");
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-resource-id")));
    assert(ids.length >= 6 && ids.every((id) => id === alice.id), `rows for alice: ${JSON.stringify(ids)}`);
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

  await check("the user's timeline opens from the log after a SCIM PATCH", async () => {
    await patchUser(alice.id, { op: "replace", path: "displayName", value: "Alice Timeline" });
    await page.locator("#log-user").fill(alice.id);
    await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
    await page
      .getByRole("button", { name: `Show the timeline of user ${alice.id}` })
      .first()
      .click();
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
    await waitText("#events-msg", /[1-9]\d* rejected events sent again/);
    await waitFor(async () => (await eventsOf(user.id))[0]?.state === "delivered", { label: "rejected event delivered" });
  });

  await check("every control has an accessible name; narrow screens do not scroll sideways", async () => {
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, button, textarea")]
        .filter((c) => {
          const labelled = c.labels && c.labels.length > 0 && [...c.labels].some((l) => l.textContent.trim());
          return !labelled && !c.getAttribute("aria-label") && !(c.tagName === "BUTTON" && c.textContent.trim());
        })
        .map((c) => c.outerHTML.slice(0, 80)),
    );
    assert(unnamed.length === 0, `controls without a name: ${unnamed.join(" | ")}`);
    await page.getByLabel("Delivery state", { exact: true }).selectOption("");
    await page.screenshot({ path: join(artifacts, "admin.png"), fullPage: true });
    await page.setViewportSize({ width: 360, height: 780 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.screenshot({ path: join(artifacts, "admin-narrow.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    assert(overflow <= 1, `the page is ${overflow}px wider than a 360px screen`);
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
    // The wrong-token sign-in answers 401 by design; Chromium logs every failed fetch.
    const real = problems.filter((p) => !/status of 401/.test(p));
    assert(real.length === 0, real.join("\n"));
  });
}
