#!/usr/bin/env node
// `npm run soak`: mixed Okta traffic against `wrangler dev` for SOAK_SECONDS (default 600) while a
// stand-in main site verifies every webhook and answers 503 to 20% of deliveries. Then it waits
// for the queue to drain and checks that nothing was lost or duplicated:
//   - every event id was answered 2xx exactly once, and every signature verified;
//   - each resource's delivered events are versions 1..n with n = the changes the script made
//     (no change without its event, no event without a change);
//   - the site's replica (built only from the events) equals the directory, and the directory
//     (GET every user and group) equals the model of what the script sent;
//   - no event is left pending, retrying, dead, rejected or held.
// Prints a summary; exits 1 on any mismatch, 2 if the setup failed.
//
// Environment: SOAK_SECONDS (600), SOAK_CONCURRENCY (6), SOAK_FAIL_RATE (0.2),
// SOAK_MAX_FAILS_PER_EVENT (3), SOAK_DRAIN_SECONDS (600), SOAK_KEEP=1 keeps the temp dir.
//
// The failures are random per delivery, but one event is failed at most SOAK_MAX_FAILS_PER_EVENT
// times in a row: the consumer's backoff doubles from 30 s (src/events/backoff.ts), so a fourth
// failure would wait 4 more minutes and a fifth 8, which only lengthens the drain; 3 keeps it
// under 4 minutes after the traffic stops.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { buildService, executeSql, migrate, ROOT, sleep, startDev } from "../bench/lib/wrangler.mjs";

function numberEnv(name, fallback, { min = 0, max = Infinity } = {}) {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`${name} must be a number in [${min}, ${max}], got ${raw}`);
    process.exit(2);
  }
  return n;
}

const SOAK_SECONDS = numberEnv("SOAK_SECONDS", 600, { min: 5, max: 24 * 3600 });
const CONCURRENCY = numberEnv("SOAK_CONCURRENCY", 6, { min: 1, max: 64 });
const FAIL_RATE = numberEnv("SOAK_FAIL_RATE", 0.2, { min: 0, max: 0.9 });
const MAX_FAILS = numberEnv("SOAK_MAX_FAILS_PER_EVENT", 3, { min: 0, max: 8 });
const DRAIN_SECONDS = numberEnv("SOAK_DRAIN_SECONDS", 600, { min: 10, max: 4 * 3600 });
const KEEP = process.env.SOAK_KEEP === "1";
const REQUEST_TIMEOUT_MS = 30_000;

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

// ------------------------------------------------------------------ setup: secrets, wrangler

/** .dev.vars as `npm run dev` makes it: copied from the example only when missing, never overwritten. */
function devVars() {
  const file = join(ROOT, ".dev.vars");
  if (!existsSync(file)) {
    copyFileSync(join(ROOT, ".dev.vars.example"), file);
    console.log("Created .dev.vars from .dev.vars.example.");
  }
  const vars = {};
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  for (const name of ["SCIM_BEARER_TOKEN", "ADMIN_TOKEN", "MAIN_SITE_SIGNING_SECRET"]) {
    if (!vars[name]) throw new Error(`.dev.vars has no ${name}`);
  }
  return { file, vars };
}

// ------------------------------------------------------------------ the stand-in main site

/**
 * Verifies every delivery with the standardwebhooks package, fails FAIL_RATE of them with 503
 * (at most MAX_FAILS times for one event), and keeps per webhook-id what it saw.
 */
