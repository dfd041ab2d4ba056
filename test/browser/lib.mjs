// Helpers for test/browser/run.mjs: ports, the local `wrangler dev`, a stand-in main site that
// receives the webhooks, bounded waits, and cleanup of exactly the processes we started.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";

export const ROOT = new URL("../../", import.meta.url).pathname;
const WRANGLER = new URL("../../node_modules/.bin/wrangler", import.meta.url).pathname;

/** Quiet, non-interactive wrangler that sends no telemetry. */
const WRANGLER_ENV = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" };

export function randomToken(prefix) {
  return `${prefix}-${randomBytes(18).toString("base64url")}`;
}

/** A port the OS says is free now (tiny race with other processes; fine for a test). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `probe` until it returns a truthy value; throws with the last value after `ms`. */
export async function waitFor(probe, { ms = 20_000, every = 250, label = "condition" } = {}) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${label} (last: ${JSON.stringify(last)})`);
}

/** `wrangler d1 migrations apply DB --local --persist-to <dir>`, bounded. */
export function applyMigrations(persistDir) {
  const r = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    cwd: ROOT,
    env: WRANGLER_ENV,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) {
    throw new Error(`wrangler d1 migrations apply failed (${r.status ?? r.signal ?? r.error}):\n${r.stdout}\n${r.stderr}`);
  }
}

/**
 * `wrangler dev` in its own process group (so workerd, its child, is stopped with it), with
 * secrets from our own env file: given --env-file, wrangler does not read the developer's
 * .dev.vars, which this test never touches. MAIN_SITE_URL points at the stand-in site.
 */
export function startWrangler({ persistDir, port, inspectorPort, envFile, vars, logFile }) {
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistDir,
    "--env-file",
    envFile,
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const log = createWriteStream(logFile);
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return child;
}

/** Stops a process group we spawned (detached), politely, then for sure. */
export async function stopGroup(child, label) {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  if (!done) {
    console.error(`${label} did not stop on SIGTERM; sending SIGKILL`);
    signal("SIGKILL");
    await Promise.race([exited, sleep(2_000)]);
  }
}

export async function waitForHealth(origin, child, logFile, ms = 90_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${tail(logFile)}`);
    try {
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`wrangler dev did not answer /healthz within ${ms} ms:\n${tail(logFile)}`);
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * The stand-in main site. While `failing` is on, the first event it receives, and every later
 * delivery of that same event, is answered 500: the event stays failed (retrying) until the test
 * switches failing off and redelivers it from the page. While `rejecting` is on, every delivery
 * is refused with 400 (not retried: "rejected"). Everything else is accepted (204).
 */
export function startHook(port) {
  const state = { failing: true, failedId: null, rejecting: false, deliveries: [] };
  const server = createHttpServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const id = String(req.headers["webhook-id"] ?? "");
      let type = "";
      try {
        type = JSON.parse(Buffer.concat(chunks).toString("utf8")).type ?? "";
      } catch {
        type = "(unreadable body)";
      }
      if (state.failing && state.failedId === null && id) state.failedId = id;
      const status = state.rejecting ? 400 : state.failing && id === state.failedId ? 500 : 204;
      state.deliveries.push({ id, type, status, signed: Boolean(req.headers["webhook-signature"]) });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status === 204 ? "" : "stand-in site: refusing on purpose");
    });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => resolve({ server, state }));
  });
}
