#!/usr/bin/env node
// `npm run readme:generate`: the README's "Connect Okta" and "Connect Microsoft Entra ID"
// sections, written from the steps the Connect page shows (src/admin/ui/connect-steps.ts), between
// their markers, so the page and the README give the same steps. `--check` (part of `npm run
// check`; test/unit/connect-steps.test.ts checks the same in `npm test`) writes nothing and fails
// when the README differs.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = join(ROOT, "README.md");
const check = process.argv.includes("--check");
const { module: steps } = await runnerImport(join(ROOT, "src", "admin", "ui", "connect-steps.ts"), {
  configFile: false,
  logLevel: "error",
});

const original = readFileSync(README, "utf8");
const text = steps.withProviders(original);
if (text === original) {
  console.log("README.md's Connect sections match src/admin/ui/connect-steps.ts.");
} else if (check) {
  console.error(
    "README.md's Connect sections are out of date with src/admin/ui/connect-steps.ts. Run `npm run readme:generate` and commit the result.",
  );
  process.exit(1);
} else {
  writeFileSync(README, text);
  console.log("Wrote README.md's Connect sections.");
}
