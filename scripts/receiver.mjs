#!/usr/bin/env node
// A reference receiver for the main site's side of the webhook contract (docs/webhooks.md), built
// on the site SDK (site-sdk/, built by `npm run build:sdk`, which `npm run receiver` runs first):
// its node:http handler verifies every delivery (signature against each signing secret, timestamp
// within 5 minutes) and its replica applies it by the ordering rules (docs/webhooks.md "Order"):
// de-duplicated on webhook-id, users and group attributes by version, memberships per pair. It
// answers synced events with its view ({"version","active","role"}), which the resync report
// compares with the directory, and prints what it did. A real site keeps the same versions (and
// recent webhook-ids) in its own database.
//
//   npm run receiver                                  # 127.0.0.1:8788/webhooks/scim
//   npm run receiver -- --port 9999 --secret whsec_…  # or RECEIVER_PORT / MAIN_SITE_SIGNING_SECRET
//   npm run receiver -- --secret whsec_A --secret whsec_B   # accept either (a rotation under way)
//   npm run receiver -- --status 503                  # answer 503 to everything (simulate an outage)
//   npm run receiver -- --pull http://127.0.0.1:8787  # a site that pulls: reads the feed every second
//                                                     # with SITE_API_TOKEN (settings: siteDelivery "pull")
//
// It prints the MAIN_SITE_URL to put in .dev.vars for `npm run dev`, and says when .dev.vars
// points elsewhere (restart `npm run dev` after changing it).
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createReplica, decodeSecret, pull } from "../site-sdk/dist/index.js";
import { readBody, webhookHandler } from "../site-sdk/dist/node.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const { values: args } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    path: { type: "string" },
    secret: { type: "string", multiple: true },
    status: { type: "string" },
    pull: { type: "string" },
    interval: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (args.help) {
  console.log(`Usage: npm run receiver -- [--host 127.0.0.1] [--port 8788] [--path /webhooks/scim]
                            [--secret whsec_… [--secret whsec_…]] [--status <code>]
       npm run receiver -- --pull <service url> [--interval 1000]
Env: RECEIVER_HOST, RECEIVER_PORT, RECEIVER_PATH, MAIN_SITE_SIGNING_SECRET, SITE_API_TOKEN.
The secrets default to MAIN_SITE_SIGNING_SECRET and MAIN_SITE_SIGNING_SECRET_NEXT (when set)
from .dev.vars, else .dev.vars.example: the site accepts either, as during a rotation.
With --pull it reads GET <service url>/api/site/v1/events with SITE_API_TOKEN (from the
environment, else .dev.vars) once a second instead; set siteDelivery to "pull" in /admin.`);
  process.exit(0);
}

