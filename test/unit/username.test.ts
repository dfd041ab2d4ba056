import { describe, expect, it } from "vitest";
import { ScimError } from "../../src/scim/errors";
import { foldCase } from "../../src/scim/text";
import { assertUserName, userNameProblem } from "../../src/scim/username";

/** What a userName may hold (src/scim/username.ts): refusing must never break a legitimate name. */
describe("userNames Okta and Entra send are accepted", () => {
  it.each([
    ["an email", "bjensen@example.com"],
    ["a UPN", "Barbara.Jensen@contoso.onmicrosoft.com"],
    ["Greek with a final sigma", "ΟΔΥΣΣΕΥΣ@ithaca.example"],
    ["Cyrillic", "иван.петров@пример.рф"],
    ["German", "jürgen.straße@example.de"],
    ["combining marks (NFD)", "Ame\u0301lie@example.com"],
    ["Persian with a zero-width non-joiner", "می\u200Cخواهم@example.ir"],
    ["Devanagari with a zero-width joiner", "क्\u200Dष@example.in"],
    ["an emoji family (zero-width joiners)", "👨\u200D👩\u200D👧@example.com"],
    ["an emoji with a variation selector", "❤\uFE0F@example.com"],
    ["CJK", "山田太郎@example.jp"],
    ["Arabic", "محمد@example.sa"],
    ["a space inside", "Barbara Jensen"],
    ["a Turkish dotless ı", "kırmızı@example.tr"],
    ["private use", "\uE000@example.com"],
  ])("%s: %s", (_, userName) => {
    expect(userNameProblem(userName)).toBeUndefined();
    expect(() => assertUserName(userName)).not.toThrow();
  });
});

describe("userNames no person could tell apart or read are refused with a 400 naming the character", () => {
  it.each([
    ["NUL", "bob\u0000x", /control character U\+0000 at character 4/],
    ["a tab", "bob\tx", /control character U\+0009/],
    ["a line feed", "bob\n", /control character U\+000A/],
    ["DEL", "bob\u007f", /U\+007F/],
    ["a C1 control", "bob\u0085", /U\+0085/],
    ["a line separator", "bob\u2028x", /line or paragraph separator \(U\+2028\)/],
    ["an unpaired surrogate", "bob\uD800x", /unpaired surrogate \(U\+D800\)/],
    ["a noncharacter", "bob\uFFFE", /noncharacter U\+FFFE/],
    ["a zero-width space", "bo\u200Bb", /U\+200B ZERO WIDTH SPACE at character 3/],
    ["a soft hyphen", "bo\u00ADb", /U\+00AD SOFT HYPHEN/],
    ["a byte-order mark", "\uFEFFbob", /U\+FEFF ZERO WIDTH NO-BREAK SPACE/],
    ["a right-to-left override", "\u202Emoc.elpmaxe@bob", /U\+202E RIGHT-TO-LEFT OVERRIDE/],
    ["a word joiner", "bo\u2060b", /U\+2060 WORD JOINER/],
    ["a Hangul filler", "\u3164", /U\+3164 HANGUL FILLER/],
    ["a trailing space", "bob ", /ends with a space \(U\+0020\)/],
    ["a leading no-break space", "\u00A0bob", /begins with a space \(U\+00A0\)/],
    ["a trailing ideographic space", "bob\u3000", /ends with a space \(U\+3000\)/],
    ["nothing visible", "\u200D\uFE0F", /no visible characters/],
  ])("%s", (_, userName, detail) => {
    expect(userNameProblem(userName)).toMatch(detail);
    try {
      assertUserName(userName);
      throw new Error("accepted");
    } catch (err) {
      expect(err).toBeInstanceOf(ScimError);
      expect((err as ScimError).status).toBe(400);
      expect((err as ScimError).scimType).toBe("invalidValue");
      expect((err as ScimError).detail).toMatch(detail);
    }
  });
});

describe("foldCase: one name, however it is written", () => {
  it.each([
    ["final and medial sigma", "ΟΔΟΣ@u.example", "οδοσ@u.example"],
    ["a word-final ς", "οδος", "ΟΔΟΣ"],
    ["ß and ss", "Straße", "STRASSE"],
    ["capital ẞ", "ẞ", "ss"],
    ["NFC and NFD", "\u00E9", "e\u0301"],
    ["fullwidth", "ｆｕｌｌ", "FULL"],
    ["a ligature", "ﬁle", "FILE"],
    ["a zero-width joiner", "bo\u200Db", "bob"],
    ["a variation selector", "a\uFE0Fb", "ab"],
    ["Cherokee in either case", "\u13A0", "\uAB70"],
    ["Kelvin sign", "\u212A", "k"],
  ])("%s", (_, a, b) => {
    expect(foldCase(a)).toBe(foldCase(b));
  });

  it.each([
    ["the dotless ı and i", "ı", "i"],
    ["Cyrillic о and Latin o (a look-alike, not the same letter)", "b\u043Eb", "bob"],
    ["a space", "bob ", "bob"],
  ])("keeps apart %s", (_, a, b) => {
    expect(foldCase(a)).not.toBe(foldCase(b));
  });
});
