import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

export function getDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/** ISO-8601 UTC with milliseconds, the format of every stored timestamp (sorts as text). */
export function isoNow(date = new Date()): string {
  return date.toISOString();
}
