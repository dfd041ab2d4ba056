#!/usr/bin/env node
// `npm run bench`: the Okta request mix against `wrangler dev` with a fresh local D1 at 10,000 and
// 100,000 users, next to two ceilings measured the same way (bench/README.md).
// `npm run bench:smoke`: the same with 300 users and ~1 s per request type (CI).
//
//   node bench/run.mjs [--smoke] [--sizes 10000,100000] [--duration 10] [--concurrency 8]
//                      [--http-seed 2000] [--bulk-seed 1000] [--group-size 10000] [--keep]
//                      [--types lookup,get,import-first,import-last,cursor-first,cursor-middle,cursor-last,co] [--roles 0]
//                      [--latency-samples 200] [--latency-pace 250] [--latency-modes push,pull] [--poll-interval 1000]
// --types runs only those request types (and the ceilings); --roles 0 skips the role
// re-evaluation, which visits every user (a 1,000,000-user run: --sizes 1000000 with both).
// Last, per size: the time from a SCIM deactivation's response to the site's receipt of
// user.deactivated, under the Okta mix, by push (a verifying receiver) and by pull (a poller at 1 s)
// (bench/lib/latency.mjs; --latency-samples 0 skips it).
// Each option can also be given as BENCH_<NAME> in the environment (BENCH_DURATION=5).
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { groupCpuMs } from "./lib/cpu.mjs";
import { deactivationLatency } from "./lib/latency.mjs";
import { drive, merge } from "./lib/load.mjs";
import { ceilingTypes, requestTypes } from "./lib/mix.mjs";
import { startPuller } from "./lib/puller.mjs";
import { crossSizeChecks, resultsTable, seedingTable } from "./lib/report.mjs";
import { createGroup, seedDatabase, seedThroughBulk, seedThroughPost } from "./lib/seed.mjs";
import { startSite } from "./lib/site.mjs";
import { buildService, ROOT, sleep, startDev, wrangler } from "./lib/wrangler.mjs";

const { values: opts } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    sizes: { type: "string" },
    duration: { type: "string" },
    concurrency: { type: "string" },
    warmup: { type: "string" },
    slice: { type: "string" },
    "http-seed": { type: "string" },
    "bulk-seed": { type: "string" },
    "group-size": { type: "string" },
    groups: { type: "string" },
    types: { type: "string" },
    roles: { type: "string" },
    "latency-samples": { type: "string" },
    "latency-pace": { type: "string" },
    "latency-modes": { type: "string" },
    "poll-interval": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});

const smoke = opts.smoke;
const setting = (name, full, small) => {
  const raw = opts[name] ?? process.env[`BENCH_${name.toUpperCase().replaceAll("-", "_")}`];
  return raw !== undefined ? raw : String(smoke ? small : full);
};
const config = {
  sizes: setting("sizes", "10000,100000", "300").split(",").map(Number),
  durationMs: Number(setting("duration", 10, 1)) * 1000,
  warmupMs: Number(setting("warmup", 1, 0.2)) * 1000,
  sliceMs: Number(setting("slice", 2, 0.5)) * 1000,
  concurrency: Number(setting("concurrency", 8, 4)),
  httpSeed: Number(setting("http-seed", 2000, 100)),
  bulkSeed: Number(setting("bulk-seed", 1000, 50)),
  groupSize: Number(setting("group-size", 10000, 300)),
  groups: Number(setting("groups", 99, 9)),
  types: setting("types", "", "").split(",").filter(Boolean),
  roles: setting("roles", 1, 1) !== "0",
  latencySamples: Number(setting("latency-samples", 200, 20)),
  latencyPaceMs: Number(setting("latency-pace", 250, 250)),
  latencyModes: setting("latency-modes", "push,pull", "push,pull").split(",").filter(Boolean),
  pollMs: Number(setting("poll-interval", 1000, 1000)),
};
if (config.latencyModes.some((m) => m !== "push" && m !== "pull"))
  throw new Error(`--latency-modes: push, pull or both, got ${opts["latency-modes"]}`);
if (config.sizes.some((n) => !Number.isInteger(n) || n < 10)) throw new Error(`--sizes: whole numbers ≥ 10, got ${opts.sizes}`);

