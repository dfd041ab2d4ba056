import { ScimError } from "./errors";
import { foldCase } from "./text";

/**
 * What a userName may hold. Okta and Entra send a userName with any Unicode (an email, a UPN, or
 * whatever attribute an admin maps to it: names in every script, emoji, Persian and Indic names
 * that need the zero-width (non-)joiner), so nothing a real name can contain is refused. Refused,
 * each with a 400 naming the character and where it is:
 * - control characters (U+0000–U+001F, U+007F–U+009F) and line or paragraph separators: no name
 *   holds a line break or a NUL, and they break what the site prints;
 * - unpaired surrogates and noncharacters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF): not text at all;
 * - invisible characters that no name needs and that exist to hide or reorder text: zero-width
 *   space, soft hyphen, byte-order mark, word joiner and the invisible operators, the Mongolian
 *   vowel separator, the Hangul fillers, and the bidirectional controls (a right-to-left override
 *   makes "moc.elpmaxe@bob" display as another name);
 * - a space (any White_Space) at either end, which no one can see;
 * - a userName whose fold is empty (nothing visible in it).
 * Everything else is accepted and kept exactly as sent; it is compared through foldCase
 * (src/scim/text.ts), so the other invisible characters (the joiners, variation selectors) and
 * every case and normalisation form of a name are one name: a second user that differs only in
 * them is 409 `uniqueness`.
 */
export function assertUserName(userName: string): void {
  const problem = userNameProblem(userName);
  if (problem !== undefined) throw new ScimError(400, "invalidValue", `userName ${JSON.stringify(userName)} ${problem}`);
}

/** Invisible characters that no name needs (see assertUserName), by code point. */
const HIDDEN: ReadonlyMap<number, string> = new Map([
  [0x00ad, "SOFT HYPHEN"],
  [0x061c, "ARABIC LETTER MARK"],
  [0x115f, "HANGUL CHOSEONG FILLER"],
  [0x1160, "HANGUL JUNGSEONG FILLER"],
  [0x180e, "MONGOLIAN VOWEL SEPARATOR"],
  [0x200b, "ZERO WIDTH SPACE"],
  [0x200e, "LEFT-TO-RIGHT MARK"],
  [0x200f, "RIGHT-TO-LEFT MARK"],
  [0x202a, "LEFT-TO-RIGHT EMBEDDING"],
  [0x202b, "RIGHT-TO-LEFT EMBEDDING"],
  [0x202c, "POP DIRECTIONAL FORMATTING"],
  [0x202d, "LEFT-TO-RIGHT OVERRIDE"],
  [0x202e, "RIGHT-TO-LEFT OVERRIDE"],
  [0x2060, "WORD JOINER"],
  [0x2061, "FUNCTION APPLICATION"],
  [0x2062, "INVISIBLE TIMES"],
  [0x2063, "INVISIBLE SEPARATOR"],
  [0x2064, "INVISIBLE PLUS"],
  [0x2066, "LEFT-TO-RIGHT ISOLATE"],
  [0x2067, "RIGHT-TO-LEFT ISOLATE"],
  [0x2068, "FIRST STRONG ISOLATE"],
  [0x2069, "POP DIRECTIONAL ISOLATE"],
  [0x3164, "HANGUL FILLER"],
  [0xfeff, "ZERO WIDTH NO-BREAK SPACE (byte-order mark)"],
  [0xffa0, "HALFWIDTH HANGUL FILLER"],
]);

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
const SPACE = /^\p{White_Space}$/u;

/** Why `userName` is refused (the end of a sentence), or undefined when it is a userName. */
export function userNameProblem(userName: string): string | undefined {
  const chars = [...userName];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? "";
    const cp = c.codePointAt(0) ?? 0;
    const at = `at character ${i + 1}`;
    if (cp >= 0xd800 && cp <= 0xdfff) return `holds an unpaired surrogate (${hex(cp)}) ${at}: it is not valid Unicode text.`;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f))
      return `holds the control character ${hex(cp)} ${at}; a userName can't hold control characters.`;
    if (cp === 0x2028 || cp === 0x2029) return `holds a line or paragraph separator (${hex(cp)}) ${at}.`;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return `holds the noncharacter ${hex(cp)} ${at}: it is not text.`;
    const hidden = HIDDEN.get(cp);
    if (hidden !== undefined) {
      return `holds the invisible character ${hex(cp)} ${hidden} ${at}; remove it (it can make one name look like another).`;
    }
  }
  const first = chars[0] ?? "";
  const last = chars[chars.length - 1] ?? "";
  if (SPACE.test(first) || SPACE.test(last)) {
    const cp = (SPACE.test(first) ? first : last).codePointAt(0) ?? 0;
    return `${SPACE.test(first) ? "begins" : "ends"} with a space (${hex(cp)}); remove it: no one can see it, so it can make two users look like one.`;
  }
  if (foldCase(userName).trim() === "") return "has no visible characters.";
  return undefined;
}

