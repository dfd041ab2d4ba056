#!/usr/bin/env node
// `npm run events:generate`: what the event catalog (src/events/catalog.ts) publishes, written
// from it: one JSON Schema per event type (site-sdk/schemas/<type>.json, shipped with the receiver
// SDK) and the table of event types in docs/webhooks.md (between its event-types markers).
// `--check` (part of `npm run check`) writes nothing and fails when a committed file differs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCHEMAS = join(ROOT, "site-sdk", "schemas");
const DOCS = join(ROOT, "docs", "webhooks.md");
const START = "<!-- event-types:start (npm run events:generate writes this table from src/events/catalog.ts) -->";
const END = "<!-- event-types:end -->";

const check = process.argv.includes("--check");
// The catalog is TypeScript; Vite's module runner loads it as the Worker's build would.
const { module: catalog } = await runnerImport(join(ROOT, "src", "events", "catalog.ts"), { configFile: false, logLevel: "error" });

/** Every file the catalog makes, by path: its text. */
function expected() {
  const files = new Map();
  for (const type of catalog.EVENT_TYPES) {
    files.set(join(SCHEMAS, `${type}.json`), `${JSON.stringify(catalog.jsonSchemaOf(type), null, 2)}\n`);
  }
  const rows = catalog.EVENT_TYPES.map((type) => `| \`${type}\` | ${catalog.EVENT_CATALOG[type].sent} | ${catalog.dataFieldsOf(type)} |`);
  const table = [START, "| `type` | sent when | `data` besides `id` and `version` |", "| --- | --- | --- |", ...rows, END].join("\n");
  const docs = readFileSync(DOCS, "utf8");
  const from = docs.indexOf(START);
  const to = docs.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${DOCS} has no event-types markers: put "${START}" and "${END}" where the table goes.`);
  files.set(DOCS, formatted(DOCS, docs.slice(0, from) + table + docs.slice(to + END.length)));
  return files;
}

/** The text as `npm run format` leaves it (Biome aligns Markdown tables), so lint and this agree. */
function formatted(path, text) {
  const biome = join(ROOT, "node_modules", ".bin", "biome");
  const r = spawnSync(biome, ["format", "--colors=off", `--stdin-file-path=${path}`], { cwd: ROOT, input: text, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`biome format ${path} failed:\n${r.stderr}`);
  return r.stdout;
}

const files = expected();
const stale = [];
for (const [path, text] of files) {
  const current = existsSync(path) ? readFileSync(path, "utf8") : null;
  if (current === text) continue;
  stale.push(path.slice(ROOT.length));
  if (!check) {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
}
// A schema of a type the catalog no longer has.
for (const name of existsSync(SCHEMAS) ? readdirSync(SCHEMAS) : []) {
  const path = join(SCHEMAS, name);
  if (files.has(path)) continue;
  stale.push(path.slice(ROOT.length));
  if (!check) rmSync(path);
}

if (check && stale.length) {
  console.error(`Out of date with src/events/catalog.ts: ${stale.join(", ")}. Run \`npm run events:generate\` and commit the result.`);
  process.exit(1);
}
console.log(
  check
    ? `The event schemas and the docs table match src/events/catalog.ts (${catalog.EVENT_TYPES.length} types).`
    : stale.length
      ? `Wrote ${stale.join(", ")}.`
      : "Nothing to write: everything matches src/events/catalog.ts.",
);
