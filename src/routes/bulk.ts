import { Hono } from "hono";
import type { AppEnv } from "../env";
import { readJsonObject } from "../http/body";
import { scimJson } from "../http/respond";
import { type BulkOperation, parseBulkRequest, referencedBulkIds, resolveBulkIds } from "../scim/bulk";
import { LIMITS } from "../scim/discovery";
import { ScimError } from "../scim/errors";
import { BULK_RESPONSE_SCHEMA } from "../scim/schemas";
import { dispatchInternal } from "./internal";

interface OperationResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

export const bulkRoutes = new Hono<AppEnv>();

/**
 * POST /Bulk (RFC 7644 §3.7). Each operation runs as the same request would alone, in order;
 * an operation that refers to a bulkId created later waits for it (RFC 7644 §3.7.2), and one
 * that can never be resolved (unknown or circular) answers 409. failOnErrors stops the rest.
 */
bulkRoutes.post("/", async (c) => {
  const request = parseBulkRequest(await readJsonObject(c, LIMITS.bulkMaxPayloadSize));
  const results = new Map<number, OperationResult>();
  const created = new Map<string, string>();
  const postedBulkIds = new Set(
    request.operations.flatMap((op) => ("error" in op || op.method !== "POST" || op.bulkId === undefined ? [] : [op.bulkId])),
  );
  let errors = 0;
  const failLimit = request.failOnErrors ?? Number.POSITIVE_INFINITY;

  for (const op of request.operations) {
    if ("error" in op)
      results.set(op.index, { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}), status: "400", response: op.error.toBody() });
  }
  errors = results.size;
  let pending = request.operations.filter((op): op is BulkOperation => !("error" in op));

  while (pending.length && errors < failLimit) {
    const ready = pending.filter((op) => [...referencedBulkIds([op.path, op.data])].every((id) => created.has(id)));
    const waiting = pending.filter((op) => !ready.includes(op));
    if (!ready.length) {
      for (const op of waiting) {
        const missing = [...referencedBulkIds([op.path, op.data])].filter((id) => !created.has(id));
        const why = missing.some((id) => postedBulkIds.has(id))
          ? "refers to a bulkId that could not be created first (circular or failed)"
          : "refers to an unknown bulkId";
        const err = new ScimError(409, undefined, `Operation ${op.index + 1} ${why}: ${missing.join(", ")}.`);
        results.set(op.index, { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}), status: "409", response: err.toBody() });
        errors++;
      }
      break;
    }
    const op = ready.reduce((a, b) => (a.index <= b.index ? a : b));
    pending = pending.filter((p) => p !== op);
    const res = await dispatchInternal(
      c,
      op.method,
      resolveBulkIds(op.path, created),
      op.method === "DELETE" ? undefined : resolveBulkIds(op.data, created),
    );
    const text = await res.text();
    // Sub-responses are this service's own JSON (or empty for 204).
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const result: OperationResult = { method: op.method, status: String(res.status) };
    if (op.bulkId) result.bulkId = op.bulkId;
    const path = resolveBulkIds(op.path, created);
    const location = op.method === "POST" ? res.headers.get("location") : `${c.get("baseUrl")}${path}`;
    if (res.status < 300) {
      if (location) result.location = location;
      const etag = res.headers.get("etag");
      if (etag) result.version = etag;
      if (
        op.method === "POST" &&
        op.bulkId &&
        typeof body === "object" &&
        body !== null &&
        typeof (body as { id?: unknown }).id === "string"
      ) {
        created.set(op.bulkId, (body as { id: string }).id);
      }
    } else {
      result.response = body;
      errors++;
    }
    results.set(op.index, result);
  }

  const Operations = [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  return scimJson(c, { schemas: [BULK_RESPONSE_SCHEMA], Operations });
});
