import type { NamedLogRow } from "../db/log";
import { presentLog } from "./log";

/** The columns of a CSV export, in order: the header row names them. */
const COLUMNS = [
  "seq",
  "at",
  "requestId",
  "method",
  "path",
  "status",
  "resourceType",
  "resourceId",
  "resourceName",
  "resourceEmail",
  "actor",
  "quirks",
  "decisions",
  "detail",
] as const satisfies readonly (keyof ReturnType<typeof presentLog>)[];

/**
 * A spreadsheet runs a cell that starts with = + - @ as a formula, and the log holds what an IdP or
 * anyone with a token sent (OWASP "CSV injection"). Such a cell gets a leading apostrophe, which
 * spreadsheets show as text. "Starts with" is read the way spreadsheets read it: after any leading
 * spaces, tabs, line breaks, control or invisible characters (" =1+1"), and with the sign in any
 * compatibility form (Excel takes the fullwidth ＝ of East Asian input methods, and ＋ － ＠, as the
 * ASCII sign): the first visible character is compared after NFKC.
 */
const FORMULA_SIGN = /^[=+\-@]/;
const LEADING = /^[\s\p{Cc}\p{Cf}]+/u;

function startsFormula(value: string): boolean {
  if (/^[\t\r\n]/.test(value)) return true;
  const first = value.replace(LEADING, "").codePointAt(0);
  return first !== undefined && FORMULA_SIGN.test(String.fromCodePoint(first).normalize("NFKC"));
}

/**
 * Characters that end a cell in some reader: the comma, and the semicolon, tab and pipe that
 * spreadsheets in other locales (or their import dialogs) split on, so `x;=cmd|' /C calc'!A0`
 * would be two cells, the second a formula, where the list separator is ";". A field holding any
 * of them, a quote or a line break is quoted, and so stays one cell in every reader.
 */
const QUOTE_WHEN = /[",;\t|\r\n]/;

/** One RFC 4180 field, quoted when a reader might split it, and never a formula a spreadsheet would run. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = startsFormula(value) ? `'${value}` : value;
  return QUOTE_WHEN.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (fields: readonly (string | number | null)[]) => `${fields.map(csvField).join(",")}\r\n`;

export const CSV_HEADER = line(COLUMNS);

/** A log row as one CSV line; quirks and decisions are joined with "; ". */
export function csvLine(row: NamedLogRow): string {
  const shown = presentLog(row);
  return line(
    COLUMNS.map((col) => {
      const value = shown[col];
      return Array.isArray(value) ? value.join("; ") : value;
    }),
  );
}

/** A log row as one NDJSON line, the same object GET /admin/api/log returns. */
export const ndjsonLine = (row: NamedLogRow): string => `${JSON.stringify(presentLog(row))}\n`;
