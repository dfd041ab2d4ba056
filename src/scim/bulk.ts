import { ScimError } from "./errors";
import { LIMITS } from "./limits";

/** RFC 7644 §3.7: one operation of a BulkRequest, validated. */
export interface BulkOperation {
  index: number;
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  bulkId: string | undefined;
  version: string | undefined;
  data: unknown;
}

export interface BulkRequest {
  failOnErrors: number | undefined;
  operations: (BulkOperation | { index: number; error: ScimError; method: string; bulkId: string | undefined })[];
}

const METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Deepest nesting of arrays and objects accepted in an operation's data. SCIM resources nest a
 * few levels (resource → extension → manager → value); the bulkId walk below recurses, so a
 * hostile body nested 100,000 levels deep would overflow the stack and answer 500.
 */
const MAX_DATA_DEPTH = 32;

/** Whether `value` nests arrays/objects more than `max` levels deep. Iterative: safe on any input. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.v !== "object" || item.v === null) continue;
    if (item.depth >= max) return true;
    for (const child of Object.values(item.v)) stack.push({ v: child, depth: item.depth + 1 });
  }
  return false;
}

function field(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

/**
 * Parses a BulkRequest. Problems with the whole request (no Operations, too many) throw;
 * problems with one operation become that operation's 400 in the response (RFC 7644 §3.7.3).
 */
export function parseBulkRequest(body: Record<string, unknown>): BulkRequest {
  const ops = field(body, "Operations");
  if (!Array.isArray(ops)) throw new ScimError(400, "invalidSyntax", 'A BulkRequest needs an "Operations" array.');
  if (ops.length > LIMITS.bulkMaxOperations) {
    throw new ScimError(413, undefined, `The BulkRequest has ${ops.length} operations; at most ${LIMITS.bulkMaxOperations} are allowed.`);
  }
  const rawFail = field(body, "failOnErrors");
  if (rawFail !== undefined && (typeof rawFail !== "number" || !Number.isInteger(rawFail) || rawFail < 1)) {
    throw new ScimError(400, "invalidValue", "failOnErrors must be a positive integer.");
  }
  return {
    failOnErrors: rawFail,
    operations: ops.map((raw, index) => {
      const op = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
      const methodRaw = field(op, "method");
      const method = typeof methodRaw === "string" ? methodRaw.toUpperCase() : "";
      const bulkIdRaw = field(op, "bulkId");
      const bulkId = typeof bulkIdRaw === "string" && bulkIdRaw !== "" ? bulkIdRaw : undefined;
      const fail = (detail: string, scimType: "invalidSyntax" | "invalidValue" = "invalidSyntax") => ({
        index,
        method,
        bulkId,
        error: new ScimError(400, scimType, `Operation ${index + 1}: ${detail}`),
      });
      if (!METHODS.has(method)) return fail(`method must be POST, PUT, PATCH or DELETE, got ${JSON.stringify(methodRaw ?? null)}.`);
      const path = field(op, "path");
      if (typeof path !== "string" || !path.startsWith("/")) return fail('path is required, e.g. "/Users" or "/Users/{id}".');
      if (method === "POST" && bulkId === undefined) return fail("bulkId is required for POST (RFC 7644 §3.7).");
      const data = field(op, "data");
      if (method !== "DELETE" && (typeof data !== "object" || data === null || Array.isArray(data))) {
        return fail("data must be a JSON object for POST, PUT and PATCH.");
      }
      if (nestedDeeperThan(data, MAX_DATA_DEPTH)) {
        return fail(`data is nested more than ${MAX_DATA_DEPTH} levels deep; no SCIM resource is.`, "invalidValue");
      }
      const version = field(op, "version");
      return {
        index,
        method: method as BulkOperation["method"],
        path,
        bulkId,
        version: typeof version === "string" ? version : undefined,
        data,
      };
    }),
  };
}

const REF = /^bulkId:(.+)$/;

/** The bulkIds a value refers to (`"bulkId:qwerty"` anywhere in data or path). */
export function referencedBulkIds(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    const m = REF.exec(value) ?? /\/bulkId:([^/?]+)/.exec(value);
    if (m?.[1]) out.add(m[1]);
  } else if (Array.isArray(value)) {
    value.forEach((v) => referencedBulkIds(v, out));
  } else if (typeof value === "object" && value !== null) {
    Object.values(value).forEach((v) => referencedBulkIds(v, out));
  }
  return out;
}

