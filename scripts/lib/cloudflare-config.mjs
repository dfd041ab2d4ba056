// Pure helpers of scripts/cloudflare-setup.mjs (unit-tested in test/unit/cloudflare-config.test.ts).

/** The `database_id` placeholder wrangler.toml ships with, before `npm run setup:cloudflare`. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

/** The uuid of the database called `name` in `wrangler d1 list --json` output, or undefined. */
export function databaseIdFrom(listJson, name) {
  let parsed;
  try {
    parsed = JSON.parse(listJson);
  } catch {
    throw new Error(`wrangler d1 list --json printed something that is not JSON: ${String(listJson).slice(0, 200)}`);
  }
  if (!Array.isArray(parsed)) throw new Error("wrangler d1 list --json did not print a list");
  const found = parsed.find((db) => db && typeof db === "object" && db.name === name);
  return typeof found?.uuid === "string" ? found.uuid : undefined;
}

/**
 * wrangler.toml with the `database_id` of the [[d1_databases]] block whose binding is `binding`
 * set to `id`. Everything else, comments included, is left as it is. Throws if there is no such
 * block or it has no database_id line, rather than guessing where to write.
 */
export function withDatabaseId(toml, binding, id) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new Error(`not a D1 database id: ${id}`);
  const lines = toml.split("\n");
  let inBlock = false;
  let blockHasBinding = false;
  let idLine = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.startsWith("[")) {
      if (inBlock && blockHasBinding) break;
      inBlock = line === "[[d1_databases]]";
      blockHasBinding = false;
      idLine = -1;
      continue;
    }
    if (!inBlock) continue;
    if (new RegExp(`^binding\\s*=\\s*"${binding}"`).test(line)) blockHasBinding = true;
    if (/^database_id\s*=/.test(line)) idLine = i;
  }
  if (!inBlock || !blockHasBinding) throw new Error(`wrangler.toml has no [[d1_databases]] block with binding = "${binding}"`);
  if (idLine === -1) throw new Error(`the [[d1_databases]] block of ${binding} in wrangler.toml has no database_id line`);
  lines[idLine] = lines[idLine].replace(/database_id\s*=\s*"[^"]*"/, `database_id = "${id}"`);
  return lines.join("\n");
}
