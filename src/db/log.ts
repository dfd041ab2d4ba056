import { type SQL, sql } from "drizzle-orm";
import type { Audit } from "../http/audit";
import type { Db } from "./client";
import { events, provisioningLog } from "./schema";
import { idsIn } from "./sql";

export interface LogEntryInput {
  at: string;
  requestId: string;
  method: string;
  path: string;
  /** A number, or SQL deciding it inside the batch (a read whose outcome the batch itself finds). */
  status: number | SQL;
  audit: Audit;
  detail?: string | SQL | undefined;
  /**
   * The events this request wrote in the same batch, inserted before this row: when the batch
   * holds any of them (src/events/hold.ts), the row's decisions say so, decided in SQL.
   */
  eventIds?: readonly string[];
}

export const HELD_BY_GUARD =
  "held by the deprovisioning guard: too many deactivations and deletions this hour; release or discard in /admin";
const HELD_BEHIND = "held: waits behind a held deactivation or deletion; release or discard in /admin";

function decisionsOf(e: LogEntryInput): string | SQL | null {
  const base = e.audit.decisions.length ? JSON.stringify(e.audit.decisions) : null;
  if (!e.eventIds?.length) return base;
  const held = (kinds: string) =>
    sql`EXISTS (SELECT 1 FROM ${events} WHERE ${events.id} IN ${idsIn(e.eventIds ?? [])} AND ${events.state} = 'held' AND ${events.hold} IN ${sql.raw(kinds)})`;
  return sql`CASE WHEN ${held("('guard')")} THEN json_insert(coalesce(${base}, '[]'), '$[#]', ${HELD_BY_GUARD})
    WHEN ${held("('user', 'cascade', 'wait')")} THEN json_insert(coalesce(${base}, '[]'), '$[#]', ${HELD_BEHIND})
    ELSE ${base} END`;
}

/** The provisioning-log insert, so a write can put it in the same batch as its change. */
export function logStatement(db: Db, e: LogEntryInput) {
  return db.insert(provisioningLog).values({
    at: e.at,
    requestId: e.requestId,
    method: e.method,
    path: e.path,
    status: e.status,
    resourceType: e.audit.resourceType ?? null,
    resourceId: e.audit.resourceId ?? null,
    quirks: e.audit.quirks.length ? JSON.stringify(e.audit.quirks) : null,
    decisions: decisionsOf(e),
    detail: e.detail ?? null,
  });
}
