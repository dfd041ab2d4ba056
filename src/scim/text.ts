/**
 * The fold every caseExact:false comparison goes through (RFC 7643 §2.2): userName uniqueness and
 * lookups, every filter, sortBy, the `*_norm` columns and `data_fold`. Two strings are the same
 * name when their folds are equal. It is Unicode's NFKC_Casefold (UAX #44; UTS #39 uses it for
 * identifiers), built from what JavaScript has:
 * - NFKC, so canonical equivalents (precomposed é, e + U+0301) and compatibility forms (fullwidth
 *   ｆｕｌｌ, the ligature ﬁ, ℌ) are one;
 * - full case folding, one code point at a time: no context, so the final sigma ς, Σ and σ are all
 *   σ (`toLowerCase` makes a word-final Σ into ς), ß and ẞ are ss, Cherokee letters of either case
 *   are one; a code point folds as lower(upper(lower(upper(c)))), which is Unicode's full folding
 *   up to the representative, except for the dotless ı, which folding keeps apart from i;
 * - default-ignorable code points removed (zero-width joiner and non-joiner, variation selectors,
 *   soft hyphen…): they change nothing a person sees, so they cannot tell two names apart;
 * - NFKC again, since folding can leave a sequence NFKC composes.
 * The fold of a fold is itself (test/property/unicode-fold.test.ts).
 */
export function foldCase(value: string): string {
  if (ASCII.test(value)) return value.toLowerCase();
  const folded = value.normalize("NFKC").replace(FOLDS, foldCodePoint).replace(IGNORABLE, "");
  return folded.normalize("NFKC");
}

const ASCII = /^[\p{ASCII}]*$/u;
/** Code points whose fold may differ from themselves: ASCII capitals and everything outside ASCII. */
const FOLDS = /[A-Z]|[^\p{ASCII}]/gu;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const DOTLESS_I = "\u0131";
const folds = new Map<string, string>();

function foldCodePoint(c: string): string {
  let f = folds.get(c);
  if (f === undefined) {
    f = c === DOTLESS_I ? c : c.toUpperCase().toLowerCase().toUpperCase().toLowerCase();
    // Bounded: a directory's alphabet is small, but a hostile body could name many code points.
    if (folds.size < 4096) folds.set(c, f);
  }
  return f;
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

/** Where `value` has an unpaired UTF-16 surrogate (no Unicode text does), as a 1-based character index. */
export function unpairedSurrogateAt(value: string): number | undefined {
  const m = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(value);
  return m ? [...value.slice(0, m.index)].length + 1 : undefined;
}
