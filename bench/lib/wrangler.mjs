// Wrangler as the bench uses it: local D1 only, every command bounded in time, every process it
// starts stopped by its own process group id.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const ROOT = new URL("../..", import.meta.url).pathname;
const BIN = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "wrangler.cmd" : "wrangler");
// CI=true: no prompts, no interactive dev session, no telemetry questions.
const ENV = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };

/** Runs one wrangler command to completion (or fails after `timeoutMs`); returns stdout. */
export function wrangler(args, { cwd = ROOT, timeoutMs = 600_000 } = {}) {
  const r = spawnSync(BIN, args, { cwd, env: ENV, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exit ${r.status}`;
    throw new Error(
      `wrangler ${args.slice(0, 4).join(" ")} … failed (${why}):\n${(r.stderr || "").slice(-2000)}\n${(r.stdout || "").slice(-2000)}`,
    );
  }
  return r.stdout;
}

/** Applies the repo's migrations to the local D1 kept in `persistTo`. */
export function migrate(persistTo) {
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo]);
}

export function executeSql(persistTo, { command, file, cwd = ROOT, timeoutMs }) {
  const what = command !== undefined ? ["--command", command] : ["--file", file];
  return wrangler(["d1", "execute", "DB", "--local", "--persist-to", persistTo, "--yes", ...what], { cwd, timeoutMs });
}

/**
 * Bundles the service once (its bench entry, bench/service/index.ts: the production Worker with
 * D1 round trips counted) and writes a config for it next to the bundle: the repo's
 * wrangler.toml with `main` pointing at the bundle (no_bundle) and the migrations at the repo's.
 * `wrangler dev` watches the files it runs, so running src/ would reload the Worker mid-run
 * whenever someone edits it; a run measures one snapshot instead. The admin page is built first:
 * wrangler.toml's [assets] directory must exist, and the config points at it. Returns the config's path.
 */
export function buildService(outdir) {
  const page = spawnSync(process.execPath, [join(ROOT, "scripts", "build-admin.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  if (page.status !== 0)
    throw new Error(`building the admin page failed:\n${(page.stderr || "").slice(-2000)}${(page.stdout || "").slice(-2000)}`);
  wrangler(["deploy", join(ROOT, "bench", "service", "index.ts"), "--dry-run", "--outdir", outdir], { timeoutMs: 120_000 });
  const source = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  let replaced = 0;
  const config = source
    .replace(/^main = .*$/m, () => {
      replaced++;
      return `main = ${JSON.stringify(join(outdir, "index.js"))}\nno_bundle = true`;
    })
    .replace(/^migrations_dir = .*$/m, () => {
      replaced++;
      return `migrations_dir = ${JSON.stringify(join(ROOT, "migrations"))}`;
    })
    .replace(/^directory = "dist\/assets"$/m, () => {
      replaced++;
      return `directory = ${JSON.stringify(join(ROOT, "dist", "assets"))}`;
    });
  if (replaced !== 3) throw new Error("wrangler.toml: expected one `main = `, one `migrations_dir = ` and one assets `directory = ` line");
  const path = join(outdir, "wrangler.toml");
  writeFileSync(path, config);
  return path;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * Starts `wrangler dev` on 127.0.0.1 in its own process group and waits until `readyPath`
 * answers. Returns { url, stop, pid, exited, inspectorPort } (wrangler's DevTools proxy to the Worker). Its output goes to `logFile` (request lines are off: logging
 * every request would cost the machine more than the requests).
 */
export async function startDev({ name, cwd = ROOT, args, logFile, stateDir, readyPath = "/", timeoutMs = 120_000 }) {
  const port = await freePort();
  const inspector = await freePort();
  const { openSync } = await import("node:fs");
  const out = openSync(logFile, "a");
  const child = spawn(
    BIN,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--log-level",
      "warn",
      "--show-interactive-dev-session=false",
      ...args,
    ],
    {
      cwd,
      // Its own dev registry (no cross-talk with anyone else's `wrangler dev` on the machine) and
      // its own debug log: wrangler logs every D1 call there, megabytes a minute.
      env: { ...ENV, WRANGLER_REGISTRY_PATH: join(stateDir, "registry"), WRANGLER_LOG_PATH: join(stateDir, "wrangler-logs") },
      stdio: ["ignore", out, out],
      detached: true,
    },
  );
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    if (!exited) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name}: wrangler dev exited (${JSON.stringify(exited)}); see ${logFile}`);
    try {
      const res = await fetch(url + readyPath, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status < 500) return { url, stop, pid: child.pid, exited: () => exited, inspectorPort: inspector };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`${name}: not ready after ${timeoutMs / 1000} s; see ${logFile}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
