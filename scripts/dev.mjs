#!/usr/bin/env node
// `npm run dev [-- <wrangler dev flags>]`: the whole service on http://127.0.0.1:8787 under
// miniflare, with the local D1 migrated, SCIM switched on, a dev token in .dev.vars, and the
// cron trigger fired every minute (wrangler dev never fires cron triggers by itself).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { buildAdmin } from "./build-admin.mjs";

const args = process.argv.slice(2);
const wrangler = process.platform === "win32" ? "wrangler.cmd" : "wrangler";
const bin = new URL(`../node_modules/.bin/${wrangler}`, import.meta.url).pathname;
/** The cron of wrangler.toml's [triggers]: the outbox sweeper and the retention prune. */
const CRON = "* * * * *";
const CRON_EVERY_MS = 60_000;

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local secrets; never commit it).");
}

/** The value of `--flag value` or `--flag=value` among the arguments, if given. */
function flagValue(flag) {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i === -1) return undefined;
  return args[i].includes("=") ? args[i].slice(flag.length + 1) : args[i + 1];
}

// The state directory must be the same for the migrations and for `wrangler dev`.
const persistTo = flagValue("--persist-to");
const persist = persistTo === undefined ? [] : ["--persist-to", persistTo];

function run(cmdArgs) {
  const r = spawnSync(bin, cmdArgs, { stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (r.status !== 0) {
    console.error(`wrangler ${cmdArgs.join(" ")} failed`);
    process.exit(r.status ?? 1);
  }
}

run(["d1", "migrations", "apply", "DB", "--local", ...persist]);

// The admin page (src/admin/ui/) is served from dist/assets/admin/: build it, then keep rebuilding
// it on every change; wrangler dev serves each new build (reload the page to see it).
await buildAdmin({ quiet: true });
const pageWatcher = await buildAdmin({ watch: true, quiet: true });

// SCIM starts switched off in a new deployment (the safe default); locally it starts on, once.
// Keys left out take their defaults (src/settings/model.ts).
const settings = JSON.stringify({ scimEnabled: true });
run([
  "d1",
  "execute",
  "DB",
  "--local",
  ...persist,
  "--command",
  `INSERT OR IGNORE INTO settings (id, data, updated_at) VALUES (1, '${settings}', strftime('%Y-%m-%dT%H:%M:%fZ','now'))`,
]);

const token = /^SCIM_BEARER_TOKEN=(.*)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
const ip = flagValue("--ip") ?? "127.0.0.1";
const port = flagValue("--port") ?? "8787";
const defaults = [
  ...(flagValue("--ip") === undefined ? ["--ip", ip] : []),
  ...(flagValue("--port") === undefined ? ["--port", port] : []),
  // Exposes /__scheduled, which the timer below calls to run the cron handler locally.
  ...(args.includes("--test-scheduled") ? [] : ["--test-scheduled"]),
];
const origin = `http://${ip === "0.0.0.0" ? "127.0.0.1" : ip}:${port}`;
console.log(`\nSCIM base URL: ${origin}/api/scim/v2   admin page: ${origin}/admin`);
if (token) console.log(`Try: curl -H "Authorization: Bearer ${token}" ${origin}/api/scim/v2/Users`);
console.log("The cron handler (outbox sweeper, log and event retention) runs every minute, as in production.\n");

const child = spawn(bin, ["dev", ...defaults, ...args], { stdio: "inherit" });

// wrangler dev does not fire cron triggers; /__scheduled (from --test-scheduled) runs the same
// scheduled handler production runs every minute, so a failed event is re-sent locally too.
const cron = setInterval(async () => {
  try {
    const res = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent(CRON)}`, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    if (!res.ok) console.warn(`[dev] scheduled handler answered ${res.status}`);
  } catch {
    // not listening yet, or restarting: the next minute tries again
  }
}, CRON_EVERY_MS);

for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => {
  clearInterval(cron);
  if (pageWatcher && typeof pageWatcher.close === "function") void pageWatcher.close();
  process.exit(code ?? 0);
});
