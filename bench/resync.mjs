#!/usr/bin/env node
// `npm run bench:resync`: a full resync (POST /admin/api/resync) of N users and a few groups (one
// of 10,000 members) under `wrangler dev` with a fresh local D1, to a receiver in this process that
// verifies every delivery and keeps the site's replica with the site SDK (bench/lib/site.mjs). Reports events per second end to end (from the POST to the last
// delivery) and D1 round trips per 1,000 users (every queue batch's calls: the resync's chunks and
// the deliveries), and checks the replica holds every user and group.
//
//   node bench/resync.mjs [--users 100000] [--groups 9] [--group-size 10000] [--keep]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { seedDatabase } from "./lib/seed.mjs";
import { startSite } from "./lib/site.mjs";
import { buildService, executeSql, ROOT, sleep, startDev, wrangler } from "./lib/wrangler.mjs";

const { values: opts } = parseArgs({
  options: {
    users: { type: "string", default: "100000" },
    groups: { type: "string", default: "9" },
    "group-size": { type: "string", default: "10000" },
    keep: { type: "boolean", default: false },
  },
});
const users = Number(opts.users);
const groups = Number(opts.groups);
const groupSize = Math.min(Number(opts["group-size"]), users);
if (!Number.isInteger(users) || users < 1) throw new Error(`--users: a whole number ≥ 1, got ${opts.users}`);

/** A variable of .dev.vars (made from the example by `npm run dev`), else of the example. */
function devVar(name) {
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    const path = join(ROOT, file);
    if (!existsSync(path)) continue;
    const value = new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(path, "utf8"))?.[1]?.trim();
    if (value) return { value, file: path };
  }
  throw new Error(`neither .dev.vars nor .dev.vars.example has ${name}`);
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${wrangler(["--version"]).trim().split("\n").pop()}`;
  console.log(`resync bench: ${users.toLocaleString("en-US")} users, ${groups} groups (one of ${groupSize} members); ${machine}`);
  const buildDir = mkdtempSync(join(tmpdir(), "scim-resync-build-"));
  const state = mkdtempSync(join(tmpdir(), "scim-resync-"));
  const logDir = join(ROOT, "bench", "results");
  mkdirSync(logDir, { recursive: true });
  const stops = [];
  try {
    const config = buildService(buildDir);
    const seeded = seedDatabase(state, users, groups);
    executeSql(state, {
      command: `INSERT INTO group_members (group_id, user_id, added_at) SELECT (SELECT id FROM groups ORDER BY seq LIMIT 1), id, '2026-01-01T00:00:00.000Z' FROM users ORDER BY seq LIMIT ${groupSize}`,
    });
    console.log(`  seeded in ${(seeded.sqlMs / 1000).toFixed(1)} s`);
    const site = await startSite([devVar("MAIN_SITE_SIGNING_SECRET").value]);
    stops.push(site.stop);
    const vars = devVar("ADMIN_TOKEN");
    const log = join(logDir, `wrangler-resync-${Date.now().toString(36)}.log`);
    const dev = await startDev({
      name: "service",
      args: [
        "-c",
        config,
        "--env-file",
        vars.file,
        "--persist-to",
        state,
        "--test-scheduled",
        "--var",
        "D1_STATS:1",
        "--var",
        `MAIN_SITE_URL:${site.url}`,
      ],
      logFile: log,
      stateDir: state,
      readyPath: "/healthz",
    });
    stops.push(dev.stop);
    const call = async (method, path) => {
      const res = await fetch(`${dev.url}${path}`, { method, headers: { Authorization: `Bearer ${vars.value}` } });
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${await res.text()}`);
      return res.json();
    };
    // As in production (and `npm run dev`), the cron runs every minute: it resumes a job whose
    // message was lost and re-sends events nobody confirmed.
    let crons = 0;
    const cron = setInterval(() => {
      crons++;
      fetch(`${dev.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => undefined);
    }, 60_000);
    stops.push(async () => clearInterval(cron));
    const before = await call("GET", "/debug/d1-stats");
    const t0 = performance.now();
    const started = await call("POST", "/admin/api/resync");
    let report;
    for (let polls = 0; ; polls++) {
      await sleep(1000);
      const { current, last } = await call("GET", "/admin/api/resync");
      const run = current ?? last;
      if (polls % 15 === 0)
        console.log(
          `  ${((performance.now() - t0) / 1000).toFixed(0)} s: visited ${run.visited}/${run.total}, delivered ${run.events.delivered}`,
        );
      if (!current && last?.id === started.id && last.events.waiting === 0) {
        report = last;
        break;
      }
      if (performance.now() - t0 > 3 * 3600_000) throw new Error(`resync not done after 3 hours: ${JSON.stringify(run)}`);
    }
    const seconds = (site.seen.last - t0) / 1000;
    const after = await call("GET", "/debug/d1-stats");
    const roundTrips = after.background.roundTrips - before.background.roundTrips;
    const batches = after.batches - before.batches;
    const chunks = Math.ceil(users / 200) + 1 + Math.ceil(groups / 50);
    const missing = users - Object.keys(site.replica.snapshot().users).length;
    const lines = [
      `Resync of ${users.toLocaleString("en-US")} users and ${groups} groups (one of ${groupSize} members) under wrangler dev, to a verifying receiver on the same machine (${machine}):`,
      "",
      "| users | groups | events | delivered | seconds (POST → last delivery) | events/s | queue batches | D1 round trips | D1 round trips per 1,000 users | replica |",
      "|--:|--:|--:|--:|--:|--:|--:|--:|--:|:--|",
      `| ${users} | ${groups} | ${report.emitted} | ${report.events.delivered} | ${seconds.toFixed(1)} | ${(report.emitted / seconds).toFixed(0)} | ${batches} | ${roundTrips} | ${((roundTrips / users) * 1000).toFixed(0)} | ${missing === 0 && site.seen.bad === 0 ? "every user and group, every signature valid" : `${missing} users missing, ${site.seen.bad} bad signatures`} |`,
      "",
      `About ${chunks} resync chunks (2 round trips each); the rest are the consumer's: one read per batch of up to 50 events and one update per delivered event. The cron ran ${crons} times meanwhile (its calls are not counted).`,
    ];
    const text = lines.join("\n");
    console.log(`\n${text}`);
    const file = join(logDir, `resync-${new Date().toISOString().replaceAll(":", "-").slice(0, 19)}.md`);
    writeFileSync(file, `${text}\n`);
    console.log(`\nSaved ${file}`);
    if (missing !== 0 || site.seen.bad !== 0 || report.events.failed !== 0) process.exitCode = 1;
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(buildDir, { recursive: true, force: true });
    if (!opts.keep) rmSync(state, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