/** A variable from .dev.vars if present there, else from .dev.vars.example (the dev default). */
function fromDevVars(key) {
  for (const name of [".dev.vars", ".dev.vars.example"]) {
    const file = join(ROOT, name);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
      const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (m?.[1] === key && m[2]) return { value: m[2].replace(/^(["'])(.*)\1$/, "$2"), from: name };
    }
  }
  return undefined;
}

/** The secrets the site accepts: the current one and, while a rotation is under way, the next. */
function secretsFromDevVars() {
  const current = fromDevVars("MAIN_SITE_SIGNING_SECRET");
  if (!current) return undefined;
  const next = fromDevVars("MAIN_SITE_SIGNING_SECRET_NEXT");
  return { secrets: next ? [current.value, next.value] : [current.value], from: current.from };
}

const SAID = {
  duplicate: "duplicate webhook-id, ignored",
  stale: "stale, ignored (a newer version was applied)",
  partial: "part kept until all parts of this version have come",
  ignored: "not an event this receiver knows, ignored",
  applied: "applied",
};

function stamp() {
  return new Date().toISOString();
}

const replica = createReplica();

/** Applies one event (a delivery or a feed entry) and prints what it did; returns the site's view. */
function applyAndSay(delivery) {
  const { id, event } = delivery;
  const { outcome, view } = replica.apply(delivery);
  if (!event) {
    console.log(`${stamp()} ${id} ${delivery.payload?.type ?? "?"}: ${SAID[outcome]}`);
    return view;
  }
  const data = event.data;
  const part = event.type === "group.synced" ? ` part ${data.part}/${data.parts}` : "";
  console.log(`${stamp()} ${id} ${event.type} ${event.type.split(".")[0]}:${data.id} v${data.version}${part}: ${SAID[outcome]}`);
  if (outcome === "applied" && data.changes && Object.keys(data.changes).length) console.log(`  changes=${JSON.stringify(data.changes)}`);
  return view;
}

if (args.pull !== undefined) {
  // A site that pulls: the feed read to its end, then again every --interval ms; the cursor is kept
  // in memory (a real site keeps it with what it applied, in one transaction).
  const token = process.env.SITE_API_TOKEN ?? fromDevVars("SITE_API_TOKEN")?.value;
  if (!token) {
    console.error("No SITE_API_TOKEN: set it in the environment or in .dev.vars (the service needs the same one).");
    process.exit(2);
  }
  const controller = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => controller.abort());
  console.log(`Reading ${new URL("/api/site/v1/events", args.pull)} every ${Number(args.interval ?? 1000)} ms once caught up.`);
  try {
    const pages = pull({
      url: args.pull,
      token,
      limit: 500,
      intervalMs: Number(args.interval ?? 1000),
      signal: controller.signal,
      onRetry: (err, wait) => console.log(`${stamp()} ${err.message}; again in ${wait} ms`),
    });
    for await (const page of pages) {
      for (const pulled of page.events) applyAndSay(pulled);
    }
  } catch (err) {
    console.error(`receiver: ${err.message}`);
    process.exit(1);
  }
  process.exit(0);
}

const host = args.host ?? process.env.RECEIVER_HOST ?? "127.0.0.1";
const port = Number(args.port ?? process.env.RECEIVER_PORT ?? 8788);
const path = args.path ?? process.env.RECEIVER_PATH ?? "/webhooks/scim";
const forcedStatus = args.status === undefined ? undefined : Number(args.status);
const fromEnv = process.env.MAIN_SITE_SIGNING_SECRET;
const found = args.secret?.length
  ? { secrets: args.secret, from: "--secret" }
  : fromEnv
    ? { secrets: [fromEnv], from: "MAIN_SITE_SIGNING_SECRET" }
    : secretsFromDevVars();

if (!found) {
  console.error("No signing secret: pass --secret whsec_… or set MAIN_SITE_SIGNING_SECRET (or create .dev.vars).");
  process.exit(2);
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`Invalid port: ${args.port ?? process.env.RECEIVER_PORT}`);
  process.exit(2);
}
if (forcedStatus !== undefined && !(Number.isInteger(forcedStatus) && forcedStatus >= 200 && forcedStatus <= 599)) {
  console.error(`Invalid --status: ${args.status}`);
  process.exit(2);
}

for (const secret of found.secrets) {
  try {
    decodeSecret(secret);
  } catch (err) {
    console.error(`A signing secret from ${found.from} is not usable: ${err.message}`);
    process.exit(2);
  }
}

function send(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}

const handle = webhookHandler({
  secrets: found.secrets,
  onRefused: (err, headers) => console.log(`${stamp()} ${headers["webhook-id"] ?? "-"} REJECTED: ${err.message}`),
  onDelivery: applyAndSay,
});

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
  if (url.pathname !== path) return send(res, 404, "not found\n");
  if (forcedStatus !== undefined) {
    await readBody(req).catch(() => undefined);
    console.log(`${stamp()} ${req.headers["webhook-id"] ?? "-"} answered ${forcedStatus} (--status)`);
    return send(res, forcedStatus, `forced ${forcedStatus}\n`);
  }
  try {
    await handle(req, res);
  } catch (err) {
    console.log(`${stamp()} ${req.headers["webhook-id"] ?? "-"} failed: ${err.message}`);
    if (!res.headersSent) send(res, 500, "receiver error\n");
  }
});

server.on("error", (err) => {
  console.error(`receiver: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const url = `http://${host}:${port}${path}`;
  console.log(
    `Webhook receiver on ${url} (${found.secrets.length === 1 ? "secret" : `${found.secrets.length} secrets`} from ${found.from})`,
  );
  const configured = fromDevVars("MAIN_SITE_URL");
  if (configured?.value === url) {
    console.log(`MAIN_SITE_URL in ${configured.from} already points here.`);
  } else {
    console.log(
      `Set MAIN_SITE_URL=${url} in .dev.vars (now: ${configured ? `${configured.value}, from ${configured.from}` : "unset"}), then restart npm run dev.`,
    );
  }
  if (forcedStatus !== undefined) console.log(`Answering every delivery with ${forcedStatus}.`);
});

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
