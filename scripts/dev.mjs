#!/usr/bin/env node
// `npm run dev [-- <wrangler dev flags>]`: the whole service on http://127.0.0.1:8787 under
// miniflare, with the local D1 migrated, SCIM switched on and a dev token in .dev.vars.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";

const args = process.argv.slice(2);
const wrangler = process.platform === "win32" ? "wrangler.cmd" : "wrangler";
const bin = new URL("../node_modules/.bin/" + wrangler, import.meta.url).pathname;

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local secrets; never commit it).");
}

// The state directory must be the same for the migrations and for `wrangler dev`.
const persistIndex = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
const persist =
  persistIndex === -1 ? [] : args[persistIndex].includes("=") ? [args[persistIndex]] : ["--persist-to", args[persistIndex + 1]];

function run(cmdArgs) {
  const r = spawnSync(bin, cmdArgs, { stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (r.status !== 0) {
    console.error(`wrangler ${cmdArgs.join(" ")} failed`);
    process.exit(r.status ?? 1);
  }
}

run(["d1", "migrations", "apply", "DB", "--local", ...persist]);

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
const has = (flag) => args.some((a) => a === flag || a.startsWith(flag + "="));
const defaults = [...(has("--ip") ? [] : ["--ip", "127.0.0.1"]), ...(has("--port") ? [] : ["--port", "8787"])];
const portArg = args.find((a) => a.startsWith("--port"));
const port = portArg?.includes("=") ? portArg.split("=")[1] : portArg ? args[args.indexOf(portArg) + 1] : "8787";
console.log(`\nSCIM base URL: http://127.0.0.1:${port}/api/scim/v2   admin page: http://127.0.0.1:${port}/admin`);
if (token) console.log(`Try: curl -H "Authorization: Bearer ${token}" http://127.0.0.1:${port}/api/scim/v2/Users\n`);

const child = spawn(bin, ["dev", ...defaults, ...args], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
