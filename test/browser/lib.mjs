// Helpers for test/browser/run.mjs: bounded waits, the stand-in main site that receives the
// webhooks, and the stand-in Cloudflare Access team (its JWKS, and tokens signed with its key).
// Starting and stopping `wrangler dev` is bench/lib/wrangler.mjs's (one copy for bench, soak and this).
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Validator } from "@cfworker/json-schema";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const SCHEMAS = new URL("../../site-sdk/schemas/", import.meta.url);

/** The published JSON Schema of every event type (site-sdk/schemas/<type>.json), as validators. */
function eventValidators() {
  return new Map(
    readdirSync(SCHEMAS)
      .filter((name) => name.endsWith(".json"))
      .map((name) => [
        name.slice(0, -".json".length),
        new Validator(JSON.parse(readFileSync(new URL(name, SCHEMAS), "utf8")), "2020-12", false),
      ]),
  );
}

export function randomToken(prefix) {
  return `${prefix}-${randomBytes(18).toString("base64url")}`;
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

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Listens on a free port of 127.0.0.1; resolves with the server and its origin. */
function listen(server) {
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, origin: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
    });
  });
}

/** Closes a server we started; workerd keeps connections alive, so drop them first. */
export async function closeServer(server) {
  if (!server) return;
  server.closeAllConnections();
  await withTimeout(new Promise((resolve) => server.close(() => resolve())), 5_000, "closing a stand-in server").catch(() => {});
}

/**
 * The stand-in main site. While `failing` is on, the first event it receives, and every later
 * delivery of that same event, is answered 500: the event stays failed (retrying) until the test
 * switches failing off and redelivers it from the page. While `rejecting` is on, every delivery
 * is refused with 400 (not retried: "rejected"). Everything else is accepted (204), except that a
 * resync's event (user.synced, group.synced) about a resource in `siteViews` is answered 200 with
 * the site's own view of it: the event's version and the fields set there (a disagreement).
 * Every body is checked against the published schema of its type; `schemaProblems` lists what
 * did not match (the run fails on any).
 */
export async function startHook() {
  const validators = eventValidators();
  const state = { failing: true, failedId: null, rejecting: false, deliveries: [], siteViews: new Map(), schemaProblems: [] };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const id = String(req.headers["webhook-id"] ?? "");
      let event = null;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        event = null;
      }
      const type = event ? String(event.type ?? "") : "(unreadable body)";
      const validator = validators.get(type);
      const result = validator?.validate(event);
      if (!result?.valid) {
        const why = result ? result.errors.map((e) => `${e.instanceLocation} ${e.error}`).join("; ") : "no published schema for this type";
        state.schemaProblems.push(`${id} ${type}: ${why}`);
      }
      if (state.failing && state.failedId === null && id) state.failedId = id;
      let status = state.rejecting ? 400 : state.failing && id === state.failedId ? 500 : 204;
      const view = type.endsWith(".synced") ? state.siteViews.get(event?.data?.id) : undefined;
      const answer = status === 204 && view ? JSON.stringify({ version: event.data.version, ...view }) : "";
      if (answer) status = 200;
      state.deliveries.push({ id, type, status, signed: Boolean(req.headers["webhook-signature"]) });
      res.writeHead(status, { "content-type": answer ? "application/json" : "text/plain" });
      res.end(answer || (status === 204 ? "" : "stand-in site: refusing on purpose"));
    });
  });
  const { origin } = await listen(server);
  return { server, state, url: `${origin}/hook` };
}

/**
 * The stand-in Cloudflare Access team: its team domain is this server's origin (the JWT issuer),
 * its keys are served at /cdn-cgi/access/certs as Access serves them, and `token()` signs what
 * Access would put in Cf-Access-Jwt-Assertion, with the team's key unless told otherwise.
 */
export async function startAccessTeam(audience) {
  const team = await generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(team.publicKey)), kid: "browser-team-key", alg: "RS256", use: "sig" }] };
  let certsFetched = 0;
  const server = createServer((req, res) => {
    if (req.url === "/cdn-cgi/access/certs") {
      certsFetched++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(jwks));
      return;
    }
    res.writeHead(404).end();
  });
  const { origin } = await listen(server);
  async function token({ email = "carol@example.com", aud = audience, iss = origin, expiresIn = 600 } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email })
      .setProtectedHeader({ alg: "RS256", kid: "browser-team-key" })
      .setIssuedAt(now - 5)
      .setIssuer(iss)
      .setAudience(aud)
      .setExpirationTime(now + expiresIn)
      .sign(team.privateKey);
  }
  return { server, teamDomain: origin, audience, token, certsFetched: () => certsFetched };
}
