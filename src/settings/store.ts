import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { settings } from "../db/schema";
import { parseStoredSettings, type Settings } from "./model";

/**
 * Settings are read on every SCIM request, so each isolate keeps them for a few seconds
 * rather than paying a D1 round trip per request. A change made through the admin API is
 * seen at once by the isolate that made it and within SETTINGS_TTL_MS by every other one.
 */
export const SETTINGS_TTL_MS = 5_000;

let cached: { value: Settings; version: number; at: number } | undefined;

export function invalidateSettingsCache(): void {
  cached = undefined;
}

/** The settings row as stored now, bypassing the cache: background jobs decide with the latest. */
export const selectStoredSettings = (db: Db) =>
  db.select({ data: settings.data, version: settings.version }).from(settings).where(eq(settings.id, 1));

/** The settings as stored now and their version (0: no row yet, the defaults), for a compare-and-set save. */
export async function readSettings(db: Db): Promise<{ value: Settings; version: number }> {
  const row = await selectStoredSettings(db).get();
  return { value: parseStoredSettings(row?.data), version: row?.version ?? 0 };
}

/** The settings and their version, from this isolate's cache (at most SETTINGS_TTL_MS old). */
export async function loadVersionedSettings(db: Db, now = Date.now()): Promise<{ value: Settings; version: number }> {
  if (cached && now - cached.at < SETTINGS_TTL_MS) return cached;
  const read = await readSettings(db);
  cached = { ...read, at: now };
  return read;
}

export async function loadSettings(db: Db, now = Date.now()): Promise<Settings> {
  return (await loadVersionedSettings(db, now)).value;
}
