import { createExecutionContext, env } from "cloudflare:test";
import { expect } from "vitest";
import worker from "../src/index";

export const ORIGIN = "https://scim.test";
export const BASE = `${ORIGIN}/api/scim/v2`;
export const SCIM_TOKEN = "test-scim-token";
export const ADMIN_TOKEN = "test-admin-token";

export interface CallOptions {
  headers?: Record<string, string>;
  token?: string | null;
  /** A raw body (string) instead of JSON. */
  raw?: string;
}

/**
 * A request through the Worker's own fetch handler, with the test's bindings (the real D1 and
 * queues); work it leaves to waitUntil goes on in the background, as in production. Not
 * SELF.fetch: under vitest-pool-workers every SELF.fetch in a test file is slower than the one
 * before (cloudflare/workers-sdk#15446: 6 ms, then over 100 ms after 1,000), which made long
 * files quadratic.
 */
export async function fetchWorker(input: string | Request, init?: RequestInit): Promise<Response> {
  const handler = worker.fetch;
  if (!handler) throw new Error("the Worker has no fetch handler");
  const request = new Request(input, init) as Parameters<typeof handler>[0];
  return handler(request, env, createExecutionContext());
}

/** One SCIM request through the Worker's real fetch handler (real D1, real queue). */
export async function scim(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/scim+json", ...opts.headers };
  const token = opts.token === undefined ? SCIM_TOKEN : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (opts.raw !== undefined) payload = opts.raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/scim+json; charset=utf-8";
  }
  const url = path.startsWith("http") ? path : `${BASE}${path}`;
  return fetchWorker(url, { method, headers, body: payload });
}

export async function admin(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetchWorker(`${ORIGIN}/admin/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Turns SCIM on (plus any other settings) through the admin API, as an admin would. */
export async function setSettings(patch: Record<string, unknown> = {}): Promise<void> {
  const res = await admin("PUT", "/settings", { scimEnabled: true, ...patch });
  expect(res.status, await res.clone().text()).toBe(200);
}

export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/** A SCIM PatchOp request body of these operations. */
export const ops = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

export type Json = Record<string, unknown> & { [k: string]: unknown };

export const SITE_USER = "urn:scim-edge:scim:schemas:extension:site:2.0:User";

/** The effective site role of a SCIM user as GET answers it (the read-only extension; `roles` is the IdP's). */
export const siteRole = (user: Json): string | undefined => (user[SITE_USER] as { role?: string } | undefined)?.role;

/** A response read once: status, parsed JSON (or {}), the text, the media type. */
export async function read(res: Response): Promise<{ status: number; json: Json; text: string; type: string | null }> {
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {}, text, type: res.headers.get("content-type") };
}

export async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

/** Asserts status, then returns the parsed body; the failure message carries the body. */
export async function expectStatus(res: Response, status: number): Promise<Json> {
  const text = await res.clone().text();
  expect(res.status, text).toBe(status);
  return text ? (JSON.parse(text) as Json) : {};
}

export async function expectScimError(res: Response, status: number, scimType?: string): Promise<Json> {
  const body = await expectStatus(res, status);
  expect(res.headers.get("content-type")).toMatch(/^application\/scim\+json/);
  expect(body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  expect(body.status).toBe(String(status));
  expect(typeof body.detail).toBe("string");
  expect((body.detail as string).length).toBeGreaterThan(10);
  if (scimType !== undefined) expect(body.scimType).toBe(scimType);
  return body;
}

let counter = 0;
/** A userName unique within the run, mixed case like Okta's Runscope variables. */
export function uniqueName(prefix = "User"): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}Ab@example.com`;
}

export function oktaUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName,
    name: { givenName: "Test", familyName: "User" },
    emails: [{ primary: true, value: userName, type: "work" }],
    displayName: "Test User",
    locale: "en-US",
    externalId: `00u${counter}`,
    groups: [],
    password: "1mz050nq",
    active: true,
    ...extra,
  };
}

export async function createUser(body: Record<string, unknown>): Promise<Json> {
  return expectStatus(await scim("POST", "/Users", body), 201);
}

/**
 * Runs every running background job (src/jobs/) to its end now, through the same chunk function
 * the queue consumer calls, against the real D1. The job's own queue message still arrives later
 * and finds it done. For tests that must not wait for the queue's delay.
 */
export async function settleJobs(): Promise<void> {
  const { env } = await import("cloudflare:test");
  const { runJobChunk } = await import("../src/jobs/runner");
  for (let round = 0; round < 1000; round++) {
    const { results } = await env.DB.prepare("SELECT id FROM jobs WHERE state = 'running'").all<{ id: string }>();
    if (results.length === 0) return;
    for (const { id } of results) await runJobChunk(env, id);
  }
  throw new Error("jobs did not settle");
}

/** Waits until the newest role re-evaluation is done, through the real queue (or fails after `ms`). */
export async function waitForRoleJob(ms = 30_000): Promise<Json> {
  const deadline = Date.now() + ms;
  for (;;) {
    const body = await expectStatus(await admin("GET", "/jobs"), 200);
    const job = (body.jobs as Json[])[0];
    if (job && job.state !== "running") return job;
    if (Date.now() > deadline) throw new Error(`role job still running after ${ms} ms: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
