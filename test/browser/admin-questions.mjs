// The admin's questions, asked in the page as an admin would (test/browser/run.mjs calls these
// from scenarios.mjs, with its helpers): is provisioning healthy with a site that refuses, and with
// one that is down; why were deactivations held after a mass deprovisioning partly undone by the
// IdP, and what does each safe action do; what happened to a deleted user; when is it safe to drop
// the old token. Each asserts what the admin reads, and leaves screenshots at 1440x900 and 390x844.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./lib.mjs";

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const SIZES = [
  { name: "1440", width: 1440, height: 900 },
  { name: "390", width: 390, height: 844 },
];

/**
 * What makes a view wider than the screen, measured on what it shows: the page itself, and every
 * box that scrolls sideways (a table's wrapper, an expression's box, a card).
 */
export function overflowIn(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const boxes = [...document.querySelectorAll(".table-wrap, pre, .card, .timeline, .banner, .verdict, dialog, #held-people, .tiles")];
    const scrolling = boxes
      .filter((e) => e.getClientRects().length > 0 && e.scrollWidth > e.clientWidth + 1)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}.${[...e.classList].join(".")} (${e.scrollWidth - e.clientWidth}px)`);
    return { page: document.documentElement.scrollWidth - width, scrolling };
  });
}

export async function runAdminQuestions(t, check) {
  const { page, hook, scim, adminApi, show, text, waitText, shoot, createUser, patchUser, saveSettings, workDir, secrets, origin } = t;

  /** A screenshot of what the admin reads now, at both sizes (the view read again at each). */
  async function shootBoth(name, before) {
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      if (before) await before();
      await page.waitForTimeout(150);
      await shoot(`${name}-${size.name}`);
      const o = await overflowIn(page);
      assert(
        o.page <= 1 && o.scrolling.length === 0,
        `${name} at ${size.name} px scrolls sideways: page ${o.page}px; ${o.scrolling.join(", ")}`,
      );
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  const stats = async () => (await adminApi("GET", "/stats")).body;
  const eventsOf = async (id) => (await adminApi("GET", `/events?resourceId=${encodeURIComponent(id)}&limit=50`)).body.events;
  /** The Health view read again (the page reads the verdict every 30 s while shown; a reload reads it now). */
  async function healthNow() {
    await page.reload();
    await page.locator("#app").waitFor({ state: "visible" });
    await show("health");
    await page.locator("#verdict").waitFor();
  }

  await check("A refusing site: the verdict says the site refuses every change (410), since when, and what fixes it", async () => {
    hook.gone = true;
    let user;
    try {
      user = await createUser("Refusal");
      await waitFor(async () => (await eventsOf(user.id))[0]?.state === "rejected", { label: "the change refused (410)" });
      await healthNow();
      await waitText(
        "#verdict-h",
        /^The site refuses every change: it answers 410 Gone\. \d+ changes? refused for good \(last answer: HTTP 410: forced 410\)$/,
      );
      const finding = await text('#verdict-findings [data-finding="site_refusing"]');
      assert(
        /since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.test(finding) && /Redeliver all rejected events/.test(finding),
        `finding: ${finding}`,
      );
      // Every view carries it; the events list says the site's answer once.
      await show("users");
      assert(
        /refuses every change/.test(await text('#alert-banner [data-finding="site_refusing"]')),
        "the banner does not say the site refuses",
      );
      await show("events");
      await page.getByLabel("Delivery state", { exact: true }).selectOption("rejected");
      const row = page.locator(`#events-body tr[data-event-id="${(await eventsOf(user.id))[0].id}"]`);
      await row.waitFor();
      const last = await row.locator('td[data-label="Last result"]').textContent();
      assert(last === "HTTP 410: forced 410", `last result: ${last}`);
      assert(!(await text("body")).includes("HTTP 410: HTTP 410"), "the answer is said twice somewhere");
      await show("health");
      await shootBoth("scenario-refusing-site");
    } finally {
      hook.gone = false;
    }
    // The site is fixed: Redeliver all rejected, and the verdict no longer speaks of it.
    await show("events");
    await page.getByLabel("Delivery state", { exact: true }).selectOption("rejected");
    await page.getByRole("button", { name: "Redeliver all rejected events" }).click();
    await waitText("#events-msg", /[1-9]\d* rejected events? sent again/);
    await waitFor(async () => (await eventsOf(user.id))[0]?.state === "delivered", { label: "the refused change delivered" });
    await waitFor(async () => !(await stats()).verdict.findings.some((f) => f.kind === "site_refusing"), {
      label: "verdict without site_refusing",
    });
  });

  await check(
    "A down site: unreachable since the first change that did not get through, with the next attempt; delivered once it is up",
    async () => {
      hook.down = true;
      let user;
      try {
        user = await createUser("Outage");
        await waitFor(async () => (await eventsOf(user.id))[0]?.state === "retrying", { label: "the change waiting for retry (503)" });
        await healthNow();
        await waitText(
          "#verdict-h",
          /^The site is unreachable: 1 change waits for retry \(last answer: HTTP 503: down for maintenance\)$/,
        ).catch(async (err) => {
          throw new Error(`${err.message}\nfindings: ${JSON.stringify((await stats()).verdict.findings.map((f) => f.title))}`);
        });
        const finding = await text('#verdict-findings [data-finding="site_unreachable"]');
        assert(/since \d{4}-/.test(finding) && /Nothing is lost: the queue retries each change/.test(finding), `finding: ${finding}`);
        assert(/The next attempt is at \d{4}-/.test(finding), `no next attempt in: ${finding}`);
        await show("log");
        assert(
          /The site is unreachable/.test(await text('#alert-banner [data-finding="site_unreachable"]')),
          "the banner does not say the site is down",
        );
        await show("health");
        await shootBoth("scenario-down-site");
      } finally {
        hook.down = false;
      }
      await show("events");
      await page.getByLabel("Delivery state", { exact: true }).selectOption("retrying");
      await page.getByRole("button", { name: "Redeliver all retrying events" }).click();
      await waitText("#events-msg", /[1-9]\d* retrying events? sent again/);
      await waitFor(async () => (await eventsOf(user.id))[0]?.state === "delivered", { label: "the waiting change delivered" });
      await waitFor(async () => !(await stats()).verdict.findings.some((f) => f.kind === "site_unreachable" || f.kind === "retrying"), {
        label: "the verdict no longer says the site is down",
      });
    },
  );

  await check(
    "A mass deprovisioning partly undone by the IdP: held by person, why in numbers, the directory now; discard for the reactivated, release the rest",
    async () => {
      await show("settings");
      await page.getByLabel("Deprovisioning guard: deactivations and deletions delivered per hour").fill("2");
      await saveSettings();
      const mass = [];
      for (let i = 0; i < 8; i++) mass.push(await createUser(`Mass${i}`, { title: "Eng" }));
      for (const u of mass) await patchUser(u.id, { op: "replace", value: { active: false } });
      const heldRoot = async (u) => (await eventsOf(u.id)).find((e) => e.type === "user.deactivated" && e.state === "held");
      const held = [];
      for (const u of mass) if (await heldRoot(u)) held.push(u);
      assert(held.length >= 6, `${held.length} of 8 deactivations held`);
      const [back1, back2, back3, retitled, deleted] = held;
      // The IdP undoes its mistake for three; one of the held people changes title; one is deleted.
      for (const u of [back1, back2, back3]) await patchUser(u.id, { op: "replace", value: { active: true } });
      await patchUser(retitled.id, { op: "replace", path: "title", value: "Staff" });
      assert((await scim("DELETE", `/Users/${deleted.id}`)).status === 204, "DELETE the held user");
      const people = held.length;
      const heldChanges = held.length + 5;

      await show("events");
      await page.locator("#held-people").waitFor();
      await waitText("#held-people-h", new RegExp(`^Held by the deprovisioning guard: ${people} people \\(${heldChanges} changes\\)$`));
      // Counts agree: the banner, the chips and the Health tile say the same numbers.
      await waitText(
        '#alert-banner [data-finding="held"]',
        new RegExp(`${heldChanges} changes held by the deprovisioning guard for ${people} people`),
      );
      await waitText("#event-counts", new RegExp(`held: ${heldChanges}`));
      const row = (u) => page.locator(`#held-body tr[data-user-id="${u.id}"]`);
      const back = await row(back1).textContent();
      assert(/active again/.test(back) && back.includes(back1.userName), `a reactivated person: ${back}`);
      assert(
        /deactivation or deletion number \d+ within the hour; the guard lets 2 through \(maxPerHour 2; 10% of the \d+ users active when the hour began is \d+\)/.test(
          back,
        ),
        `why, in numbers: ${back}`,
      );
      assert(/deactivated, then reactivated/.test(back), `held changes: ${back}`);
      assert(
        /still deactivated/.test(await row(retitled).textContent()) && /changed while held/.test(await row(retitled).textContent()),
        "the retitled person",
      );
      assert(/deleted/.test(await row(deleted).textContent()), "the deleted person");
      await shootBoth("scenario-mass-deprovisioning");

      // Discard for the people the IdP has reactivated: the dialog says exactly what, in numbers.
      await page.getByRole("button", { name: "Discard for the 3 people the IdP has reactivated" }).click();
      await page.locator("#held-dialog").waitFor();
      const said = await text("#held-dialog");
      assert(
        said.includes(
          "Discard the held changes of 3 people: 3 deactivations, and 3 later changes of the same people, never delivered. The site keeps them as it knew them before.",
        ),
        `dialog: ${said}`,
      );
      for (const u of [back1, back2, back3]) assert(said.includes(u.userName), `the dialog does not name ${u.userName}`);
      await shootBoth("scenario-mass-deprovisioning-dialog");
      await page.locator("#held-dialog").getByRole("button", { name: "Discard 6 changes of 3 people" }).click();
      await waitText("#events-msg", /^Done: discarded 6 held changes of 3 people\.$/);
      const rest = people - 3;
      await waitText("#held-people-h", new RegExp(`^Held by the deprovisioning guard: ${rest} people \\(${heldChanges - 6} changes\\)$`));

      // Release the rest: in order; the site hears the deactivations of the rest, never of the reactivated.
      await page.getByRole("button", { name: `Release all (${rest} people)` }).click();
      await waitText(
        "#held-dialog",
        new RegExp(
          `Release the held changes of ${rest} people: the site receives ${rest} deactivations, and 2 later changes of the same people, in order\\.`,
        ),
      );
      await page
        .locator("#held-dialog")
        .getByRole("button", { name: `Release ${heldChanges - 6} changes of ${rest} people` })
        .click();
      await waitText("#events-msg", new RegExp(`^Done: released ${heldChanges - 6} held changes of ${rest} people\\.$`));
      const restRoots = await Promise.all(
        held.slice(3).map(async (u) => (await eventsOf(u.id)).find((e) => e.type === "user.deactivated")?.id),
      );
      await waitFor(() => restRoots.every((id) => hook.deliveries.some((d) => d.id === id && d.status === 204)), {
        label: "the rest's deactivations delivered",
      });
      // What the site was told about the reactivated: nothing since (no deactivation ever reached it).
      const ids = new Set(
        (await Promise.all([back1, back2, back3].map((u) => eventsOf(u.id))))
          .flat()
          .filter((e) => e.type === "user.deactivated")
          .map((e) => e.id),
      );
      assert(!hook.deliveries.some((d) => ids.has(d.id)), "a discarded deactivation reached the site");
      await waitFor(async () => (await page.locator("#held-people").count()) === 0, { label: "nothing held: the section is gone" });
      await show("settings");
      await page.getByLabel("Deprovisioning guard: deactivations and deletions delivered per hour").fill("25");
      await saveSettings();
    },
  );

  await check(
    "A deleted user: the timeline by userName shows who it was, what happened in words; the log finds it; the export names it",
    async () => {
      const stamp = Date.now().toString(36);
      const group = await scim("POST", "/Groups", {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        displayName: `Site Moderators ${stamp}`,
      });
      assert(group.status === 201, `POST /Groups: ${group.status}`);
      const dave = await createUser("Dave", { displayName: "Dave Deleted", title: "Eng" });
      await patchUser(dave.id, { op: "replace", path: "title", value: "Staff" });
      const add = await scim("PATCH", `/Groups/${group.body.id}`, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [{ op: "add", path: "members", value: [{ value: dave.id }] }],
      });
      assert(add.status === 204 || add.status === 200, `PATCH /Groups: ${add.status}`);
      await patchUser(dave.id, { op: "replace", value: { active: false } });
      assert((await scim("DELETE", `/Users/${dave.id}`)).status === 204, "DELETE dave");

      await show("timeline");
      await page.getByLabel("User id, userName or email").fill(dave.userName.toLowerCase());
      await page.getByRole("button", { name: "Show timeline" }).click();
      await waitText(
        "#timeline-msg",
        new RegExp(`^User ${dave.userName.replace(/\./g, "\\.")} was deleted; its recorded history: \\d+ entries`),
      );
      const header = await text("#timeline-user");
      assert(
        header.includes(dave.userName) && header.includes("Dave Deleted") && /Deleted: no longer in the directory/.test(header),
        `header: ${header}`,
      );
      assert(
        /Effective roleregistered/.test(header.replace(/\s+/g, "")) || /registered \(what the site is told\)/.test(header),
        `role: ${header}`,
      );
      const list = await text("#timeline-list");
      for (const words of ["deleted", "title: Eng → Staff", "deactivated", `added to Site Moderators ${stamp}`]) {
        assert(list.includes(words), `the timeline does not say "${words}": ${list.slice(0, 400)}`);
      }
      assert(!/Nothing was recorded/.test(await text("#timeline-msg")), "the timeline says nothing was recorded");
      await shootBoth("scenario-deleted-user");

      // The log finds him by his email, and names him, not a UUID.
      await show("log");
      await page.locator("#log-user").fill("");
      await page.locator("#log-outcome").selectOption("");
      await page.locator("#log-q").fill(dave.userName.toUpperCase());
      await page.locator("#log-form").getByRole("button", { name: "Search" }).click();
      await waitFor(async () => (await page.locator(`#log-body tr[data-resource-id="${dave.id}"]`).count()) >= 4, {
        label: "dave's rows found",
      });
      const first = (await page.locator(`#log-body tr[data-resource-id="${dave.id}"]`).first().textContent()) ?? "";
      assert(first.includes(dave.userName) && /deleted/.test(first), `the newest row: ${first}`);

      // The export names him on every row.
      const pad = (n) => String(n).padStart(2, "0");
      const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      await page.getByLabel("From (your local time)").fill(local(new Date(Date.now() - 3_600_000)));
      await page.getByLabel("To", { exact: true }).fill(local(new Date(Date.now() + 120_000)));
      await page.getByLabel("Format").selectOption("csv");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
      const file = join(workDir, `deleted-${download.suggestedFilename()}`);
      await download.saveAs(file);
      const lines = readFileSync(file, "utf8")
        .split("\r\n")
        .filter((l) => l.includes(dave.id));
      assert(lines.length >= 4 && lines.every((l) => l.includes(dave.userName)), `export rows: ${lines.length}, first: ${lines[0]}`);
      await page.locator("#log-q").fill("");
    },
  );

  await check(
    "A token rotation: Connect and the verdict show when the IdP moved to SCIM_BEARER_TOKEN_NEXT, and a swap made too early",
    async () => {
      const asIdP = (token) =>
        fetch(`${origin}/api/scim/v2/Users?count=1`, {
          headers: { Authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(10_000),
        });
      assert((await asIdP(secrets.SCIM_BEARER_TOKEN)).status === 200, "the old token");
      await healthNow();
      await waitText('#verdict-findings [data-finding="rotation"]', /Token rotation under way: the IdP still uses SCIM_BEARER_TOKEN/);
      // The IdP gets the new token.
      assert((await asIdP(secrets.SCIM_BEARER_TOKEN_NEXT)).status === 200, "the new token");
      await waitFor(
        async () => {
          await healthNow();
          return /the IdP has moved to SCIM_BEARER_TOKEN_NEXT/.test(await text('#verdict-findings [data-finding="rotation"]'));
        },
        { ms: 20_000, every: 500, label: "the verdict sees the IdP moved" },
      );
      assert(
        /Finish it: npx wrangler secret put SCIM_BEARER_TOKEN with the new token, then npx wrangler secret delete SCIM_BEARER_TOKEN_NEXT/.test(
          await text('#verdict-findings [data-finding="rotation"]'),
        ),
        "the rotation's next step",
      );
      await show("connect");
      await page.locator("#credentials-refresh").click();
      await waitFor(
        async () =>
          /set, accepted.*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.test(
            await text('#credentials-table tr[data-credential="SCIM_BEARER_TOKEN_NEXT"]'),
          ),
        { label: "_NEXT shown in use" },
      );
      await shootBoth("scenario-token-rotation", async () => {
        await page.locator("#credentials-h").scrollIntoViewIfNeeded();
      });
      // A swap made before an IdP moved: that IdP's token is refused, and the verdict says so.
      const stale = await asIdP("the-token-an-idp-still-has");
      assert(stale.status === 401, `a stale token: ${stale.status}`);
      await waitFor(
        async () => {
          await healthNow();
          return /SCIM requests are refused \(401\)/.test(await text("#verdict-h"));
        },
        { ms: 20_000, every: 500, label: "the verdict says requests are refused" },
      );
      assert(
        /set the token the IdP has as SCIM_BEARER_TOKEN_NEXT/.test(await text('#verdict-findings [data-finding="idp_refused"]')),
        "the fix",
      );
      await shootBoth("scenario-token-refused");
      // The IdP is let in again: no longer a problem.
      assert((await asIdP(secrets.SCIM_BEARER_TOKEN_NEXT)).status === 200, "the new token again");
      await waitFor(async () => !(await stats()).verdict.findings.some((f) => f.kind === "idp_refused"), {
        ms: 20_000,
        label: "the refusal no longer the verdict",
      });
    },
  );
}