function startSite(secret) {
  const webhook = new Webhook(secret);
  const byId = new Map(); // id → { attempts, failed, ok, body }
  const stats = { requests: 0, refused503: 0, badSignature: 0, malformed: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      stats.requests++;
      const raw = Buffer.concat(chunks).toString("utf8");
      let body;
      try {
        body = webhook.verify(raw, req.headers);
      } catch {
        stats.badSignature++;
        res.writeHead(400).end("bad signature");
        return;
      }
      const id = String(req.headers["webhook-id"] ?? "");
      if (!id || typeof body !== "object" || body === null || typeof body.data !== "object") {
        stats.malformed++;
        res.writeHead(400).end("malformed");
        return;
      }
      const seen = byId.get(id) ?? { attempts: 0, failed: 0, ok: 0, body, raw };
      byId.set(id, seen);
      seen.attempts++;
      if (seen.raw !== raw) seen.changedBody = true;
      if (seen.failed < MAX_FAILS && Math.random() < FAIL_RATE) {
        seen.failed++;
        stats.refused503++;
        res.writeHead(503).end("try again");
        return;
      }
      seen.ok++;
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/hook`, byId, stats, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

// ------------------------------------------------------------------ traffic

const runTag = Date.now().toString(36);

/** One Okta connection: its own client address, users and groups, so its model is exact. */
function makeWorker(index, ctx) {
  const ip = `10.77.${index}.1`;
  const users = []; // { id, userName, givenName, familyName, displayName, title, active, deleted, expected }
  const groups = []; // { id, displayName, members: Set, expected }
  let seq = 0;
  const live = () => users.filter((u) => !u.deleted);
  const pick = (list) => list[Math.floor(Math.random() * list.length)];

  async function call(op, method, path, body, expect) {
    const headers = { Authorization: `Bearer ${ctx.token}`, Accept: "application/scim+json", "CF-Connecting-IP": ip };
    if (body !== undefined) headers["Content-Type"] = "application/scim+json";
    for (let attempt = 1; attempt <= 5; attempt++) {
      const t0 = performance.now();
      let res;
      let text = "";
      try {
        res = await fetch(`${ctx.api}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        text = await res.text();
      } catch (err) {
        ctx.record(op, performance.now() - t0, `network: ${err.message}`);
        return null;
      }
      const ms = performance.now() - t0;
      if (res.status === 429) {
        // Okta backs off on 429 with Retry-After: the soak does too, and counts it.
        ctx.throttled++;
        await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
        continue;
      }
      if (res.status !== expect) {
        ctx.record(op, ms, `${method} ${path} → ${res.status} (expected ${expect}): ${text.slice(0, 200)}`);
        return null;
      }
      ctx.record(op, ms);
      return { res, json: text ? JSON.parse(text) : undefined };
    }
    ctx.record(op, 0, `${method} ${path}: still 429 after 5 tries`);
    return null;
  }

  const userBody = (u) => ({
    schemas: [USER_SCHEMA],
    userName: u.userName,
    name: { givenName: u.givenName, familyName: u.familyName },
    emails: [{ primary: true, value: u.userName.toLowerCase(), type: "work" }],
    displayName: u.displayName,
    title: u.title,
    active: u.active,
    externalId: `00u${u.userName}`,
  });

  /** A write answered with the user: its version must be the number of events the model expects. */
  function checkVersion(op, u, json) {
    const version = json?.meta?.version;
    if (version !== `W/"${u.expected}"`) ctx.record(op, 0, `${u.id}: version ${version}, model expects W/"${u.expected}"`);
  }

  const ops = {
    async create() {
      const n = ++seq;
      const u = {
        userName: `Soak.${runTag}.w${index}.u${n}@Example.com`,
        givenName: "Soak",
        familyName: `W${index}U${n}`,
        displayName: `Soak ${index}-${n}`,
        title: "Engineer",
        active: true,
        deleted: false,
        expected: 1,
      };
      const filter = encodeURIComponent(`userName eq "${u.userName.toUpperCase()}"`);
      const found = await call("lookup", "GET", `/Users?filter=${filter}`, undefined, 200);
      if (!found) return;
      if (found.json.totalResults !== 0) ctx.record("lookup", 0, `lookup of a new userName found ${found.json.totalResults}`);
      const created = await call("create", "POST", "/Users", userBody(u), 201);
      if (!created) return;
      u.id = created.json.id;
      users.push(u);
      checkVersion("create", u, created.json);
    },
    async read() {
      const u = pick(live());
      if (!u) return ops.create();
      const got = await call("get", "GET", `/Users/${u.id}`, undefined, 200);
      if (got && (got.json.title !== u.title || got.json.active !== u.active))
        ctx.record("get", 0, `${u.id}: read ${got.json.title}/${got.json.active}, model ${u.title}/${u.active}`);
    },
    async list() {
      const start = 1 + Math.floor(Math.random() * Math.max(1, ctx.userCount()));
      await call("list", "GET", `/Users?startIndex=${start}&count=100`, undefined, 200);
    },
    async put() {
      const u = pick(live());
      if (!u) return ops.create();
      const next = { ...u, title: `Title ${++seq}`, displayName: `Soak ${index}-${seq}` };
      const res = await call("put", "PUT", `/Users/${u.id}`, userBody(next), 200);
      if (!res) return;
      Object.assign(u, { title: next.title, displayName: next.displayName });
      u.expected++;
      checkVersion("put", u, res.json);
    },
    async patchTitle() {
      const u = pick(live());
      if (!u) return ops.create();
      const title = `Patched ${++seq}`;
      const res = await call(
        "patch",
        "PATCH",
        `/Users/${u.id}`,
        { schemas: [PATCH_SCHEMA], Operations: [{ op: "Replace", path: "title", value: title }] },
        200,
      );
      if (!res) return;
      u.title = title;
      u.expected++;
      checkVersion("patch", u, res.json);
    },
    async toggleActive() {
      const u = pick(live());
      if (!u) return ops.create();
      const res = await call(
        u.active ? "deactivate" : "reactivate",
        "PATCH",
        `/Users/${u.id}`,
        { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { active: !u.active } }] },
        200,
      );
      if (!res) return;
      u.active = !u.active;
      u.expected++;
      checkVersion("patch", u, res.json);
    },
    async remove() {
      const u = pick(live());
      if (!u || live().length < 5) return ops.create();
      const res = await call("delete", "DELETE", `/Users/${u.id}`, undefined, 204);
      if (!res) return;
      u.deleted = true;
      u.expected++;
      // Each group the user was in loses a member: one group.members_removed, one group version.
      for (const g of groups) if (g.members.delete(u.id)) g.expected++;
    },
    async groupCreate() {
      const displayName = `Soak ${runTag} w${index} g${++seq}`;
      const found = await call(
        "groupLookup",
        "GET",
        `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}&excludedAttributes=members`,
        undefined,
        200,
      );
      if (!found) return;
      const res = await call(
        "groupCreate",
        "POST",
        "/Groups",
        { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName, members: [] },
        201,
      );
      if (res) groups.push({ id: res.json.id, displayName, members: new Set(), expected: 1 });
    },
    async groupAdd() {
      const g = pick(groups);
      const candidates = live().filter((u) => g && !g.members.has(u.id));
      const u = pick(candidates);
      if (!g || !u) return ops.groupCreate();
      const res = await call(
        "groupAdd",
        "PATCH",
        `/Groups/${g.id}`,
        { schemas: [PATCH_SCHEMA], Operations: [{ op: "add", path: "members", value: [{ value: u.id }] }] },
        204,
      );
      if (!res) return;
      g.members.add(u.id);
      g.expected++;
    },
    async groupRemove() {
      const g = pick(groups.filter((x) => x.members.size > 0));
      if (!g) return ops.groupAdd();
      const uid = pick([...g.members]);
      const res = await call(
        "groupRemove",
        "PATCH",
        `/Groups/${g.id}`,
        { schemas: [PATCH_SCHEMA], Operations: [{ op: "remove", path: `members[value eq "${uid}"]` }] },
        204,
      );
      if (!res) return;
      g.members.delete(uid);
      g.expected++;
    },
    async groupRename() {
      const g = pick(groups);
      if (!g) return ops.groupCreate();
      const displayName = `Soak ${runTag} w${index} g${++seq} renamed`;
      // Okta's group push: a path-less replace that repeats the id.
      const res = await call(
        "groupRename",
        "PATCH",
        `/Groups/${g.id}`,
        { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { id: g.id, displayName } }] },
        204,
      );
      if (!res) return;
      g.displayName = displayName;
      g.expected++;
    },
  };

  // Weights: Okta mostly looks up, creates, reads and updates; deletes are rare.
  const MIX = [
    ["create", 18],
    ["read", 14],
    ["list", 4],
    ["put", 14],
    ["patchTitle", 10],
    ["toggleActive", 12],
    ["remove", 3],
    ["groupCreate", 3],
    ["groupAdd", 12],
    ["groupRemove", 6],
    ["groupRename", 4],
  ];
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  const choose = () => {
    let r = Math.random() * total;
    for (const [name, w] of MIX) {
      r -= w;
      if (r < 0) return name;
    }
    return "read";
  };

  return {
    users,
    groups,
    async run(deadline) {
      while (Date.now() < deadline && !ctx.aborted) await ops[choose()]();
    },
  };
}