/** Replaces `bulkId:x` references with the ids the earlier POSTs created. */
export function resolveBulkIds<T>(value: T, ids: ReadonlyMap<string, string>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const m = REF.exec(v);
      if (m?.[1] && ids.has(m[1])) return ids.get(m[1]);
      return v.replace(/\/bulkId:([^/?]+)/, (whole, id: string) => (ids.has(id) ? `/${ids.get(id) ?? id}` : whole));
    }
    if (Array.isArray(v)) return v.map(walk);
    // fromEntries defines own properties, so a "__proto__" key stays plain data.
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, walk(val)]));
    return v;
  };
  return walk(value) as T;
}

/** What a Bulk operation may address (RFC 7644 §3.7): a resource collection or one resource. */
export interface BulkTarget {
  resource: "Users" | "Groups";
  id: string | undefined;
}

const TARGET = /^\/(Users|Groups)(?:\/([^/?#]+))?\/?$/i;

/**
 * The resource an operation's path names, or why it names none: only /Users, /Users/{id},
 * /Groups and /Groups/{id} (no other endpoint, no nested /Bulk, no `..`, no query), and the
 * method must fit (POST to a collection; PUT, PATCH, DELETE to one resource).
 */
export function bulkTarget(method: BulkOperation["method"], path: string): BulkTarget | string {
  const m = TARGET.exec(path);
  const resource = m?.[1];
  if (!m || !resource)
    return `path "${path.slice(0, 100)}" is not /Users, /Users/{id}, /Groups or /Groups/{id}; a Bulk operation addresses only those.`;
  let id: string | undefined;
  try {
    id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  } catch {
    return `path "${path.slice(0, 100)}" has a malformed id.`;
  }
  const collection = resource.toLowerCase() === "users" ? "Users" : "Groups";
  if (method === "POST" && id !== undefined) return `POST creates a resource at /${collection}, not at /${collection}/{id}.`;
  if (method !== "POST" && id === undefined) return `${method} needs one resource: /${collection}/{id}.`;
  return { resource: collection, id };
}

/**
 * The order a Bulk request's operations run in (RFC 7644 §3.7.2): always the lowest-numbered one
 * whose bulkId references are all resolved; an operation waits for the POSTs it refers to. Linear
 * in the request: each operation's references are read once, and a created bulkId wakes only the
 * operations waiting on it (a request of 1,000 failing operations used to re-read every waiting
 * operation's data after each one ran: 9.6 s for 1 MiB).
 */
export class BulkSchedule<T extends { index: number }> {
  private readonly ready: T[] = [];
  private readonly waitingOn = new Map<string, T[]>();
  private readonly missing = new Map<T, number>();
  private readonly refs = new Map<T, ReadonlySet<string>>();

  constructor(ops: readonly T[], refsOf: (op: T) => ReadonlySet<string>) {
    for (const op of ops) {
      const refs = refsOf(op);
      this.refs.set(op, refs);
      if (refs.size === 0) this.push(op);
      this.missing.set(op, refs.size);
      for (const id of refs) {
        const list = this.waitingOn.get(id);
        if (list) list.push(op);
        else this.waitingOn.set(id, [op]);
      }
    }
  }

  /** The next operation to run, or undefined when none can (the rest wait on what never comes). */
  next(): T | undefined {
    const top = this.ready[0];
    const last = this.ready.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.ready.length > 0) {
      this.ready[0] = last;
      this.siftDown(0);
    }
    this.missing.delete(top);
    return top;
  }

  /** A POST created `bulkId`: the operations waiting on it may run once nothing else is missing. */
  created(bulkId: string): void {
    for (const op of this.waitingOn.get(bulkId) ?? []) {
      const left = (this.missing.get(op) ?? 0) - 1;
      this.missing.set(op, left);
      if (left === 0) this.push(op);
    }
    this.waitingOn.delete(bulkId);
  }

  /** The operations that never became ready, in order, with the bulkIds each still lacks. */
  stuck(created: ReadonlySet<string> | ReadonlyMap<string, string>): { op: T; missing: string[] }[] {
    return [...this.missing.keys()]
      .filter((op) => !this.ready.includes(op))
      .sort((a, b) => a.index - b.index)
      .map((op) => ({ op, missing: [...(this.refs.get(op) ?? [])].filter((id) => !created.has(id)) }));
  }

  private push(op: T): void {
    this.ready.push(op);
    let i = this.ready.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const a = this.ready[i];
      const b = this.ready[parent];
      if (!a || !b || b.index <= a.index) break;
      this.ready[i] = b;
      this.ready[parent] = a;
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.ready.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const at = (k: number) => this.ready[k]?.index ?? Number.POSITIVE_INFINITY;
      if (l < n && at(l) < at(m)) m = l;
      if (r < n && at(r) < at(m)) m = r;
      if (m === i) return;
      const a = this.ready[i];
      const b = this.ready[m];
      if (!a || !b) return;
      this.ready[i] = b;
      this.ready[m] = a;
      i = m;
    }
  }
}
