import { type SQL, sql } from "drizzle-orm";
import type { Direction, SortValue } from "../scim/paging";

/**
 * A list's order (RFC 7644 §3.4.2.3): by `key` (ascending or descending, unassigned values last),
 * then by seq ascending, so two resources never tie and a page boundary is always one place.
 * Without a key, by seq alone: insertion order. src/db/filter-sql.ts makes one from sortBy.
 */
export interface SortSpec {
  /** The sort value of a row, or undefined for insertion order. */
  key: SQL | undefined;
  descending: boolean;
  /** The key can be NULL (an unassigned attribute); an indexed NOT NULL column cannot. */
  nullable: boolean;
}

/**
 * ORDER BY terms for `spec`, with the key and seq as the given expressions (a table's columns, or
 * a subquery's). `reverse` is the same order backwards, for reading a previous page from its
 * cursor. NULLS LAST is written only where a NULL can occur, so an index on a NOT NULL column
 * still gives the order.
 */
export function orderSql(spec: SortSpec, key: SQL | undefined, seq: SQL, reverse = false): SQL {
  const seqTerm = sql`${seq} ${sql.raw(reverse ? "DESC" : "ASC")}`;
  if (!spec.key || !key) return seqTerm;
  const descending = spec.descending !== reverse;
  const nulls = spec.nullable ? (reverse ? " NULLS FIRST" : " NULLS LAST") : "";
  return sql`${key} ${sql.raw(descending ? "DESC" : "ASC")}${sql.raw(nulls)}, ${seqTerm}`;
}

/**
 * The rows strictly after (direction "next") or before ("previous") the place (`at`, `seq`) in
 * `spec`'s order: a keyset condition, so a page anywhere in the list is a range read of the
 * order's index, never an OFFSET. Written as `key >= ? AND (key > ? OR seq > ?)` so SQLite can
 * range-scan an index on the key (whose entries end with the rowid, seq).
 */
export function keysetSql(spec: SortSpec, key: SQL | undefined, seq: SQL, direction: Direction, at: SortValue, atSeq: number): SQL {
  const next = direction === "next";
  const seqCmp = sql`${seq} ${sql.raw(next ? ">" : "<")} ${atSeq}`;
  if (!spec.key || !key) return seqCmp;
  // Forward in the key's own direction: ">" ascending, "<" descending; backwards the opposite.
  const up = next !== spec.descending;
  const strict = sql.raw(up ? ">" : "<");
  const orEqual = sql.raw(up ? ">=" : "<=");
  if (at === null) {
    // Unassigned values sort last: after one come only later unassigned ones; before it, every assigned one too.
    return next ? sql`(${key} IS NULL AND ${seqCmp})` : sql`(${key} IS NOT NULL OR ${seqCmp})`;
  }
  const range = sql`(${key} ${orEqual} ${at} AND (${key} ${strict} ${at} OR ${seqCmp}))`;
  // After an assigned value come all the unassigned ones (last, in both directions).
  return next && spec.nullable ? sql`(${range} OR ${key} IS NULL)` : range;
}
