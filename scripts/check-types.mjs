#!/usr/bin/env node
// Part of `npm run check`: src/worker-configuration.d.ts (from `npm run cf-typegen`) must be what
// `wrangler types` makes of wrangler.toml and .dev.vars.example now. (`wrangler types --check`
// cannot be used: it ignores --env-file, so it always calls these types out of date.) That the
// generated bindings agree with src/env.ts is checked by the type checker: test/types/bindings.ts.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const BIN = join(ROOT, "node_modules", ".bin", "wrangler");
const COMMITTED = "src/worker-configuration.d.ts";
const FRESH = "src/worker-configuration.fresh.d.ts";

const r = spawnSync(BIN, ["types", FRESH, "--include-runtime=false", "--env-file", ".dev.vars.example"], {
  cwd: ROOT,
  env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  encoding: "utf8",
  timeout: 120_000,
});
// The header line names the command (and so the file); everything after it must be the same.
const body = (file) => readFileSync(join(ROOT, file), "utf8").split("\n").slice(2).join("\n");
try {
  if (r.status !== 0) throw new Error(`wrangler types failed:\n${r.stderr}${r.stdout}`);
  if (body(FRESH) !== body(COMMITTED)) {
    console.error(`${COMMITTED} is out of date with wrangler.toml / .dev.vars.example: run \`npm run cf-typegen\` and commit it.`);
    process.exit(1);
  }
  console.log(`${COMMITTED} matches wrangler.toml and .dev.vars.example.`);
} finally {
  rmSync(join(ROOT, FRESH), { force: true });
}
