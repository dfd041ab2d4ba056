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
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula,
 * and the log holds what an IdP or anyone with a token sent: such a cell gets a leading
 * apostrophe, which spreadsheets show as text (OWASP "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
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
