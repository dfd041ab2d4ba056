#!/usr/bin/env node
// `npm run bench:memory`: the memory a list answer costs the runtime. Seeds, straight into a fresh
// local D1, the directory whose list answers are the largest the service can give (groups of
// 10,000 members, users whose stored documents are close to the 1 MiB a request body may carry),
// runs the service under `wrangler dev`, and for each request measures the peak resident memory of
// the workerd process that runs it: the kernel's high-water mark (VmHWM), reset just before the
// request (/proc/<pid>/clear_refs), less the resident memory before it. That process also runs the
// local D1 (SQLite, and its own JavaScript copies of each result), so the figure is an upper bound.
// The Worker's own isolate is measured too, through its inspector: its V8 heap in use
// and ArrayBuffers (Runtime.getHeapUsage), polled while the request runs, over their size after a
// GC just before: polling sees the isolate between its tasks, so it is a close lower bound.
//
//   node bench/memory.mjs [--keep] [--repeat 2] [--only <part of a case's label>]
// Every measurement starts a fresh `wrangler dev`: a process keeps the memory a request once took,
// so a second request would show almost nothing.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SETTINGS_SQL } from "./lib/users.mjs";
import { buildService, executeSql, migrate, ROOT, sleep, startDev } from "./lib/wrangler.mjs";

// Node 20 has WebSocket (for the inspector) behind a flag.
if (typeof WebSocket === "undefined") {
  const r = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const { values: opts } = parseArgs({
  options: { keep: { type: "boolean", default: false }, repeat: { type: "string", default: "2" }, only: { type: "string" } },
});

const q = encodeURIComponent;
const MEMBERS = 10_000;
const BIG_GROUPS = 20;
const BIG_USERS = 200;
const AT = "2026-01-01T00:00:00.000Z";

/** 10,000 members, 20 groups holding all of them, and 200 users of ~1 MB each (100 addresses of 8 long fields). */
const SEED_SQL = `
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${MEMBERS})
INSERT INTO users (id, user_name, user_name_norm, display_name, active, role, data, version, created_at, updated_at)
SELECT 'm-' || i, 'member' || i || '@example.com', 'member' || i || '@example.com', 'Member Number ' || i, 1, 'registered',
       json_object('userName', 'member' || i || '@example.com', 'displayName', 'Member Number ' || i), 1, '${AT}', '${AT}' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BIG_GROUPS})
INSERT INTO groups (id, display_name, display_name_norm, data, version, created_at, updated_at)
SELECT 'g-' || i, 'Big ' || i, 'big ' || i, json_object('displayName', 'Big ' || i), 1, '${AT}', '${AT}' FROM n;
INSERT INTO group_members (group_id, user_id, added_at) SELECT g.id, u.id, '${AT}' FROM groups g, users u WHERE u.id LIKE 'm-%';
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BIG_USERS}),
  a(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM a WHERE j < 100)
INSERT INTO users (id, user_name, user_name_norm, active, role, data, version, created_at, updated_at)
SELECT 'b-' || i, 'big' || i || '@example.com', 'big' || i || '@example.com', 1, 'registered',
       json_object('userName', 'big' || i || '@example.com', 'addresses', (SELECT json_group_array(json_object(
         'formatted', hex(randomblob(600)), 'streetAddress', hex(randomblob(600)), 'locality', hex(randomblob(600)),
         'region', hex(randomblob(600)), 'postalCode', hex(randomblob(600)), 'country', hex(randomblob(600)),
         'type', 'work', 'primary', json('false'))) FROM a)), 1, '${AT}', '${AT}' FROM n;
`;

const status = (pid) => readFileSync(`/proc/${pid}/status`, "utf8");
const kb = (text, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);

/** The workerd processes of a process group (the runtime wrangler dev starts). */
function workerdPids(pgid) {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(f[2]) === pgid && readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("workerd");
      } catch {
        return false;
      }
    });
}

