/**
 * The case-folded form used for case-insensitive uniqueness and matching of userName and
 * displayName. SQLite's NOCASE folds ASCII only; this folds every script the same way
 * on write and on lookup.
 */
export function foldCase(value: string): string {
  return value.normalize("NFKC").toLowerCase();
}

/**
 * Compares by Unicode code point, the order SQLite's BINARY collation gives (UTF-8 bytes):
 * JavaScript's `<` compares UTF-16 code units, which puts "😀" (U+1F600) before "\uE000".
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only where a surrogate meets a code unit above it does UTF-16 order differ from code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
