/**
 * D1 statistics for the benchmark (bench/README.md): how many D1 round trips and SQL statements a
 * request costs, counted by the service itself rather than guessed. A round trip is one call
 * that goes to D1 (a statement's run/all/first/raw, a batch, an exec); a batch of n statements
 * is one round trip and n statements.
 *
 * A call is counted when it settles. If it settled before the Worker returned its Response it
 * was on the request's path; otherwise it is deferred work (waitUntil: the provisioning-log row
 * of a read, the mark-queued update after a write). The response headers carry the on-path
 * counts (and the SQL time and rows read D1 reports in each result's meta); the per-isolate totals,
 * deferred work included, are served at D1_STATS_PATH.
 *
 * Enabled only when the var D1_STATS is "1" (`wrangler dev --var D1_STATS:1`); it is never set in
 * wrangler.toml, so a deployed Worker neither wraps D1 nor serves the totals.
 */

interface D1Counts {
  roundTrips: number;
  statements: number;
  /** Time spent executing SQL inside D1 (the sum of each result's meta.duration), in ms. */
  sqlMs: number;
  /** Rows D1 read to run the SQL (meta.rows_read, what D1 bills): the cost that grows with a scan. */
  rowsRead: number;
}

export interface D1Totals {
  /** Requests served through the wrapper (the totals route itself excluded). */
  requests: number;
  onPath: D1Counts;
  deferred: D1Counts;
  /** Queue batches handled (event deliveries, job chunks) and what they cost. */
  batches: number;
  background: D1Counts;
}

export interface DebugBindings {
  D1_STATS?: string;
}

export const D1_STATS_PATH = "/debug/d1-stats";
const ROUND_TRIPS_HEADER = "X-D1-Round-Trips";
const STATEMENTS_HEADER = "X-D1-Statements";
const SQL_MS_HEADER = "X-D1-Sql-Ms";
const ROWS_READ_HEADER = "X-D1-Rows-Read";

const zero = (): D1Counts => ({ roundTrips: 0, statements: 0, sqlMs: 0, rowsRead: 0 });

function metaOf(result: unknown, key: "duration" | "rows_read"): number {
  if (typeof result !== "object" || result === null || !("meta" in result)) return 0;
  const meta: unknown = result.meta;
  if (typeof meta !== "object" || meta === null || !(key in meta)) return 0;
  const value: unknown = (meta as Record<string, unknown>)[key];
  return typeof value === "number" ? value : 0;
}

/** A meta figure D1 reports, summed over a result or a batch's results (first() and raw() report none). */
function sumOf(result: unknown, key: "duration" | "rows_read"): number {
  return Array.isArray(result) ? result.reduce((t: number, r: unknown) => t + metaOf(r, key), 0) : metaOf(result, key);
}

/** Per-isolate totals: wrangler dev runs one isolate, so these are the whole bench's. */
const totals: D1Totals = { requests: 0, onPath: zero(), deferred: zero(), batches: 0, background: zero() };

function d1Totals(): D1Totals {
  return { ...totals, onPath: { ...totals.onPath }, deferred: { ...totals.deferred }, background: { ...totals.background } };
}

/** One request's counts, split at the moment its Response was ready. */
class D1Stats {
  readonly onPath = zero();
  readonly deferred = zero();
  private responded = false;

  /** `background`: a queue batch's counts, which has no response to split at. */
  constructor(private readonly background = false) {}

  /** Counts `statements` statements in one round trip when `call` settles, whatever the outcome. */
  track<T>(call: Promise<T>, statements: number): Promise<T> {
    return call.then(
      (result) => {
        this.record(statements, sumOf(result, "duration"), sumOf(result, "rows_read"));
        return result;
      },
      (err: unknown) => {
        this.record(statements, 0, 0);
        throw err;
      },
    );
  }

  /** Marks the Response as ready and returns what the request waited for. */
  respond(): D1Counts {
    this.responded = true;
    return { ...this.onPath };
  }