// ------------------------------------------------------------------ checks

/** JSON with object keys sorted, so two equal values print the same whatever their key order. */
function canon(value) {
  if (Array.isArray(value)) return `[${value.map(canon).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

async function getJson(url, headers) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Events the site answered 2xx, grouped by resource id, in version order. */
function deliveredByResource(byId) {
  const map = new Map();
  for (const [id, seen] of byId) {
    if (seen.ok === 0) continue;
    const rid = seen.body.data.id;
    const list = map.get(rid) ?? [];
    list.push({ id, type: seen.body.type, version: seen.body.data.version, data: seen.body.data });
    map.set(rid, list);
  }
  for (const list of map.values()) list.sort((a, b) => a.version - b.version);
  return map;
}

function resourcesOf(workers) {
  return [
    ...workers.flatMap((w) => w.users.map((u) => ({ kind: "User", id: u.id, expected: u.expected, model: u }))),
    ...workers.flatMap((w) => w.groups.map((g) => ({ kind: "Group", id: g.id, expected: g.expected, model: g }))),
  ];
}

/** Every resource has its expected number of events delivered, and nothing is left in flight. */
async function drained(workers, site, service, adminHeaders) {
  const delivered = deliveredByResource(site.byId);
  const complete = resourcesOf(workers).every((r) => (delivered.get(r.id)?.length ?? 0) >= r.expected);
  if (!complete) return { done: false };
  const { json } = await getJson(`${service}/admin/api/events?limit=1`, adminHeaders);
  const c = json.counts;
  return { done: c.pending + c.queued + c.retrying === 0, counts: c };
}

async function check(workers, site, service, api, scimHeaders, adminHeaders) {
  const problems = [];
  const fail = (text) => {
    if (problems.length < 200) problems.push(text);
    else if (problems.length === 200) problems.push("… more problems not shown");
  };

  // 1. Every event id: exactly one 2xx, a verified signature, the same bytes on every attempt.
  for (const [id, seen] of site.byId) {
    if (seen.ok !== 1) fail(`event ${id} (${seen.body.type}) answered 2xx ${seen.ok} times over ${seen.attempts} attempts`);
    if (seen.changedBody) fail(`event ${id}: a retry carried a different body`);
  }
  if (site.stats.badSignature) fail(`${site.stats.badSignature} deliveries had a bad signature`);
  if (site.stats.malformed) fail(`${site.stats.malformed} deliveries were malformed`);

  // 2. Per resource: versions 1..n, n = the changes made; the site's replica = the directory = the model.
  const delivered = deliveredByResource(site.byId);
  const known = new Set();
  for (const r of resourcesOf(workers)) {
    known.add(r.id);
    const events = delivered.get(r.id) ?? [];
    const versions = events.map((e) => e.version);
    const want = Array.from({ length: r.expected }, (_, i) => i + 1);
    if (JSON.stringify(versions) !== JSON.stringify(want)) {
      fail(`${r.kind} ${r.id}: delivered versions [${versions.join(",")}], expected 1..${r.expected}`);
      continue;
    }
    const last = events[events.length - 1];
    if (r.kind === "User") {
      const { status, json } = await getJson(`${api}/Users/${r.id}`, scimHeaders);
      if (r.model.deleted) {
        if (status !== 404) fail(`deleted user ${r.id} answers ${status}`);
        if (last?.type !== "user.deleted") fail(`deleted user ${r.id}: last event is ${last?.type}`);
        continue;
      }
      if (status !== 200) {
        fail(`user ${r.id} answers ${status}`);
        continue;
      }
      const { groups: _groups, ...withoutGroups } = json;
      if (canon(last.data.user) !== canon(withoutGroups)) fail(`user ${r.id}: the site's copy differs from GET`);
      const m = r.model;
      const same = json.title === m.title && json.active === m.active && json.displayName === m.displayName && json.userName === m.userName;
      if (!same) fail(`user ${r.id}: GET ${json.title}/${json.active}/${json.displayName}, model ${m.title}/${m.active}/${m.displayName}`);
    } else {
      const { status, json } = await getJson(`${api}/Groups/${r.id}`, scimHeaders);
      if (status !== 200) {
        fail(`group ${r.id} answers ${status}`);
        continue;
      }
      const directory = (json.members ?? []).map((x) => x.value).sort();
      const model = [...r.model.members].sort();
      // The site's membership: the group's events, minus users it was told were deleted.
      const replica = new Set();
      for (const e of events) {
        const members = e.data.changes?.members ?? [];
        if (e.type === "group.created" || e.type === "group.members_added") members.forEach((x) => replica.add(x));
        if (e.type === "group.members_removed") members.forEach((x) => replica.delete(x));
      }
      for (const x of [...replica]) if ((delivered.get(x) ?? []).some((e) => e.type === "user.deleted")) replica.delete(x);
      if (JSON.stringify(directory) !== JSON.stringify(model)) fail(`group ${r.id}: members in the directory ≠ model`);
      if (JSON.stringify([...replica].sort()) !== JSON.stringify(model)) fail(`group ${r.id}: the site's members ≠ model`);
      if (json.displayName !== r.model.displayName || last.data.group?.displayName !== r.model.displayName)
        fail(`group ${r.id}: displayName differs`);
    }
  }
  for (const rid of delivered.keys()) if (!known.has(rid)) fail(`events delivered for ${rid}, which the soak never touched`);

  // 3. The directory lists exactly the model's live users of this run.
  const listed = new Set();
  for (let start = 1; ; start += 100) {
    const filter = encodeURIComponent(`userName sw "Soak.${runTag}."`);
    const { status, json } = await getJson(`${api}/Users?filter=${filter}&startIndex=${start}&count=100&attributes=userName`, scimHeaders);
    if (status !== 200) {
      fail(`listing users → ${status}`);
      break;
    }
    for (const u of json.Resources ?? []) listed.add(u.id);
    if ((json.Resources ?? []).length < 100 || start > 1_000_000) break;
  }
  const liveModel = new Set(workers.flatMap((w) => w.users.filter((u) => !u.deleted).map((u) => u.id)));
  for (const id of liveModel) if (!listed.has(id)) fail(`user ${id} is missing from GET /Users`);
  for (const id of listed) if (!liveModel.has(id)) fail(`GET /Users lists ${id}, which the model has not (or deleted)`);

  // 4. Nothing left anywhere but delivered.
  const { json: ev } = await getJson(`${service}/admin/api/events?limit=1`, adminHeaders);
  const counts = ev.counts;
  for (const [state, n] of Object.entries(counts)) if (state !== "delivered" && n > 0) fail(`${n} events are ${state}`);
  const expectedEvents = resourcesOf(workers).reduce((s, r) => s + r.expected, 0);
  if (counts.delivered !== expectedEvents) fail(`${counts.delivered} events delivered in D1, the model made ${expectedEvents} changes`);
  if (site.byId.size !== expectedEvents) fail(`the site saw ${site.byId.size} event ids, the model made ${expectedEvents} changes`);
  return { problems, counts, expectedEvents };
}

