import { and, desc, eq, gte, isNotNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { provisioningLog } from "./schema";

export type LogRow = typeof provisioningLog.$inferSelect;
export const LOG_OUTCOMES = ["success", "error", "decision", "quirk"] as const;

export interface LogFilter {
  cursor?: number | undefined;
  resourceId?: string | undefined;
  q?: string | undefined;
  outcome?: (typeof LOG_OUTCOMES)[number] | undefined;
  limit: number;
}

/** LIKE matches the search text literally: `%`, `_` and the escape character are escaped. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

// Both written as NULL when empty (src/log/entry.ts); '[]' is tolerated in case a writer stores it.
const hasEntries = (col: typeof provisioningLog.decisions | typeof provisioningLog.quirks): SQL =>
  and(isNotNull(col), ne(col, "[]")) ?? sql`0`;

function outcomeCondition(outcome: (typeof LOG_OUTCOMES)[number]): SQL {
  switch (outcome) {
    case "success":
      return lt(provisioningLog.status, 400);
    case "error":
      return gte(provisioningLog.status, 400);
    case "decision":
      return hasEntries(provisioningLog.decisions);
    case "quirk":
      return hasEntries(provisioningLog.quirks);
  }
}

function searchCondition(q: string): SQL {
  const pattern = likePattern(q);
  const like = (col: SQL | typeof provisioningLog.path) => sql`${col} LIKE ${pattern} ESCAPE '\\'`;
  return (
    or(
      like(provisioningLog.path),
      like(sql`coalesce(${provisioningLog.resourceId}, '')`),
      like(sql`coalesce(${provisioningLog.decisions}, '')`),
      like(sql`coalesce(${provisioningLog.quirks}, '')`),
    ) ?? sql`0`
  );
}

/** Newest first by seq; one row more than the page tells whether an older page exists. */
export async function listLog(db: Db, f: LogFilter): Promise<{ rows: LogRow[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (f.cursor !== undefined) where.push(lt(provisioningLog.seq, f.cursor));
  if (f.resourceId !== undefined) where.push(eq(provisioningLog.resourceId, f.resourceId));
  if (f.outcome !== undefined) where.push(outcomeCondition(f.outcome));
  if (f.q !== undefined) where.push(searchCondition(f.q));
  const rows = await db
    .select()
    .from(provisioningLog)
    .where(and(...where))
    .orderBy(desc(provisioningLog.seq))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > f.limit && last ? String(last.seq) : null };
}

/** The rows about one resource, newest first (a user's timeline). */
export const logOfResource = (db: Db, resourceId: string, limit: number) =>
  db.select().from(provisioningLog).where(eq(provisioningLog.resourceId, resourceId)).orderBy(desc(provisioningLog.seq)).limit(limit);
