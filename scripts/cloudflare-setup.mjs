#!/usr/bin/env node
// `npm run setup:cloudflare`: everything a first deploy needs on a new Cloudflare account, with no
// prompt and safe to run again. It
//   1. creates the D1 database `scim` unless it exists, and writes its id into wrangler.toml;
//   2. creates the queues `scim-events` and `scim-events-dlq` unless they exist;
//   3. writes .deploy-secrets.env (mode 600, git-ignored) with fresh random secrets unless it exists.
// Then `npm run deploy -- --secrets-file .deploy-secrets.env` applies the remote migrations
// (predeploy) and creates the Worker with its secrets in one step.
// Needs `npx wrangler login`, or CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID) in the environment.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { databaseIdFrom, withDatabaseId } from "./lib/cloudflare-config.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const BIN = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "wrangler.cmd" : "wrangler");
const CONFIG = join(ROOT, "wrangler.toml");
const SECRETS = join(ROOT, ".deploy-secrets.env");
const DATABASE = "scim";
const QUEUES = ["scim-events", "scim-events-dlq"];

/** One wrangler command, non-interactive; returns { ok, out }. */
function wrangler(args, { quiet = false } = {}) {
  const r = spawnSync(BIN, args, { cwd: ROOT, env: { ...process.env, CI: "true" }, encoding: "utf8", timeout: 120_000 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (!quiet && r.status !== 0) console.error(out.slice(-2000));
  return { ok: r.status === 0, out: r.stdout ?? "" };
}

function must(args) {
  const r = wrangler(args);
  if (!r.ok) {
    console.error(`setup: \`wrangler ${args.join(" ")}\` failed; nothing after it was done.`);
    process.exit(1);
  }
  return r.out;
}

// 1. D1
let id = databaseIdFrom(must(["d1", "list", "--json"]), DATABASE);
if (id) {
  console.log(`D1 database "${DATABASE}" exists (${id}).`);
} else {
  must(["d1", "create", DATABASE]);
  id = databaseIdFrom(must(["d1", "list", "--json"]), DATABASE);
  if (!id) {
    console.error(`setup: created D1 database "${DATABASE}" but cannot find it in \`wrangler d1 list\`.`);
    process.exit(1);
  }
  console.log(`Created D1 database "${DATABASE}" (${id}).`);
}
const toml = readFileSync(CONFIG, "utf8");
const updated = withDatabaseId(toml, "DB", id);
if (updated !== toml) {
  writeFileSync(CONFIG, updated);
  console.log("Wrote its database_id into wrangler.toml (commit it: the id is not a secret).");
}

// 2. Queues
for (const queue of QUEUES) {
  if (wrangler(["queues", "info", queue], { quiet: true }).ok) {
    console.log(`Queue "${queue}" exists.`);
  } else {
    must(["queues", "create", queue]);
    console.log(`Created queue "${queue}".`);
  }
}

// 3. Secrets for the first deploy
if (existsSync(SECRETS)) {
  console.log(".deploy-secrets.env exists; left as it is.");
} else {
  const token = () => randomBytes(32).toString("base64url");
  const lines = [
    "# Secrets for `npm run deploy -- --secrets-file .deploy-secrets.env`. Keep them in your password",
    "# manager, then delete this file. SCIM_BEARER_TOKEN goes into Okta / Entra; ADMIN_TOKEN opens",
    "# /admin; MAIN_SITE_SIGNING_SECRET goes to the site, which verifies every webhook with it.",
    `SCIM_BEARER_TOKEN=${token()}`,
    `ADMIN_TOKEN=${token()}`,
    `MAIN_SITE_SIGNING_SECRET=whsec_${randomBytes(32).toString("base64")}`,
  ];
  writeFileSync(SECRETS, `${lines.join("\n")}\n`, { mode: 0o600 });
  console.log("Wrote .deploy-secrets.env with fresh random secrets (mode 600, git-ignored).");
}

console.log(`
Next:
  npm run deploy -- --secrets-file .deploy-secrets.env
Then set MAIN_SITE_URL (Workers → scim-edge → Settings → Variables; wrangler.toml has keep_vars, so
deploys keep it), open https://<worker host>/admin with ADMIN_TOKEN and turn SCIM on.`);
