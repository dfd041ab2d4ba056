import type { SQL } from "drizzle-orm";
import type { Audit } from "../http/audit";
import type { Db } from "./client";
import { provisioningLog } from "./schema";

export interface LogEntryInput {
  at: string;
  requestId: string;
  method: string;
  path: string;
  /** A number, or SQL deciding it inside the batch (a read whose outcome the batch itself finds). */
  status: number | SQL;
  audit: Audit;
  detail?: string | SQL | undefined;
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
    decisions: e.audit.decisions.length ? JSON.stringify(e.audit.decisions) : null,
    detail: e.detail ?? null,
  });
}
