#!/usr/bin/env node
// A reference receiver for the main site's side of the webhook contract (docs/webhooks.md).
// It verifies every delivery with the `standardwebhooks` package and applies it to an in-memory
// replica (scripts/lib/site-replica.mjs): de-duplicated on webhook-id, a change applied only if
// its data.version is greater than the last applied for that resource, a resync's synced event
// if it is at least that. It answers synced events with its view ({"version","active","role"}),
// which the resync report compares with the directory, and prints what it did. A real site keeps
// the last applied version per resource (and recent webhook-ids) in its own database.
//
//   npm run receiver                                  # 127.0.0.1:8788/webhooks/scim
//   npm run receiver -- --port 9999 --secret whsec_…  # or RECEIVER_PORT / MAIN_SITE_SIGNING_SECRET
//   npm run receiver -- --status 503                  # answer 503 to everything (simulate an outage)
//
// It prints the MAIN_SITE_URL to put in .dev.vars for `npm run dev`, and says when .dev.vars
// points elsewhere (restart `npm run dev` after changing it).
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { createReplica } from "./lib/site-replica.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAX_BODY = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    path: { type: "string" },
    secret: { type: "string" },
    status: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (args.help) {
  console.log(`Usage: npm run receiver -- [--host 127.0.0.1] [--port 8788] [--path /webhooks/scim]
                            [--secret whsec_…] [--status <code>]
Env: RECEIVER_HOST, RECEIVER_PORT, RECEIVER_PATH, MAIN_SITE_SIGNING_SECRET.
The secret defaults to MAIN_SITE_SIGNING_SECRET from .dev.vars, else .dev.vars.example.`);
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

function secretFromDevVars() {
  const found = fromDevVars("MAIN_SITE_SIGNING_SECRET");
  return found && { secret: found.value, from: found.from };
}

const host = args.host ?? process.env.RECEIVER_HOST ?? "127.0.0.1";
const port = Number(args.port ?? process.env.RECEIVER_PORT ?? 8788);
const path = args.path ?? process.env.RECEIVER_PATH ?? "/webhooks/scim";
const forcedStatus = args.status === undefined ? undefined : Number(args.status);
const configured = args.secret ?? process.env.MAIN_SITE_SIGNING_SECRET;
const found = configured ? { secret: configured, from: args.secret ? "--secret" : "MAIN_SITE_SIGNING_SECRET" } : secretFromDevVars();

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

let webhook;
try {
  webhook = new Webhook(found.secret);
} catch (err) {
  console.error(`The signing secret from ${found.from} is not usable: ${err.message}`);
  process.exit(2);
}

const replica = createReplica();

function send(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function stamp() {
  return new Date().toISOString();
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
  if (url.pathname !== path) return send(res, 404, "not found\n");
  if (req.method !== "POST") return send(res, 405, "POST only\n");

  let body;
  try {
    body = await readBody(req);
  } catch {
    return send(res, 413, "body too large\n");
  }
  const id = req.headers["webhook-id"];

  if (forcedStatus !== undefined) {
    console.log(`${stamp()} ${id ?? "-"} answered ${forcedStatus} (--status)`);
    return send(res, forcedStatus, `forced ${forcedStatus}\n`);
  }

  let event;
  try {
    // Verifies the signature over the exact raw body, and that webhook-timestamp is within 5 minutes.
    event = webhook.verify(body, {
      "webhook-id": String(req.headers["webhook-id"] ?? ""),
      "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
      "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
    });
  } catch (err) {
    console.log(`${stamp()} ${id ?? "-"} REJECTED: ${err.message}`);
    // A 4xx tells the sender not to retry: a bad signature will not get better by itself.
    return send(res, 401, `signature verification failed: ${err.message}\n`);
  }

  const type = typeof event?.type === "string" ? event.type : "?";
  const data = event?.data ?? {};
  const resource = `${type.split(".")[0]}:${data.id}`;
  const { outcome, view } = replica.apply(String(id), event);
  const part = type === "group.synced" ? ` part ${data.part}/${data.parts}` : "";
  const said = {
    duplicate: "duplicate webhook-id, ignored",
    stale: "stale, ignored (a newer version was applied)",
    partial: "part kept until all parts of this version have come",
    ignored: "not an event this receiver knows, ignored",
    applied: "applied",
  }[outcome];
  console.log(`${stamp()} ${id} ${type} ${resource} v${data.version}${part}: ${said}`);
  if (outcome === "applied") {
    const changes = data.changes && Object.keys(data.changes).length ? ` changes=${JSON.stringify(data.changes)}` : "";
    if (changes) console.log(`  ${changes.trim()}`);
  }
  if (view) {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(view));
  }
  return send(res, outcome === "applied" ? 204 : 200, outcome === "applied" ? "" : `${outcome}\n`);
});

server.on("error", (err) => {
  console.error(`receiver: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const url = `http://${host}:${port}${path}`;
  console.log(`Webhook receiver on ${url} (secret from ${found.from})`);
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
