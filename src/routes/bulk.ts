import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { createGroup, deleteGroup, patchGroup, replaceGroup } from "../groups/service";
import { afterResponse } from "../http/after-response";
import { readJsonObject } from "../http/body";
import { scimErrorBody } from "../http/errors";
import { scimJson } from "../http/respond";
import type { LogEntry } from "../log/entry";
import { MAX_PATH } from "../log/redact";
import { SCIM_BASE_PATH } from "../middleware/context";
import { type BulkOperation, BulkSchedule, bulkTarget, parseBulkRequest, referencedBulkIds, resolveBulkIds } from "../scim/bulk";
import { ScimError } from "../scim/errors";
import { etagOf } from "../scim/etag";
import { LIMITS } from "../scim/limits";
import { BULK_RESPONSE_SCHEMA } from "../scim/schemas";
import { createUser, deleteUser, patchUser, replaceUser } from "../users/service";
import { writeContext } from "./write-context";

interface OperationResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

interface Done {
  status: 200 | 201 | 204;
  id: string;
  version: number | undefined;
}

/**
 * One operation, through the same services as the request alone, with its own log entry (one
 * log row per operation; the Bulk request writes none of its own). Only /Users, /Users/{id},
 * /Groups and /Groups/{id} can be addressed: no other endpoint, no nested Bulk.
 */
async function runOperation(c: Context<AppEnv>, op: BulkOperation, path: string, data: unknown, log: LogEntry): Promise<Done> {
  const target = bulkTarget(op.method, path);
  if (typeof target === "string") throw new ScimError(400, "invalidValue", `Operation ${op.index + 1}: ${target}`);
  const users = target.resource === "Users";
  const id = target.id ?? "";
  const status = op.method === "POST" ? 201 : op.method === "DELETE" || (op.method === "PATCH" && !users) ? 204 : 200;
  const ctx = writeContext(c, status, log, op.version);
  switch (op.method) {
    case "POST": {
      const created = users ? (await createUser(ctx, data)).state : await createGroup(ctx, data);
      return { status, id: created.id, version: created.version };
    }
    case "PUT": {
      const state = users ? (await replaceUser(ctx, id, data)).state : await replaceGroup(ctx, id, data);
      return { status, id, version: state.version };
    }
    case "PATCH": {
      const state = users ? (await patchUser(ctx, id, data)).state : await patchGroup(ctx, id, data);
      return { status, id, version: state.version };
    }
    case "DELETE":
      await (users ? deleteUser(ctx, id) : deleteGroup(ctx, id));
      return { status, id, version: undefined };
  }
}

const errorBody = (err: unknown) =>
  err instanceof ScimError
    ? err
    : new ScimError(500, undefined, "The operation failed inside the service; any change it made was applied whole or not at all.");

export const bulkRoutes = new Hono<AppEnv>();

/**
 * POST /Bulk (RFC 7644 §3.7). Each operation runs as the same request would alone, in order;
 * an operation that refers to a bulkId created later waits for it (RFC 7644 §3.7.2), and one
 * that can never be resolved (unknown or circular) answers 409. A bulkId used twice is 400 for
 * every operation after the first. failOnErrors stops the rest.
 */
bulkRoutes.post("/", async (c) => {
  const request = parseBulkRequest(await readJsonObject(c, LIMITS.bulkMaxPayloadSize));
  // From here every operation writes its own log row; the request itself writes none.
  c.get("log").skip = true;
  const failedLogs: { entry: LogEntry; status: number; detail: string }[] = [];
  // Each operation's row reads as the request it stands for, marked as part of this Bulk request.
  // ...and was let in by the request's credential (the Connect page's "last used").
  const newLog = (method: string, path: string, n: number) =>
    c.get("log").derive(method, `${SCIM_BASE_PATH}${path} (Bulk operation ${n})`.slice(0, MAX_PATH));
  const results = new Map<number, OperationResult>();
  const fail = (op: { index: number; method: string; bulkId: string | undefined; path?: string }, err: ScimError, entry?: LogEntry) => {
    results.set(op.index, {
      method: op.method,
      ...(op.bulkId ? { bulkId: op.bulkId } : {}),
      status: String(err.status),
      response: scimErrorBody(c, err),
    });
    failedLogs.push({
      entry: entry ?? newLog(op.method || "BULK", (op.path ?? "").slice(0, 200), op.index + 1),
      status: err.status,
      detail: err.detail,
    });
  };

  const seenBulkIds = new Set<string>();
  const valid: BulkOperation[] = [];
  for (const op of request.operations) {
    if ("error" in op) fail(op, op.error);
    else if (op.bulkId !== undefined && seenBulkIds.has(op.bulkId)) {
      fail(
        op,
        new ScimError(
          400,
          "invalidValue",
          `Operation ${op.index + 1}: bulkId "${op.bulkId}" is used by an earlier operation; each bulkId names one resource.`,
        ),
      );
    } else {
      if (op.bulkId !== undefined) seenBulkIds.add(op.bulkId);
      valid.push(op);
    }
  }
  const postedBulkIds = new Set(valid.flatMap((op) => (op.method === "POST" && op.bulkId !== undefined ? [op.bulkId] : [])));
  const created = new Map<string, string>();
  let errors = results.size;
  const failLimit = request.failOnErrors ?? Number.POSITIVE_INFINITY;
  const schedule = new BulkSchedule(valid, (op) => referencedBulkIds([op.path, op.data]));

  for (let op = schedule.next(); op !== undefined && errors < failLimit; op = schedule.next()) {
    const path = resolveBulkIds(op.path, created);
    const entry = newLog(op.method, path, op.index + 1);
    try {
      const done = await runOperation(c, op, path, op.method === "DELETE" ? undefined : resolveBulkIds(op.data, created), entry);
      const location = `${c.get("baseUrl")}/${path.split("/")[1]}/${done.id}`;
      if (op.method === "POST" && op.bulkId) {
        created.set(op.bulkId, done.id);
        schedule.created(op.bulkId);
      }
      results.set(op.index, {
        method: op.method,
        ...(op.bulkId ? { bulkId: op.bulkId } : {}),
        location,
        ...(done.version !== undefined ? { version: etagOf(done.version) } : {}),
        status: String(done.status),
      });
    } catch (err) {
      fail({ ...op, path }, errorBody(err), entry);
      errors++;
    }
  }
  if (errors < failLimit) {
    // What is left waits on a bulkId that was never created: unknown, circular, or its POST failed.
    for (const { op, missing } of schedule.stuck(created)) {
      const why = missing.some((id) => postedBulkIds.has(id))
        ? "refers to a bulkId that could not be created first (circular or failed)"
        : "refers to an unknown bulkId";
      fail(op, new ScimError(409, undefined, `Operation ${op.index + 1} ${why}: ${missing.join(", ")}.`));
      errors++;
    }
  }

  // The failed operations' rows, in one batch after the response (the others are in their writes).
  if (failedLogs.length) {
    const db = getDb(c.env.DB);
    const rows = failedLogs.map((f) => f.entry.statement(db, f.status, { detail: f.detail }));
    afterResponse(
      c,
      db
        .batch(rows as [(typeof rows)[number], ...typeof rows])
        .catch((err: unknown) =>
          console.error(JSON.stringify({ level: "error", message: "provisioning log write failed", err: String(err) })),
        ),
    );
  }
  const Operations = [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  return scimJson(c, { schemas: [BULK_RESPONSE_SCHEMA], Operations });
});
