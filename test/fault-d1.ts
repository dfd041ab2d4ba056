/**
 * Fault injection AROUND the real D1 binding (not a fake of it): every call goes to the real
 * local D1 unless a rule picks it, and a picked call fails the way D1 really fails.
 *
 * - "unavailable": the call throws before reaching D1 (a lost connection, an overloaded database).
 * - "midBatch": the real batch runs with a statement that the real SQLite rejects inserted after
 *   its first `at` statements, so D1 executes part of the batch and must roll all of it back.
 * - "afterCommit": the real call commits, then the caller sees an error (the answer was lost).
 */

export type Fault = { kind: "unavailable" } | { kind: "midBatch"; at: number } | { kind: "afterCommit" };

export interface D1Call {
  kind: "batch" | "statement";
  /** The SQL of each statement, as drizzle wrote it. */
  sql: string[];
  /** The bound values of each statement. */
  values: unknown[][];
  /** 1-based count of calls made through this wrapper so far, this one included. */
  n: number;
}

export type FaultRule = (call: D1Call) => Fault | undefined;

/** What the real D1 answers for these, so callers see D1's own error shapes. */
const UNAVAILABLE_MESSAGE = "D1_ERROR: Network connection lost.";
const FAILING_STATEMENT = "SELECT * FROM fault_injected_no_such_table";

class FaultyStatement implements D1PreparedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly sql: string,
    readonly values: unknown[],
    private readonly db: FaultyD1,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new FaultyStatement(this.inner.bind(...values), this.sql, values, this.db);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return this.db.single(this, () => (colName === undefined ? this.inner.first<T>() : this.inner.first<T>(colName)));
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.db.single(this, () => this.inner.run<T>());
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.db.single(this, () => this.inner.all<T>());
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    if (options?.columnNames === true) return this.db.single(this, () => this.inner.raw<T>({ columnNames: true }));
    return this.db.single(this, () => this.inner.raw<T>());
  }
}

const unwrap = (s: D1PreparedStatement): D1PreparedStatement => (s instanceof FaultyStatement ? s.inner : s);

export class FaultyD1 implements D1Database {
  /** Every call made, in order, with the fault applied to it (if any). */
  readonly calls: (D1Call & { fault: Fault | undefined })[] = [];

  constructor(
    private readonly real: D1Database,
    private readonly rule: FaultRule,
  ) {}

  private decide(kind: D1Call["kind"], statements: FaultyStatement[]): Fault | undefined {
    const call: D1Call = { kind, sql: statements.map((s) => s.sql), values: statements.map((s) => s.values), n: this.calls.length + 1 };
    const fault = this.rule(call);
    this.calls.push({ ...call, fault });
    return fault;
  }

  async single<T>(stmt: FaultyStatement, run: () => Promise<T>): Promise<T> {
    const fault = this.decide("statement", [stmt]);
    if (fault?.kind === "unavailable") throw new Error(UNAVAILABLE_MESSAGE);
    if (fault?.kind === "midBatch") {
      // The statement runs inside a real batch that then fails, so D1 rolls it back and throws.
      await this.real.batch([stmt.inner, this.real.prepare(FAILING_STATEMENT)]);
      throw new Error("unreachable: the injected statement always fails");
    }
    const result = await run();
    if (fault?.kind === "afterCommit") throw new Error(UNAVAILABLE_MESSAGE);
    return result;
  }

  prepare(query: string): D1PreparedStatement {
    return new FaultyStatement(this.real.prepare(query), query, [], this);
  }

  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const wrapped = statements.filter((s): s is FaultyStatement => s instanceof FaultyStatement);
    const fault = this.decide("batch", wrapped);
    const inner = statements.map(unwrap);
    if (fault?.kind === "unavailable") throw new Error(UNAVAILABLE_MESSAGE);
    if (fault?.kind === "midBatch") {
      const at = Math.min(fault.at, inner.length);
      // The real D1 runs the first `at` statements, meets the failing one and rolls back.
      return this.real.batch<T>([...inner.slice(0, at), this.real.prepare(FAILING_STATEMENT), ...inner.slice(at)]);
    }
    const result = await this.real.batch<T>(inner);
    if (fault?.kind === "afterCommit") throw new Error(UNAVAILABLE_MESSAGE);
    return result;
  }

  exec(query: string): Promise<D1ExecResult> {
    return this.real.exec(query);
  }

  withSession(constraintOrBookmark?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession {
    return this.real.withSession(constraintOrBookmark);
  }

  dump(): Promise<ArrayBuffer> {
    return this.real.dump();
  }
}

/** Rule helpers: match a call by the SQL of any of its statements. */
export const touches = (call: D1Call, pattern: RegExp): boolean => call.sql.some((s) => pattern.test(s));
