#!/usr/bin/env node
// `npm run test:browser`: the admin page in a real headless Chromium against a real local
// `wrangler dev` (the page built fresh, a fresh D1 in a temp dir, its own secrets, a stand-in
// main site for webhooks and a stand-in Cloudflare Access team for sign-in). Prints
// "browser: N passed, M failed" last and exits non-zero on any failure. Always stops wrangler,
// the browser and the stand-ins, and removes the temp dir.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { migrate, ROOT, startDev } from "../../bench/lib/wrangler.mjs";
import { buildAdmin } from "../../scripts/build-admin.mjs";
import { chromiumExecutable } from "./chromium.mjs";
import { closeServer, randomToken, startAccessTeam, startHook, tail, withTimeout } from "./lib.mjs";
import { runScenarios } from "./scenarios.mjs";

const OVERALL_MS = 480_000;
const CHECK_MS = 60_000;

const results = [];
let dev;
let browser;
let hook;
let access;
let workDir;
let cleaned = false;

async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await withTimeout(browser?.close() ?? Promise.resolve(), 10_000, "closing the browser").catch((e) => console.error(String(e)));
  await dev?.stop();
  await closeServer(hook?.server);
  await closeServer(access?.server);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

function finish(code) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(code !== 0 || failed > 0 || passed === 0 ? 1 : 0);
}

/** One named check, bounded; a failure is recorded and the run goes on to the next check. */
async function check(name, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), CHECK_MS, name);
    results.push({ name, ok: true });
    console.log(`  ok   ${name}`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(
      `  FAIL ${name}\n       ${String(err instanceof Error ? err.message : err)
        .split("\n")
        .join("\n       ")}`,
    );
  }
}

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    console.log(`browser: interrupted (${sig})`);
    results.push({ name: "interrupted", ok: false });
    cleanup().finally(() => finish(1));
  });
}

const watchdog = setTimeout(() => {
  console.log(`browser: the whole run exceeded ${OVERALL_MS / 1000} s`);
  results.push({ name: "overall timeout", ok: false });
  cleanup().finally(() => finish(1));
}, OVERALL_MS);

async function main() {
  const chromiumBinary = await chromiumExecutable();
  console.log(`browser: Chromium from ${chromiumBinary.source} (${chromiumBinary.path})`);
  console.log("browser: building the admin page");
  await buildAdmin({ quiet: true });
  workDir = mkdtempSync(join(tmpdir(), "scim-browser-"));
  const persistDir = join(workDir, "state");
  const envFile = join(workDir, "secrets.env");
  const logFile = join(workDir, "wrangler.log");
  const artifacts = join(ROOT, "test/browser/artifacts");
  mkdirSync(artifacts, { recursive: true });

  // Our own secrets for this run: the developer's .dev.vars is neither read nor written.
  const secrets = {
    SCIM_BEARER_TOKEN: randomToken("scim"),
    ADMIN_TOKEN: randomToken("admin"),
    MAIN_SITE_SIGNING_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
  };
  writeFileSync(
    envFile,
    `${Object.entries(secrets)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );

  console.log("browser: migrating a fresh local D1");
  migrate(persistDir);
  hook = await startHook();
  access = await startAccessTeam(`aud-${randomBytes(8).toString("hex")}`);
  console.log("browser: starting wrangler dev");
  const vars = { MAIN_SITE_URL: hook.url, ACCESS_TEAM_DOMAIN: access.teamDomain, ACCESS_AUD: access.audience };
  dev = await startDev({
    name: "browser",
    args: ["--persist-to", persistDir, "--env-file", envFile, ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
    logFile,
    stateDir: workDir,
    readyPath: "/healthz",
    timeoutMs: 90_000,
  }).catch((err) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${tail(logFile)}`);
  });
  const origin = dev.url;
  console.log(`browser: wrangler dev on ${origin}`);

  browser = await withTimeout(
    chromium.launch({
      executablePath: chromiumBinary.path,
      timeout: 30_000,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }),
    40_000,
    "launching Chromium",
  );
  // A real browser's language: with LANG=C this Chromium reports "en-US@posix", which Intl (and
  // so uPlot, at load) refuses as a language tag.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);

  await runScenarios({ browser, page, context, origin, secrets, hook: hook.state, access, artifacts, workDir }, check);
  await check("every delivery the stand-in site received matches the published schema of its type", async () => {
    if (hook.state.deliveries.length === 0) throw new Error("the stand-in site received no delivery");
    if (hook.state.schemaProblems.length) throw new Error(hook.state.schemaProblems.slice(0, 5).join("\n"));
  });

  if (results.some((r) => !r.ok)) console.log(`--- wrangler dev log (last lines) ---\n${tail(logFile, 30)}`);
}

let code = 0;
try {
  await main();
} catch (err) {
  console.log(`browser: setup failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  results.push({ name: "setup", ok: false });
  code = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
finish(code);