/** A DevTools protocol session with the Worker's isolate, through wrangler's inspector proxy (it wants an Origin). */
async function inspect(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { Origin: `http://127.0.0.1:${port}` } });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", () => reject(new Error(`inspector 127.0.0.1:${port}: no connection`)));
  });
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(String(e.data));
    pending.get(m.id)?.(m.result);
    pending.delete(m.id);
  });
  // An answer that never comes (the connection lost) gives undefined after 10 s instead of hanging.
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      const mine = ++id;
      const timer = setTimeout(() => {
        pending.delete(mine);
        resolve(undefined);
      }, 10_000);
      pending.set(mine, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  return { call, close: () => ws.close() };
}

/** What the isolate holds: its JavaScript heap in use and the ArrayBuffers' backing stores (bodies, D1 results). */
const held = (usage) => (usage ? usage.usedSize + (usage.backingStorageSize ?? 0) : 0);

/** One request: status, bytes, time, and per workerd process the resident memory before and its peak during. */
async function measure(url, token, allPids, payload, isolate) {
  const pids = allPids.filter((pid) => existsSync(`/proc/${pid}`));
  let heapBase = 0;
  let heapPeak = 0;
  let polling = false;
  let poller;
  if (isolate) {
    await isolate.call("HeapProfiler.collectGarbage");
    heapBase = held(await isolate.call("Runtime.getHeapUsage"));
    polling = true;
    poller = (async () => {
      while (polling) heapPeak = Math.max(heapPeak, held(await isolate.call("Runtime.getHeapUsage")));
    })();
  }
  const before = pids.map((pid) => {
    writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current VmRSS
    return kb(status(pid), "VmRSS");
  });
  const t0 = performance.now();
  const res = await fetch(url, {
    method: payload ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/scim+json" },
    body: payload ? JSON.stringify(payload) : undefined,
    signal: AbortSignal.timeout(120_000),
  });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  await sleep(200);
  const peaks = pids.map((pid, i) => kb(status(pid), "VmHWM") - (before[i] ?? 0));
  polling = false;
  await poller;
  return {
    status: res.status,
    bytes: body.byteLength,
    ms,
    peakMb: Math.max(...peaks) / 1024,
    rssMb: Math.max(...before) / 1024,
    heapMb: isolate ? Math.max(0, heapPeak - heapBase) / 2 ** 20 : NaN,
    body,
  };
}

