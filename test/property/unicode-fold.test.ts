import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { foldCase } from "../../src/scim/text";

/** foldCase is a normal form: the fold of a fold is itself, and case and normalisation never matter. */
const unicode = fc.string({ unit: "grapheme", maxLength: 24 });
const anyCodePoints = fc.string({
  unit: fc
    .integer({ min: 0, max: 0x2ffff })
    .filter((cp) => cp < 0xd800 || cp > 0xdfff)
    .map((cp) => String.fromCodePoint(cp)),
  maxLength: 12,
});

describe("foldCase", () => {
  it("is idempotent", () => {
    fc.assert(
      fc.property(fc.oneof(unicode, anyCodePoints), (s) => {
        expect(foldCase(foldCase(s))).toBe(foldCase(s));
      }),
      { numRuns: 2000 },
    );
  });

  it("ignores letter case and normalisation form", () => {
    // The dotless ı upper-cases to I, whose fold is i: folding keeps ı apart from i (test/unit/username.test.ts).
    fc.assert(
      fc.property(
        fc.oneof(unicode, anyCodePoints).filter((s) => !s.includes("\u0131")),
        (s) => {
          const f = foldCase(s);
          for (const v of [s.toUpperCase(), s.toLowerCase(), s.normalize("NFD"), s.normalize("NFC"), s.normalize("NFKD")])
            expect(foldCase(v)).toBe(f);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("every single code point folds to a fixed point", () => {
    for (let cp = 0; cp <= 0x2ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const f = foldCase(String.fromCodePoint(cp));
      if (foldCase(f) !== f) throw new Error(`U+${cp.toString(16)} folds to ${JSON.stringify(f)}, which folds on`);
    }
  });
});