// ------------------------------------------------------------------ main

const percentile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

async function main() {
  const { file: envFile, vars } = devVars();
  const dir = mkdtempSync(join(tmpdir(), "scim-soak-"));
  const state = join(dir, "state");
  mkdirSync(state);
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length) await cleanups.pop()();
  };
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => void cleanup().then(() => process.exit(130)));
  // A last resort, so the script always ends by itself.
  const hardStop = setTimeout(
    () => {
      console.error("soak: overall time limit reached; stopping");
      void cleanup().then(() => process.exit(1));
    },
    (SOAK_SECONDS + DRAIN_SECONDS + 600) * 1000,
  );
  hardStop.unref();

  let exitCode = 0;
  try {
    console.log(
      `soak: ${SOAK_SECONDS} s of traffic, ${CONCURRENCY} connections, ${Math.round(FAIL_RATE * 100)}% of deliveries answered 503 (≤ ${MAX_FAILS} per event); temp dir ${dir}`,
    );
    // The Worker as it is now, bundled once: `wrangler dev` on src/ would reload whenever someone
    // edits a file, and a reload drops the local queue's in-flight messages mid-soak.
    const config = buildService(join(dir, "bundle"));
    migrate(state);
    // SCIM on; the deprovisioning guard out of the way: the soak deactivates and deletes far more
    // than 25 users an hour, and held events are the guard working, not delivery.
    const settings = JSON.stringify({ scimEnabled: true, deprovisionGuard: { maxPerHour: 1_000_000 } });
    executeSql(state, {
      command: `INSERT OR REPLACE INTO settings (id, data, updated_at) VALUES (1, '${settings}', strftime('%Y-%m-%dT%H:%M:%fZ','now'))`,
    });

    const site = await startSite(vars.MAIN_SITE_SIGNING_SECRET);
    cleanups.push(site.close);
    const logFile = join(dir, "wrangler.log");
    const dev = await startDev({
      name: "soak",
      args: ["-c", config, "--env-file", envFile, "--persist-to", state, "--var", `MAIN_SITE_URL:${site.url}`, "--test-scheduled"],
      logFile,
      stateDir: dir,
      readyPath: "/healthz",
    });
    cleanups.push(dev.stop);
    const service = dev.url;
    const api = `${service}/api/scim/v2`;
    const scimHeaders = {
      Authorization: `Bearer ${vars.SCIM_BEARER_TOKEN}`,
      Accept: "application/scim+json",
      "CF-Connecting-IP": "10.77.255.1",
    };
    const adminHeaders = { Authorization: `Bearer ${vars.ADMIN_TOKEN}` };
    console.log(`soak: service ${service}, main site ${site.url}, wrangler log ${logFile}`);

    // The cron: wrangler dev runs scheduled handlers only when asked (--test-scheduled).
    const cron = setInterval(() => {
      fetch(`${service}/__scheduled?cron=${encodeURIComponent("* * * * *")}`, { signal: AbortSignal.timeout(30_000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }, 60_000);
    cleanups.push(async () => clearInterval(cron));

    const latencies = new Map();
    const errors = [];
    let errorCount = 0;
    let users = 0;
    const ctx = {
      api,
      token: vars.SCIM_BEARER_TOKEN,
      throttled: 0,
      aborted: false,
      userCount: () => users,
      record(op, ms, error) {
        if (!latencies.has(op)) latencies.set(op, []);
        latencies.get(op).push(ms);
        if (error) {
          errorCount++;
          if (errors.length < 20) errors.push(`${op}: ${error}`);
        }
      },
    };
    const workers = Array.from({ length: CONCURRENCY }, (_, i) => makeWorker(i, ctx));
    const t0 = Date.now();
    const deadline = t0 + SOAK_SECONDS * 1000;
    const progress = setInterval(() => {
      users = workers.reduce((s, w) => s + w.users.length, 0);
      const sent = [...latencies.values()].reduce((s, l) => s + l.length, 0);
      console.log(
        `  ${Math.round((Date.now() - t0) / 1000)} s: ${sent} requests, ${errorCount} errors, ${site.byId.size} events seen, ${site.stats.refused503} deliveries refused`,
      );
      if (dev.exited()) ctx.aborted = true;
    }, 15_000);
    await Promise.all(workers.map((w) => w.run(deadline)));
    clearInterval(progress);
    const trafficSeconds = (Date.now() - t0) / 1000;

    // Drain: bounded; polls until every change's event is delivered and nothing is in flight.
    const drainStart = Date.now();
    let drainState = { done: false };
    while (Date.now() - drainStart < DRAIN_SECONDS * 1000) {
      drainState = await drained(workers, site, service, adminHeaders).catch((err) => ({ done: false, err }));
      if (drainState.done) break;
      await sleep(2_000);
    }
    const drainSeconds = (Date.now() - drainStart) / 1000;
    // A late duplicate would arrive within a batch timeout or two: wait a little before judging.
    await sleep(5_000);

    const result = await check(workers, site, service, api, scimHeaders, adminHeaders);
    const requests = [...latencies.values()].reduce((s, l) => s + l.length, 0);
    const all = [...latencies.values()].flat().sort((a, b) => a - b);
    const attempts = [...site.byId.values()].reduce((s, x) => s + x.attempts, 0);
    const retried = [...site.byId.values()].filter((x) => x.failed > 0).length;

    console.log("\n== soak summary ==");
    console.log(
      `traffic     ${trafficSeconds.toFixed(0)} s, ${requests} requests (${(requests / trafficSeconds).toFixed(1)} req/s), p50 ${percentile(all, 0.5).toFixed(1)} ms, p99 ${percentile(all, 0.99).toFixed(1)} ms, ${errorCount} errors, ${ctx.throttled} throttled (429)`,
    );
    console.log(`by request  ${[...latencies].map(([op, l]) => `${op} ${l.length}`).join(", ")}`);
    const liveUsers = workers.reduce((s, w) => s + w.users.filter((u) => !u.deleted).length, 0);
    const deletedUsers = workers.reduce((s, w) => s + w.users.filter((u) => u.deleted).length, 0);
    console.log(
      `directory   ${liveUsers} users (${deletedUsers} more created and deleted), ${workers.reduce((s, w) => s + w.groups.length, 0)} groups`,
    );
    console.log(
      `events      ${result.expectedEvents} changes made; ${site.byId.size} event ids seen by the site; D1 states ${JSON.stringify(result.counts)}`,
    );
    console.log(
      `deliveries  ${attempts} POSTs, ${site.stats.refused503} answered 503, ${retried} events needed a retry, ${site.stats.badSignature} bad signatures`,
    );
    console.log(`drain       ${drainSeconds.toFixed(0)} s${drainState.done ? "" : " (NOT drained within SOAK_DRAIN_SECONDS)"}`);
    if (errors.length) console.log(`errors      ${errors.join("\n            ")}`);
    if (result.problems.length) console.log(`problems    ${result.problems.join("\n            ")}`);
    const ok = errorCount === 0 && result.problems.length === 0 && drainState.done;
    console.log(ok ? "\nRESULT: PASS — every change delivered exactly once; the directory matches what was sent." : "\nRESULT: FAIL");
    exitCode = ok ? 0 : 1;
  } catch (err) {
    console.error(`soak: setup or run failed: ${err.stack ?? err}`);
    exitCode = 2;
  } finally {
    await cleanup();
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
  process.exit(exitCode);
}

await main();
