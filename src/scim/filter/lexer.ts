import { ScimError, type ScimType } from "../errors";

/**
 * Tokens of the RFC 7644 §3.4.2.2 filter grammar (also used for PATCH paths, §3.5.2).
 *
 * A "word" is a maximal run of characters that are not whitespace, parentheses, brackets
 * or a double quote. That one rule covers attribute paths (`name.familyName`, URN-prefixed
 * names with their colons and dots, `.value` after `]`), operators, `and`/`or`/`not`,
 * JSON literals, and the unquoted values some clients send (`userName eq loginUser1`,
 * `meta.created gt 2015-10-10T14:38:21.8617979-07:00`, CONFORMANCE §2). The parser decides
 * what a word means from where it stands.
 */
type TokenKind = "word" | "string" | "lparen" | "rparen" | "lbracket" | "rbracket";

export interface Token {
  kind: TokenKind;
  /** For words and punctuation the source text; for strings the decoded JSON value. */
  text: string;
  /** 1-based character position in the input, for error details. */
  pos: number;
}

const PUNCTUATION: Record<string, TokenKind> = { "(": "lparen", ")": "rparen", "[": "lbracket", "]": "rbracket" };
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const WHITESPACE = /\s/;

function isWordChar(ch: string): boolean {
  return !WHITESPACE.test(ch) && ch !== '"' && PUNCTUATION[ch] === undefined;
}

/** `what` names the input in error details ("filter", "path"). */
export function tokenize(input: string, scimType: ScimType, what: string): Token[] {
  const fail = (detail: string): never => {
    throw new ScimError(400, scimType, detail);
  };
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input.charAt(i);
    if (WHITESPACE.test(ch)) {
      i++;
      continue;
    }
    const punct = PUNCTUATION[ch];
    if (punct) {
      tokens.push({ kind: punct, text: ch, pos: i + 1 });
      i++;
      continue;
    }
    if (ch === '"') {
      const start = i;
      let value = "";
      i++;
      for (;;) {
        if (i >= input.length) {
          fail(`Unterminated string starting at character ${start + 1} of the ${what}: add the closing double quote.`);
        }
        const c = input.charAt(i);
        if (c === '"') break;
        if (c !== "\\") {
          value += c;
          i++;
          continue;
        }
        // JSON string escapes (RFC 7644 §3.4.2.2 says values are JSON, RFC 8259 §7).
        const e = input.charAt(i + 1);
        const simple = ESCAPES[e];
        if (simple !== undefined) {
          value += simple;
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(input.slice(i + 2, i + 6))) {
          value += String.fromCharCode(parseInt(input.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail(`Invalid escape "\\${e}" at character ${i + 1} of the ${what}; inside quotes use \\" for a quote and \\\\ for a backslash.`);
        }
      }
      tokens.push({ kind: "string", text: value, pos: start + 1 });
      i++;
      continue;
    }
    const start = i;
    while (i < input.length && isWordChar(input.charAt(i))) i++;
    tokens.push({ kind: "word", text: input.slice(start, i), pos: start + 1 });
  }
  return tokens;
}

/** How a token reads in an error detail. */
export function describeToken(t: Token | undefined): string {
  if (!t) return "the end";
  if (t.kind === "string") return `the string ${JSON.stringify(t.text)} at character ${t.pos}`;
  return `"${t.text}" at character ${t.pos}`;
}
