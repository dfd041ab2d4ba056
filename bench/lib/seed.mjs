// Seeding a directory of N users, measured: most rows go in as SQL (rows shaped exactly as the
// service writes them), a few thousand through POST /Users (the service's own write path) and,
// when the service has it, through POST /Bulk; then one large group through POST /Groups.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { drive } from "./load.mjs";
import { scimHeaders } from "./mix.mjs";
import { GROUP_SCHEMA, groupsSql, SETTINGS_SQL, userBody, usersSql } from "./users.mjs";
import { executeSql, migrate } from "./wrangler.mjs";

const BASE_TIME = Date.parse("2026-01-01T00:00:00.000Z");
const SEED_FILE_USERS = 100_000;

/** Fresh local D1: migrations, SCIM switched on, `sqlUsers` users and `groups` small groups. */
export function seedDatabase(stateDir, sqlUsers, groups) {
  const t0 = performance.now();
  migrate(stateDir);
  executeSql(stateDir, { command: SETTINGS_SQL });
  const t1 = performance.now();
  // In files of SEED_FILE_USERS users: one file of a million would pass V8's longest string.
  const users = [];
  for (let from = 0; from < sqlUsers || (from === 0 && groups > 0); from += SEED_FILE_USERS) {
    const to = Math.min(sqlUsers, from + SEED_FILE_USERS);
    const part = usersSql(from, to, BASE_TIME);
    for (const u of part.users) users.push(u);
    const file = join(stateDir, "seed.sql");
    writeFileSync(file, `${part.sql}\n${to >= sqlUsers ? groupsSql(groups, BASE_TIME) : ""}\n`);
    executeSql(stateDir, { file, timeoutMs: 900_000 });
  }
  const t2 = performance.now();
  return { users: users.map((u) => ({ ...u, tag: "U" })), migrateMs: t1 - t0, sqlMs: t2 - t1 };
}

/** Users `from`..`to-1` (tag "H") through POST /Users with `concurrency` clients. */
export async function seedThroughPost(api, token, from, to, concurrency) {
  const users = [];
  let k = from;
  const result = await drive({
    concurrency,
    durationMs: 3_600_000,
    next: (i) => {
      if (k >= to) return null;
      const n = k++;
      return {
        method: "POST",
        url: `${api}/Users`,
        headers: scimHeaders(token, i, true),
        body: JSON.stringify(userBody("H", n)),
        expect: 201,
        onOk: (text) => users.push({ id: JSON.parse(text).id, tag: "H", i: n }),
      };
    },
  });
  return { users, result };
}

/**
 * Users `from`..`to-1` (tag "B") through POST /Bulk, `perRequest` operations a request, one
 * request at a time (a Bulk request runs its operations in order). Null when /Bulk is absent.
 */
export async function seedThroughBulk(api, token, from, to, perRequest) {
  const probe = await fetch(`${api}/Bulk`, {
    method: "POST",
    headers: scimHeaders(token, 0, true),
    body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations: [] }),
    signal: AbortSignal.timeout(30_000),
  });
  await probe.arrayBuffer();
  if (probe.status === 404 || probe.status === 405 || probe.status === 501) return null;
  const users = [];
  let k = from;
  const failures = [];
  const result = await drive({
    concurrency: 1,
    durationMs: 3_600_000,
    next: (i) => {
      if (k >= to) return null;
      const first = k;
      const last = Math.min(to, k + perRequest);
      k = last;
      const ops = [];
      for (let n = first; n < last; n++) ops.push({ method: "POST", path: "/Users", bulkId: `b${n}`, data: userBody("B", n) });
      return {
        method: "POST",
        url: `${api}/Bulk`,
        headers: scimHeaders(token, i, true),
        body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations: ops }),
        expect: 200,
        onOk: (text) => {
          for (const op of JSON.parse(text).Operations ?? []) {
            const n = Number(String(op.bulkId).slice(1));
            if (op.status === "201" && typeof op.location === "string") users.push({ id: op.location.split("/").pop(), tag: "B", i: n });
            else if (failures.length < 3)
              failures.push(`bulk op ${op.bulkId}: ${op.status} ${JSON.stringify(op.response ?? "").slice(0, 200)}`);
          }
        },
      };
    },
  });
  return { users, result, failures };
}

/** One group whose members are `memberIds`, through POST /Groups (the service's own path). */
export async function createGroup(api, token, displayName, memberIds) {
  const t0 = performance.now();
  const res = await fetch(`${api}/Groups?excludedAttributes=members`, {
    method: "POST",
    headers: scimHeaders(token, 0, true),
    body: JSON.stringify({ schemas: [GROUP_SCHEMA], displayName, members: memberIds.map((value) => ({ value })) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /Groups → ${res.status}: ${text.slice(0, 500)}`);
  return { id: JSON.parse(text).id, ms: performance.now() - t0 };
}