  private record(statements: number, sqlMs: number, rowsRead: number): void {
    const sinks = this.background ? [totals.background] : this.responded ? [this.deferred, totals.deferred] : [this.onPath, totals.onPath];
    for (const c of sinks) {
      c.roundTrips += 1;
      c.statements += statements;
      c.sqlMs += sqlMs;
      c.rowsRead += rowsRead;
    }
  }
}

class CountingStatement implements D1PreparedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly stats: D1Stats,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new CountingStatement(this.inner.bind(...values), this.stats);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return this.stats.track(colName === undefined ? this.inner.first<T>() : this.inner.first<T>(colName), 1);
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.stats.track(this.inner.run<T>(), 1);
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.stats.track(this.inner.all<T>(), 1);
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    if (options?.columnNames === true) return this.stats.track(this.inner.raw<T>({ columnNames: true }), 1);
    return this.stats.track(this.inner.raw<T>(), 1);
  }
}

/** D1's batch needs its own statement objects back, not the wrappers. */
const unwrap = (s: D1PreparedStatement): D1PreparedStatement => (s instanceof CountingStatement ? s.inner : s);

class CountingSession implements D1DatabaseSession {
  constructor(
    private readonly inner: D1DatabaseSession,
    private readonly stats: D1Stats,
  ) {}

  prepare(query: string): D1PreparedStatement {
    return new CountingStatement(this.inner.prepare(query), this.stats);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.stats.track(this.inner.batch<T>(statements.map(unwrap)), statements.length);
  }

  getBookmark(): D1SessionBookmark | null {
    return this.inner.getBookmark();
  }
}

class CountingDatabase implements D1Database {
  constructor(
    private readonly inner: D1Database,
    private readonly stats: D1Stats,
  ) {}

  prepare(query: string): D1PreparedStatement {
    return new CountingStatement(this.inner.prepare(query), this.stats);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.stats.track(this.inner.batch<T>(statements.map(unwrap)), statements.length);
  }

  /** exec runs a script of several statements; it is counted as one (the service never uses it). */
  exec(query: string): Promise<D1ExecResult> {
    return this.stats.track(this.inner.exec(query), 1);
  }

  withSession(constraintOrBookmark?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession {
    return new CountingSession(this.inner.withSession(constraintOrBookmark), this.stats);
  }

  dump(): Promise<ArrayBuffer> {
    return this.stats.track(this.inner.dump(), 1);
  }
}

function countingD1(db: D1Database, stats: D1Stats): D1Database {
  return new CountingDatabase(db, stats);
}

type Fetch<E> = (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>;

/**
 * Runs one request with a counting D1 in a per-request copy of env (the shared env is never
 * changed, so concurrent requests count separately) and adds the on-path counts as headers.
 */
export async function fetchWithD1Stats<E extends { DB: D1Database }>(
  request: Request,
  env: E,
  ctx: ExecutionContext,
  fetch: Fetch<E>,
): Promise<Response> {
  if (new URL(request.url).pathname === D1_STATS_PATH) return Response.json(d1Totals());
  const stats = new D1Stats();
  totals.requests += 1;
  const res = await fetch(request, { ...env, DB: countingD1(env.DB, stats) }, ctx);
  const counts = stats.respond();
  // A Response from fetch may have immutable headers: copy it (the body is streamed, not read).
  const out = new Response(res.body, res);
  out.headers.set(ROUND_TRIPS_HEADER, String(counts.roundTrips));
  out.headers.set(STATEMENTS_HEADER, String(counts.statements));
  out.headers.set(SQL_MS_HEADER, String(counts.sqlMs));
  out.headers.set(ROWS_READ_HEADER, String(counts.rowsRead));
  return out;
}

type QueueHandler<E> = (batch: MessageBatch<unknown>, env: E, ctx: ExecutionContext) => void | Promise<void>;

/** Runs one queue batch with a counting D1, added to the totals' background counts. */
export async function queueWithD1Stats<E extends { DB: D1Database }>(
  batch: MessageBatch<unknown>,
  env: E,
  ctx: ExecutionContext,
  queue: QueueHandler<E>,
): Promise<void> {
  totals.batches += 1;
  await queue(batch, { ...env, DB: countingD1(env.DB, new D1Stats(true)) }, ctx);
}