async function main() {
  const token = /^SCIM_BEARER_TOKEN=(.*)$/m.exec(readFileSync(join(ROOT, ".dev.vars.example"), "utf8"))?.[1]?.trim();
  if (!token) throw new Error(".dev.vars.example has no SCIM_BEARER_TOKEN");
  const state = mkdtempSync(join(tmpdir(), "scim-memory-"));
  const build = mkdtempSync(join(tmpdir(), "scim-memory-build-"));
  let dev;
  try {
    const config = buildService(build);
    migrate(state);
    executeSql(state, { command: SETTINGS_SQL });
    const file = join(state, "seed.sql");
    writeFileSync(file, SEED_SQL);
    executeSql(state, { file, timeoutMs: 900_000 });
    const start = () =>
      startDev({
        name: "service",
        args: ["-c", config, "--env-file", join(ROOT, ".dev.vars.example"), "--persist-to", state, "--var", "MAIN_SITE_URL:"],
        logFile: join(state, "wrangler.log"),
        stateDir: state,
        readyPath: "/healthz",
      });
    const groups = q('displayName sw "Big"');
    const big = q('userName sw "big"');
    // Each: the request measured, and a small one of the same path that warms it first.
    const cases = [
      [
        "GET /Groups?count=20: 20 groups of 10,000 members",
        `/Groups?count=20&filter=${groups}`,
        `/Groups?count=1&filter=${groups}&excludedAttributes=members`,
      ],
      [
        "the same by cursor (first page)",
        `/Groups?count=20&cursor=&filter=${groups}`,
        `/Groups?count=1&cursor=&filter=${groups}&excludedAttributes=members`,
      ],
      ["GET /Groups/{id}: one group of 10,000 members", "/Groups/g-1", "/Groups/g-2?excludedAttributes=members"],
      ["GET /Users?count=200: 200 users of ~0.7 MB", `/Users?count=200&filter=${big}`, `/Users?count=1&filter=${big}`],
      ["the same by cursor (first page)", `/Users?count=200&cursor=&filter=${big}`, `/Users?count=1&cursor=&filter=${big}`],
      ["POST /.search by cursor: those users and groups", "search", `/Users?count=1&cursor=&filter=${big}`],
      [
        "GET /Users?count=200 of members, with their 20 groups each",
        `/Users?count=200&filter=${q('userName sw "member"')}`,
        "/Users?count=1",
      ],
    ];
    const repeat = Number(opts.repeat);
    const rows = [];
    for (const [label, path, warm] of cases.filter(([label]) => !opts.only || label.includes(opts.only))) {
      const runs = [];
      // A fresh runtime for every measurement: memory a request has once taken is kept by the process.
      for (let k = 0; k < repeat; k++) {
        dev = await start();
        const api = `${dev.url}/api/scim/v2`;
        await sleep(1000); // wrangler may still replace its first runtime process
        const pids = workerdPids(dev.pid);
        if (!pids.length) throw new Error("no workerd process found under wrangler dev");
        const isolate = await inspect(dev.inspectorPort);
        await measure(`${api}${warm}`, token, pids);
        await sleep(500);
        const request =
          path === "search"
            ? { url: `${api}/.search`, body: { filter: 'userName sw "big" or displayName sw "Big"', count: 200, cursor: "" } }
            : { url: `${api}${path}` };
        runs.push(await measure(request.url, token, pids, request.body, isolate));
        isolate.close();
        await dev.stop();
        dev = undefined;
      }
      const last = runs[runs.length - 1];
      let detail = "";
      try {
        const json = JSON.parse(new TextDecoder().decode(last.body));
        detail =
          last.status === 200
            ? `${json.itemsPerPage ?? 1} resource(s)${json.nextCursor ? ", nextCursor" : ""}`
            : `${json.scimType ?? ""}: ${String(json.detail).slice(0, 60)}…`;
      } catch {
        detail = "(not JSON)";
      }
      const peak = Math.max(...runs.map((r) => r.peakMb));
      const ms = runs.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
      const rss = Math.min(...runs.map((r) => r.rssMb));
      const heap = Math.max(...runs.map((r) => r.heapMb));
      rows.push({ label, status: last.status, bytes: last.bytes, ms, peak, rss, heap, detail });
      console.log(
        `${label.padEnd(58)} ${last.status}  ${(last.bytes / 2 ** 20).toFixed(2).padStart(7)} MiB  ${ms.toFixed(0).padStart(6)} ms  workerd +${peak.toFixed(1).padStart(6)} MB over ${rss.toFixed(0)} MB  isolate heap +${heap.toFixed(1).padStart(5)} MB  ${detail}`,
      );
    }
    const table = [
      "| request | status | answer | time | the Worker's heap, peak over its size before | workerd (with the local D1), peak over its resident memory before |",
      "| :-- | --: | --: | --: | --: | --: |",
      ...rows.map(
        (r) =>
          `| ${r.label} (${r.detail}) | ${r.status} | ${(r.bytes / 2 ** 20).toFixed(2)} MiB | ${r.ms.toFixed(0)} ms | +${r.heap.toFixed(1)} MB | +${r.peak.toFixed(1)} MB (from ${r.rss.toFixed(0)} MB) |`,
      ),
    ].join("\n");
    console.log(`\n${table}`);
  } finally {
    await dev?.stop();
    rmSync(build, { recursive: true, force: true });
    if (!opts.keep) rmSync(state, { recursive: true, force: true });
    else console.log(`kept ${state}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