/**
 * Letters of other scripts that look like Latin ones in most fonts (after UTS #39's
 * confusables.txt, the cross-script entries for Latin letters that names are made of). A userName
 * written with them can pass for another user's: `bоb` with a Cyrillic о looks like `bob`.
 */
const LATIN_LOOKALIKES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: "a",
  е: "e",
  о: "o",
  р: "p",
  с: "c",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ј: "j",
  һ: "h",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ӏ: "l",
  ү: "y",
  А: "A",
  В: "B",
  Е: "E",
  К: "K",
  М: "M",
  Н: "H",
  О: "O",
  Р: "P",
  С: "C",
  Т: "T",
  Х: "X",
  У: "Y",
  Ѕ: "S",
  І: "I",
  Ј: "J",
  Ԁ: "D",
  Ү: "Y",
  // Greek
  α: "a",
  ο: "o",
  ν: "v",
  ι: "i",
  κ: "k",
  ρ: "p",
  υ: "u",
  χ: "x",
  Α: "A",
  Β: "B",
  Ε: "E",
  Ζ: "Z",
  Η: "H",
  Ι: "I",
  Κ: "K",
  Μ: "M",
  Ν: "N",
  Ο: "O",
  Ρ: "P",
  Τ: "T",
  Υ: "Y",
  Χ: "X",
  // Armenian
  օ: "o",
  ս: "u",
  հ: "h",
  ց: "g",
  ք: "p",
};

const SCRIPTS = [
  "Latin",
  "Cyrillic",
  "Greek",
  "Armenian",
  "Georgian",
  "Cherokee",
  "Arabic",
  "Hebrew",
  "Han",
  "Hangul",
  "Hiragana",
  "Katakana",
  "Thai",
  "Devanagari",
] as const;
const CJK_WITH_LATIN: ReadonlySet<string> = new Set(["Latin", "Han", "Hiragana", "Katakana", "Hangul"]);
const SCRIPT_OF = SCRIPTS.map((name) => ({ name, re: new RegExp(`\\p{Script=${name}}`, "u") }));

/** The folded userName with other scripts' Latin look-alikes read as Latin, when that differs: the name it can pass for. */
export function latinLookalikeKey(userName: string): string | undefined {
  let mapped = "";
  let changed = false;
  for (const c of userName) {
    const latin = LATIN_LOOKALIKES[c];
    if (latin !== undefined) changed = true;
    mapped += latin ?? c;
  }
  return changed ? foldCase(mapped) : undefined;
}

/**
 * Why an admin should look twice at a userName (the admin page marks the user): invisible
 * characters in it, letters of several scripts, or a userName stored before the rules that
 * would refuse it now. Empty for an ordinary name.
 */
export function lookalikeReasons(userName: string): string[] {
  const reasons: string[] = [];
  const legacy = userNameProblem(userName);
  if (legacy !== undefined) reasons.push(`stored before the userName rules: it ${legacy}`);
  const invisible = [...new Set([...userName].filter((c) => /\p{Default_Ignorable_Code_Point}/u.test(c)))];
  if (invisible.length > 0) {
    reasons.push(
      `holds invisible characters (${invisible.map((c) => hex(c.codePointAt(0) ?? 0)).join(", ")}) that do not tell it apart from the same name without them`,
    );
  }
  const scripts = SCRIPT_OF.filter((s) => [...userName].some((c) => s.re.test(c))).map((s) => s.name);
  // UTS #39 "highly restrictive": Latin with the scripts of Chinese, Japanese or Korean is ordinary.
  if (scripts.length > 1 && !scripts.every((s) => CJK_WITH_LATIN.has(s))) {
    reasons.push(`mixes ${scripts.join(" and ")} letters, which can look alike`);
  }
  return reasons;
}
