/**
 * The case-folded form used for case-insensitive uniqueness and matching of userName and
 * displayName. SQLite's NOCASE folds ASCII only; this folds every script the same way
 * on write and on lookup.
 */
export function foldCase(value: string): string {
  return value.normalize("NFKC").toLowerCase();
}
