import { Hono } from "hono";
import * as z from "zod/mini";
import { getDb } from "../db/client";
import { type LogRange, logChunk, logSeqBounds, type NamedLogRow } from "../db/log";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { query, queryObject, validate } from "../http/validate";
import { recordAction } from "./actions";
import { CSV_HEADER, csvLine, ndjsonLine } from "./export-format";
import { MAX_EXPORT_DAYS } from "./export-limits";

/** Rows per D1 read: big enough that a month is a few hundred reads, small enough to hold. */
const CHUNK_ROWS = 1_000;
const DAY_MS = 86_400_000;

const dateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-01T00:00:00Z" });
const exportQuery = queryObject({ format: z.enum(["csv", "ndjson"]), from: query.optional(dateTime), to: query.optional(dateTime) });

/** Left out, the range is the last 24 hours: `to` now, `from` a day before `to`. */
const DEFAULT_RANGE_MS = DAY_MS;

const FORMATS = {
  csv: { type: "text/csv; charset=utf-8", header: CSV_HEADER, line: csvLine },
  ndjson: { type: "application/x-ndjson; charset=utf-8", header: "", line: ndjsonLine },
} satisfies Record<string, { type: string; header: string; line: (row: NamedLogRow) => string }>;

/**
 * The range in UTC, checked: `to` after `from`, at most MAX_EXPORT_DAYS apart. Either end left
 * out: `to` is now, `from` a day before `to` (the last 24 hours when both are left out).
 */
function rangeOf(q: { from?: string | undefined; to?: string | undefined }, now = Date.now()): LogRange {
  const to = q.to === undefined ? now : Date.parse(q.to);
  const from = q.from === undefined ? to - DEFAULT_RANGE_MS : Date.parse(q.from);
  if (!(to > from)) {
    const shown = (given: string | undefined, at: number) => given ?? `${new Date(at).toISOString()}, now`;
    throw new AdminError(400, "invalid_query", `to (${shown(q.to, to)}) must be after from (${shown(q.from, from)}).`);
  }
  if (to - from > MAX_EXPORT_DAYS * DAY_MS) {
    throw new AdminError(
      400,
      "invalid_query",
      `The range is ${Math.ceil((to - from) / DAY_MS)} days; one export covers at most ${MAX_EXPORT_DAYS} days: split it.`,
    );
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/**
 * The rows of the range, oldest first, read CHUNK_ROWS at a time by seq as the client reads: at
 * most one chunk is in memory, however long the range. A D1 failure mid-way errors the stream, so
 * the client sees a cut-off download, never a file that looks complete.
 */
function rowStream(
  db: ReturnType<typeof getDb>,
  range: LogRange,
  bounds: { first: number; last: number },
  format: (typeof FORMATS)["csv"],
) {
  const encoder = new TextEncoder();
  let after = bounds.first - 1;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent && format.header) {
          headerSent = true;
          controller.enqueue(encoder.encode(format.header));
          return;
        }
        try {
          const rows = await logChunk(db, range, after, bounds.last, CHUNK_ROWS);
          const lastRow = rows[rows.length - 1];
          if (lastRow) {
            after = lastRow.seq;
            controller.enqueue(encoder.encode(rows.map(format.line).join("")));
          }
          if (rows.length < CHUNK_ROWS) controller.close();
        } catch (err) {
          console.error(JSON.stringify({ level: "error", message: "log export failed mid-way", after, err: String(err) }));
          controller.error(err);
        }
      },
    },
    { highWaterMark: 0 },
  );
}

const fileStamp = (iso: string) => iso.replace(/\.\d+Z$/, "Z").replace(/:/g, "-");

/**
 * GET /admin/api/log/export?format=csv|ndjson&from=&to= (SPEC §10): the provisioning log of a
 * time range as a download, streamed. The export itself is logged, with its actor.
 */
export const exportAdminRoutes = new Hono<AppEnv>().get("/log/export", validate("query", exportQuery), async (c) => {
  const q = c.req.valid("query");
  const range = rangeOf(q);
  const db = getDb(c.env.DB);
  const bounds = await logSeqBounds(db, range);
  await recordAction(c, `provisioning log exported as ${q.format}: ${range.from} to ${range.to}, ${bounds?.rows ?? 0} rows`);
  const format = FORMATS[q.format];
  const body = bounds ? rowStream(db, range, bounds, format) : format.header;
  return c.body(body, 200, {
    "Content-Type": format.type,
    "Content-Disposition": `attachment; filename="provisioning-log_${fileStamp(range.from)}_${fileStamp(range.to)}.${q.format}"`,
    "Cache-Control": "no-store",
    "X-Log-Rows": String(bounds?.rows ?? 0),
  });
});
