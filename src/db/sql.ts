import { type SQL, sql } from "drizzle-orm";

/**
 * A statement that fails the whole D1 batch (rolling it back) unless the statement before it
 * changed exactly one row: the compare-and-set guard after `UPDATE ... WHERE version = ?`.
 * json() of a non-JSON string is an error, the one way plain SQL can abort a batch.
 */
const CAS_FAILED_MARKER = "malformed JSON";
export const casGuard = sql`SELECT json(CASE WHEN changes() = 1 THEN '1' ELSE 'version-conflict' END)`;

export function isCasConflict(err: unknown): boolean {
  return String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err).includes(CAS_FAILED_MARKER);
}

/** A UNIQUE constraint refused the statement (on `column`, if given): the batch rolled back. */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const text = String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err);
  return text.includes("UNIQUE constraint failed") && (column === undefined || text.includes(column));
}

/**
 * An id list as ONE bound parameter (a JSON array read with json_each), for `x IN ${idsIn(ids)}`:
 * a statement costs the same for 1 or 10,000 ids and never meets D1's 100-parameter limit.
 */
export const idsIn = (ids: readonly string[]): SQL => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