const runTag = Date.now().toString(36);
const logDir = join(ROOT, "bench", "results");
mkdirSync(logDir, { recursive: true });
const stops = new Set();
let failed = false;

async function stopAll() {
  await Promise.all([...stops].map((s) => s()));
  stops.clear();
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    void stopAll().then(() => process.exit(130));
  });
}

/** Like `npm run dev`: .dev.vars from the example if missing (never overwritten); a token from it. */
function devToken(name = "SCIM_BEARER_TOKEN") {
  const vars = join(ROOT, ".dev.vars");
  if (!existsSync(vars)) copyFileSync(join(ROOT, ".dev.vars.example"), vars);
  const token = new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(vars, "utf8"))?.[1]?.trim();
  if (!token) throw new Error(`.dev.vars has no ${name}: the bench calls the API with it.`);
  return token;
}

/** The admin API of the service, with the admin token of .dev.vars. */
function adminApi(serviceUrl) {
  const adminToken = devToken("ADMIN_TOKEN");
  return async (method, path, body) => {
    const res = await fetch(`${serviceUrl}/admin/api${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`${method} /admin/api${path} → ${res.status}: ${await res.text()}`);
    return res.json();
  };
}

/**
 * What Entra does in "OAuth2 client credentials grant" mode: an OAuth client with a secret (made
 * through the admin API), and an access token for it from POST /oauth/token, living 6 hours so
 * that it outlasts the run. The "get-oauth" request type sends it.
 */
async function oauthAccessToken(serviceUrl) {
  const call = adminApi(serviceUrl);
  await call("PUT", "/settings", { oauthAccessTokenMinutes: 360 });
  const client = await call("POST", "/oauth/clients", { name: "Bench", type: "secret" });
  const secret = await call("POST", `/oauth/clients/${client.id}/secrets`, {});
  const res = await fetch(`${serviceUrl}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: secret.secret,
      scope: "scim",
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`POST /oauth/token → ${res.status}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/**
 * A settings change that re-evaluates every role (src/jobs/roles.ts): the big group becomes the
 * moderator group, so each of its members is promoted in the background. Measured from the
 * settings PUT to the job's end; the job row counts its chunks (two D1 round trips each).
 */
async function rolesPhase(serviceUrl, groupId, members) {
  const call = adminApi(serviceUrl);
  const t0 = performance.now();
  await call("PUT", "/settings", { allowModeratorPromotion: true, moderatorGroup: groupId });
  const deadline = Date.now() + 1_800_000;
  for (;;) {
    const job = (await call("GET", "/jobs")).jobs[0];
    if (job && job.state !== "running") {
      const seconds = (performance.now() - t0) / 1000;
      const chunks = Math.ceil(job.processed / 200) + (job.processed % 200 === 0 ? 1 : 0);
      return { seconds, members, ...job, chunks, roundTrips: 1 + 2 * chunks };
    }
    if (Date.now() > deadline) throw new Error(`role re-evaluation still running after 30 minutes: ${JSON.stringify(job)}`);
    await sleep(500);
  }
}

/** Cursors halfway through the directory and of its last page (bench/service/cursor-at.ts). */
async function deepCursors(serviceUrl, count) {
  const at = async (where) => {
    const res = await fetch(`${serviceUrl}/debug/cursor-at?at=${where}&count=${count}&excludedAttributes=groups`, {
      signal: AbortSignal.timeout(60_000),
    });
    if (res.status !== 200) throw new Error(`GET /debug/cursor-at?at=${where} → ${res.status}: ${await res.text()}`);
    return (await res.json()).cursor;
  };
  return { middle: await at("middle"), last: await at("last") };
}

/** The pull feed's token for the bench's service (a bench run's own; never a deployment's). */
const BENCH_SITE_TOKEN = `bench-site-${runTag}-${Math.random().toString(36).slice(2)}`;

/**
 * Time to the site, by push and by pull: the service is started again, for push with
 * MAIN_SITE_URL pointing at a verifying receiver in this process, for pull with SITE_API_TOKEN set,
 * siteDelivery "pull" and a poller in this process reading the feed every second; then fresh users
 * are deactivated one by one under the Okta mix.
 */
async function latencyPhase(service, startService, ctx, mode) {
  const received = new Map();
  const onEvent = (event, at) => {
    if (event.type === "user.deactivated" && !received.has(event.data.id)) received.set(event.data.id, at);
  };
  await service.stop();
  stops.delete(service.stop);
  let site;
  let started;
  if (mode === "push") {
    site = await startSite([devToken("MAIN_SITE_SIGNING_SECRET")], { onEvent });
    stops.add(site.stop);
    started = await startService(site.url);
  } else {
    started = await startService("", ["--var", `SITE_API_TOKEN:${BENCH_SITE_TOKEN}`]);
    // Caught up with what seeding and the mix published before the phase begins.
    site = await startPuller(started.url, BENCH_SITE_TOKEN, { intervalMs: config.pollMs, onEvent });
    stops.add(site.stop);
  }
  const result = await deactivationLatency({
    ctx: { ...ctx, api: `${started.url}/api/scim/v2`, run: `${ctx.run}${mode === "push" ? "l" : "p"}` },
    adminToken: devToken("ADMIN_TOKEN"),
    received,
    samples: config.latencySamples,
    paceMs: config.latencyPaceMs,
    background: Math.max(1, config.concurrency - 1),
    settings: mode === "pull" ? { siteDelivery: "pull" } : {},
  });
  await site.stop();
  stops.delete(site.stop);
  const bad = mode === "push" ? site.seen.bad : 0;
  if (result.missing || bad) {
    failed = true;
    console.error(`  latency (${mode}): ${result.missing} deactivations never reached the site, ${bad} deliveries failed verification`);
  }
  if (result.mixErrors)
    console.error(`  latency (${mode}): ${result.mixErrors} errors in the background mix, e.g. ${result.mixErrorSamples.join("; ")}`);
  const how =
    mode === "push"
      ? `${site.seen.deliveries} deliveries verified`
      : `${site.seen.events} events read in ${site.seen.polls} requests (${site.seen.retries} retried)`;
  console.log(
    `  time to the site (${mode}): ${result.arrived}/${result.samples} deactivations, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, max ${result.max.toFixed(0)} ms, under ${result.mixRps.toFixed(0)} req/s of the Okta mix; ${how}`,
  );
  return { ...result, mode, how, service: started };
}

async function d1Totals(service) {
  const res = await fetch(`${service}/debug/d1-stats`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET /debug/d1-stats → ${res.status}: is D1_STATS on?`);
  return res.json();
}

/**
 * Before the first request type: waits until the service's processes are idle (what seeding left
 * for the queue consumer and the cron is done: under 50 ms of CPU in a second, 180 s at most),
 * then warms its read paths for 2 s, and the first type follows at once (the no-D1 /healthz type
 * runs last: after its 10 s without a query the next type ran cold). Without both, the first
 * type measured paid ~1.5 ms of CPU per request more, whichever it was (GET by id 0.72x first,
 * 0.86x second).
 */
async function settle(service, types) {
  const started = Date.now();
  for (let prev = groupCpuMs(service.pid); Date.now() - started < 180_000; ) {
    await sleep(1000);
    const now = groupCpuMs(service.pid);
    if (!(now - prev >= 50)) break;
    prev = now;
  }
  const reads = types.filter((t) => ["get", "lookup", "co"].includes(t.key));
  await drive({ concurrency: config.concurrency, durationMs: 2000, next: (i) => reads[i % reads.length].next(i) });
  console.log(`  service idle and warm after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * One request type, interleaved with the single-query ceiling in slices (ceiling, type, ceiling,
 * type, …) so both see the same machine at the same time and their ratio means something when
 * the load of everything else on it changes. After each slice of the type its deferred work
 * (waitUntil, the queue consumer) is given time to finish, so it neither goes uncounted in the
 * CPU column nor slows the next ceiling slice. A type `pairedWith` another (GET by id with an
 * access token, with the static token) also runs slices of that one, alternating which goes
 * first, and is judged by the two rates in those same slices: on a shared machine the two rows'
 * ratios, measured minutes apart, differ by more than the 5% asked of them.
 */
async function phase(type, single, service, ceiling, paired) {
  if (config.warmupMs > 0) await drive({ concurrency: config.concurrency, durationMs: config.warmupMs, next: type.next });
  const settleMs = type.target?.ratio === 0.4 ? 1000 : 300;
  await sleep(settleMs);
  const before = await d1Totals(service.url);
  const runs = [];
  const pairedRuns = [];
  const ceilingRuns = [];
  let cpu = 0;
  let ceilingCpu = 0;
  const slices = Math.max(1, Math.round(config.durationMs / config.sliceMs));
  for (let k = 0; k < slices; k++) {
    let c0 = groupCpuMs(ceiling.pid);
    ceilingRuns.push(await drive({ concurrency: config.concurrency, durationMs: config.sliceMs, next: single.next }));
    ceilingCpu += groupCpuMs(ceiling.pid) - c0;
    const order = !paired ? ["type"] : k % 2 === 0 ? ["type", "paired"] : ["paired", "type"];
    let exhausted = false;
    for (const which of order) {
      if (which === "paired" && paired) {
        pairedRuns.push(await drive({ concurrency: config.concurrency, durationMs: config.sliceMs, next: paired.next }));
        await sleep(settleMs);
        continue;
      }
      c0 = groupCpuMs(service.pid);
      const run = await drive({ concurrency: config.concurrency, durationMs: config.sliceMs, next: type.next });
      runs.push(run);
      await sleep(settleMs);
      cpu += groupCpuMs(service.pid) - c0;
      exhausted = Boolean(run.exhausted);
    }
    if (exhausted) break;
  }
  for (const w of [service, ceiling]) {
    const gone = w.exited();
    if (gone) throw new Error(`wrangler dev (pid ${w.pid}) exited during ${type.key}: ${JSON.stringify(gone)}`);
  }
  const after = await d1Totals(service.url);
  const requests = after.requests - before.requests;
  // A restarted Worker starts its totals again from zero: then the deferred count is unknown.
  const sane = requests > 0 && after.deferred.roundTrips >= before.deferred.roundTrips;
  const deferred = sane ? (after.deferred.roundTrips - before.deferred.roundTrips) / requests : undefined;
  // SQL time inside D1 per request, on the path and after it: the database's share, free of
  // wrangler's per-call overhead, and the column that shows a query growing with N.
  const sqlMs = sane ? (after.onPath.sqlMs - before.onPath.sqlMs + after.deferred.sqlMs - before.deferred.sqlMs) / requests : undefined;
  // Rows D1 read per request (meta.rows_read, what D1 bills): machine-independent, it shows a
  // count or a scan that grows with the directory where throughput and time only hint at it.
  const rowsRead = sane
    ? (after.onPath.rowsRead - before.onPath.rowsRead + after.deferred.rowsRead - before.deferred.rowsRead) / requests
    : undefined;
  const result = merge(runs);
  const query = merge(ceilingRuns);
  const pairedResult = pairedRuns.length ? merge(pairedRuns) : undefined;
  for (const r of [result, query]) {
    if (!r.errors) continue;
    failed = true;
    console.error(`  ${type.key}: ${r.errors} errors, e.g.\n    ${r.errorSamples.join("\n    ")}`);
  }
  const row = {
    key: type.key,
    label: type.label,
    target: type.target,
    deferred,
    sqlMs,
    rowsRead,
    ...result,
    ratio: result.rps / query.rps,
    // Its rate over the paired type's in the same slices: how its ratio compares with that one's.
    ...(pairedResult && paired ? { paired: { key: paired.key, ratio: result.rps / pairedResult.rps } } : {}),
    cpuMs: cpu / result.requests,
  };
  const rt = result.roundTrips.mode ?? "—";
  console.log(
    `  ${type.key.padEnd(13)} ${result.rps.toFixed(0).padStart(5)} req/s (query ${query.rps.toFixed(0).padStart(4)}: ${row.ratio.toFixed(2)}×)  p50 ${result.p50.toFixed(1).padStart(6)} ms  p99 ${result.p99.toFixed(1).padStart(6)} ms  RT ${rt}  SQL ${sqlMs === undefined ? "—" : sqlMs.toFixed(2)} ms  rows ${rowsRead === undefined ? "—" : rowsRead.toFixed(0)}  CPU ${row.cpuMs.toFixed(1)} ms${result.exhausted ? "  (source exhausted)" : ""}`,
  );
  return { row, ceilingRuns, ceilingCpu };
}

async function runSize(n, bundleConfig, token) {
  console.log(`\n== N = ${n.toLocaleString("en-US")} users ==`);
  const state = mkdtempSync(join(tmpdir(), `scim-bench-${n}-`));
  const seeding = [];
  try {
    const viaHttp = Math.min(config.httpSeed, n);
    const viaBulk = Math.min(config.bulkSeed, n - viaHttp);
    const viaSql = n - viaHttp - viaBulk;
    const db = seedDatabase(state, viaSql, config.groups);
    seeding.push({
      n,
      step: `SQL file (wrangler d1 execute --local), + ${config.groups} groups`,
      users: viaSql,
      seconds: db.sqlMs / 1000,
      rate: viaSql / (db.sqlMs / 1000),
    });
    console.log(`  seeded ${viaSql} users as SQL in ${(db.sqlMs / 1000).toFixed(1)} s (migrations ${(db.migrateMs / 1000).toFixed(1)} s)`);

    const log = join(logDir, `wrangler-${runTag}-${n}.log`);
    const startService = async (siteUrl = "", extra = []) => {
      const dev = await startDev({
        name: "service",
        // .dev.vars (the tokens) stays in the repo; events are kept as undeliverable (no receiver),
        // except in the latency phase, which starts the service again with a receiver's URL (push) or
        // with SITE_API_TOKEN for a poller (pull).
        args: [
          "-c",
          bundleConfig,
          "--env-file",
          join(ROOT, ".dev.vars"),
          "--persist-to",
          state,
          "--var",
          "D1_STATS:1",
          "--var",
          `MAIN_SITE_URL:${siteUrl}`,
          ...extra,
        ],
        logFile: log,
        stateDir: state,
        readyPath: "/healthz",
      });
      stops.add(dev.stop);
      return dev;
    };
    let service = await startService();
    let api = `${service.url}/api/scim/v2`;
    console.log(`  service ${service.url} (log: ${log})`);

    const users = [...db.users];
    if (viaHttp > 0) {
      const http = await seedThroughPost(api, token, viaSql, viaSql + viaHttp, config.concurrency);
      if (http.result.errors) throw new Error(`POST /Users seeding: ${http.result.errorSamples.join("; ")}`);
      users.push(...http.users);
      seeding.push({
        n,
        step: `POST /Users, ${config.concurrency} clients`,
        users: http.users.length,
        seconds: http.result.seconds,
        rate: http.result.rps,
        p50: http.result.p50,
      });
      console.log(`  seeded ${http.users.length} users through POST /Users: ${http.result.rps.toFixed(0)}/s`);
    }
    if (viaBulk > 0) {
      const bulk = await seedThroughBulk(api, token, viaSql + viaHttp, n, 500);
      if (bulk === null) {
        console.log("  /Bulk not available: its share is seeded through POST /Users");
        const http = await seedThroughPost(api, token, viaSql + viaHttp, n, config.concurrency);
        if (http.result.errors) throw new Error(`POST /Users seeding: ${http.result.errorSamples.join("; ")}`);
        users.push(...http.users);
      } else {
        users.push(...bulk.users);
        const rate = bulk.users.length / bulk.result.seconds;
        const problems = [...bulk.result.errorSamples, ...bulk.failures];
        seeding.push({
          n,
          step: `POST /Bulk, 500 operations a request${problems.length ? " (FAILED, see the log)" : ""}`,
          users: bulk.users.length,
          seconds: bulk.result.seconds,
          rate,
          p50: bulk.result.p50,
        });
        console.log(`  seeded ${bulk.users.length} users through POST /Bulk: ${rate.toFixed(0)}/s`);
        if (problems.length) {
          // Reported and counted as an error, but the run goes on: the request mix is what it is for.
          failed = true;
          console.error(`  /Bulk seeding failed: ${problems.join("; ")}`);
        }
      }
    }
    const members = users.slice(0, Math.min(config.groupSize, users.length)).map((u) => u.id);
    const group = await createGroup(api, token, "Bench Everyone", members);
    seeding.push({
      n,
      step: `POST /Groups with ${members.length} members`,
      users: members.length,
      seconds: group.ms / 1000,
      rate: members.length / (group.ms / 1000),
    });
    console.log(`  created a ${members.length}-member group in ${group.ms.toFixed(0)} ms`);

    const count = await fetch(`${api}/Users?count=0`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
    if (count.totalResults !== n)
      console.error(`  expected ${n} users, the service counts ${count.totalResults} (a failed seeding step above)`);

    // The ceiling Worker reads a copy of the seeded database, made while the service is stopped:
    // two workerd processes on one SQLite file lock each other out (SQLITE_BUSY), in both Workers.
    await service.stop();
    stops.delete(service.stop);
    const ceilingState = join(state, "ceiling");
    cpSync(join(state, "v3", "d1"), join(ceilingState, "v3", "d1"), { recursive: true });
    service = await startService();
    api = `${service.url}/api/scim/v2`;
    const ceiling = await startDev({
      name: "ceiling",
      cwd: join(ROOT, "bench", "worker"),
      args: ["--persist-to", ceilingState],
      logFile: log,
      stateDir: ceilingState,
    });
    stops.add(ceiling.stop);
    console.log(`  service ${service.url}, ceiling ${ceiling.url} on a copy of the seeded database`);

    const ctx = {
      api,
      ceiling: ceiling.url,
      healthz: `${service.url}/healthz`,
      token,
      oauthToken: await oauthAccessToken(service.url),
      users,
      total: count.totalResults,
      groupId: group.id,
      posted: [],
      run: runTag,
    };
    ctx.cursors = await deepCursors(service.url, 100);
    const [healthz, single] = ceilingTypes(ctx);
    await settle(service, requestTypes(ctx));
    await drive({ concurrency: config.concurrency, durationMs: Math.max(config.warmupMs, 500), next: single.next });
    const rows = [];
    const ceilingRuns = [];
    let ceilingCpu = 0;
    const types = requestTypes(ctx);
    const unknown = config.types.filter((k) => !types.some((t) => t.key === k));
    if (unknown.length) throw new Error(`--types: no request type ${unknown.join(", ")} (there are ${types.map((t) => t.key).join(", ")})`);
    const chosen = config.types.length ? types.filter((t) => config.types.includes(t.key)) : types;
    for (const type of [...chosen, healthz]) {
      const p = await phase(
        type,
        single,
        service,
        ceiling,
        types.find((t) => t.key === type.pairedWith),
      );
      // The table keeps /healthz first, with the ceiling.
      if (type === healthz) rows.unshift(p.row);
      else rows.push(p.row);
      ceilingRuns.push(...p.ceilingRuns);
      ceilingCpu += p.ceilingCpu;
    }
    // The single-query ceiling: all its slices, interleaved through the whole run.
    const query = merge(ceilingRuns);
    const queryRow = { key: "single-query", label: `${single.label} (all slices)`, ...query, ratio: 1, cpuMs: ceilingCpu / query.requests };
    await ceiling.stop();
    stops.delete(ceiling.stop);
    let roles;
    if (config.roles) {
      roles = { n, ...(await rolesPhase(service.url, group.id, members.length)) };
      console.log(
        `  roles: mapping the ${roles.members}-member group re-evaluated ${roles.processed} users in ${roles.seconds.toFixed(1)} s (${roles.changed} changed), ${roles.chunks} chunks, ${roles.roundTrips} D1 round trips`,
      );
    }
    const latency = [];
    if (config.latencySamples > 0) {
      for (const mode of config.latencyModes) {
        const { service: next, ...result } = await latencyPhase(service, startService, ctx, mode);
        service = next;
        latency.push({ n, ...result });
      }
    }
    return { rows: [queryRow, ...rows], seeding, roles, latency };
  } finally {
    await stopAll();
    if (!opts.keep) rmSync(state, { recursive: true, force: true });
    else console.log(`  kept the state in ${state}`);
  }
}

async function main() {
  const started = new Date();
  const token = devToken();
  const buildDir = mkdtempSync(join(tmpdir(), "scim-bench-build-"));
  const bundleConfig = buildService(buildDir);
  const wranglerVersion = wrangler(["--version"]).trim().split("\n").pop();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, wrangler ${wranglerVersion}`;
  console.log(
    `scim-edge bench${smoke ? " (smoke)" : ""}: ${machine}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(
    `N = ${config.sizes.join(", ")}; ${config.concurrency} clients; ${config.durationMs / 1000} s per request type after ${config.warmupMs / 1000} s warm-up`,
  );

  const bySize = new Map();
  const seeding = [];
  const roles = [];
  const latencies = [];
  try {
    for (const n of config.sizes) {
      const r = await runSize(n, bundleConfig, token);
      bySize.set(n, r.rows);
      seeding.push(...r.seeding);
      if (r.roles) roles.push(r.roles);
      latencies.push(...r.latency);
    }
  } finally {
    await stopAll();
    rmSync(buildDir, { recursive: true, force: true });
  }

  const out = [];
  out.push(
    `Machine: ${machine}. Load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}.`,
  );
  out.push(
    `${config.concurrency} clients; each request type runs ${config.durationMs / 1000} s in ${config.sliceMs / 1000} s slices interleaved with slices of the single-query ceiling. ` +
      "RT = D1 round trips on the request's path, stmts = SQL statements (most frequent value of X-D1-Round-Trips / X-D1-Statements); " +
      "RT after = D1 round trips per request after the response (waitUntil); SQL ms = time D1 spent executing the request's SQL, path and after (meta.duration); " +
      "rows read = rows D1 read for it (meta.rows_read, what D1 bills); " +
      "× query = req/s over the ceiling's req/s in the neighbouring slices; " +
      "CPU = CPU ms per request of the whole wrangler dev process group (Worker, local D1, queue consumer, wrangler itself).",
  );
  for (const [n, rows] of bySize) out.push("", resultsTable(n, rows));
  out.push("", seedingTable(seeding));
  const cross = crossSizeChecks(bySize);
  if (cross.length) out.push("", ...cross);
  if (roles.length) {
    out.push(
      "",
      "Role re-evaluation after a settings change (map the big group as the moderator group), from the PUT to the job's end:",
      "",
      "| N | group members | users re-evaluated | changed | seconds | users/s | chunks | D1 round trips |",
      "|--:|--:|--:|--:|--:|--:|--:|--:|",
      ...roles.map(
        (r) =>
          `| ${r.n} | ${r.members} | ${r.processed} | ${r.changed} | ${r.seconds.toFixed(1)} | ${(r.processed / r.seconds).toFixed(0)} | ${r.chunks} | ${r.roundTrips} |`,
      ),
    );
  }
  if (latencies.length) {
    out.push(
      "",
      `Time to the site: from a deactivation's response (PATCH active=false) to the site's receipt of user.deactivated, one every ${config.latencyPaceMs} ms, under the Okta mix (${Math.max(1, config.concurrency - 1)} clients); push: a verifying receiver; pull: a poller reading the feed every ${config.pollMs} ms once caught up:`,
      "",
      "| N | by | deactivations | arrived | p50 ms | p99 ms | max ms | mix req/s | vs. 5 min (IPSIE) | site |",
      "|--:|:--|--:|--:|--:|--:|--:|--:|--:|:--|",
      ...latencies.map(
        (l) =>
          `| ${l.n} | ${l.mode} | ${l.samples} | ${l.arrived} | ${l.p50.toFixed(0)} | ${l.p99.toFixed(0)} | ${l.max.toFixed(0)} | ${l.mixRps.toFixed(0)} | p99 ${(300_000 / l.p99).toFixed(0)}× under | ${l.how} |`,
      ),
    );
  }
  const text = out.join("\n");
  console.log(`\n${text}`);
  const file = join(logDir, `bench-${smoke ? "smoke-" : ""}${started.toISOString().replaceAll(":", "-").slice(0, 19)}`);
  writeFileSync(`${file}.md`, `${text}\n`);
  const rowsOnly = Object.fromEntries([...bySize].map(([n, rows]) => [n, rows.map(({ latencies, ...r }) => r)]));
  writeFileSync(`${file}.json`, JSON.stringify({ config, machine, sizes: rowsOnly, seeding, roles, latencies }, null, 2));
  console.log(`\nSaved ${file}.md and .json`);
  if (failed) {
    console.error("Some requests failed (see above).");
    process.exitCode = 1;
  }
}

main().catch(async (err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await stopAll();
  process.exit(1);
});
