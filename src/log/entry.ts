import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { CredentialKey } from "../db/credentials";
import { events, provisioningLog } from "../db/schema";
import { idsIn } from "../db/sql";
import { type HoldKind, stateLiteral } from "../lifecycle/events";
import { MAX_PATH, NO_SECRETS, type Redactor } from "./redact";
import { describeRefusals, type RefusalReason, type RefusalRow, refusedPath } from "./refused";

export type LoggedResource = "User" | "Group" | "Settings";

export const HELD_BY_GUARD =
  "held by the deprovisioning guard: too many deactivations and deletions this hour; release or discard in /admin";
const HELD_BEHIND = "held: waits behind a held deactivation or deletion; release or discard in /admin";
/** Quirks and decisions one entry keeps at most: a hostile body cannot grow a row without bound. */
const MAX_LINES = 200;

/**
 * One provisioning-log row in the making (SPEC §10): what a SCIM request, an admin action or a
 * background job touched, which IdP quirks were tolerated and what was decided. Everything that
 * logs builds an entry; `statement` turns it into the row, for the batch of the change it records.
 */
export class LogEntry {
  readonly quirks: string[] = [];
  readonly decisions: string[] = [];
  resourceType: LoggedResource | undefined;
  resourceId: string | undefined;
  /** Set once a batch holding the row has committed: nothing writes it again. */
  written = false;
  /** Set when the request leaves no row of its own (an operation of a Bulk request logs itself). */
  skip = false;
  /** Set when the request was refused before it was let in: counted per client (src/log/refused.ts). */
  refusal: { reason: RefusalReason; client: string } | undefined;
  /** The status a write answers when it succeeds, set by the route (the log row is in the write's batch). */
  successStatus = 200;
  /** Who asked, for admin actions: the Access email or "admin token" (set by the admin sign-in). */
  actor: string | undefined;
  /** The credential that authenticated a SCIM request or an access token's issuance (set by the auth). */
  credential: CredentialKey | undefined;

  constructor(
    readonly requestId: string,
    readonly method: string,
    /** Cut to MAX_PATH (src/log/redact.ts); redacted again when the row is written. */
    readonly path: string,
    /** The request's secrets: every text the row stores is redacted with it (src/log/redact.ts). */
    readonly redactor: Redactor = NO_SECRETS,
  ) {}

  /** An entry for part of this request (an operation of a Bulk request), redacted the same way. */
  derive(method: string, path: string): LogEntry {
    const entry = new LogEntry(this.requestId, method, path, this.redactor);
    // Let in by the same credential (the Connect page's "last used" counts a Bulk operation too).
    entry.credential = this.credential;
    return entry;
  }

  quirk(text: string): void {
    if (this.quirks.length < MAX_LINES && !this.quirks.includes(text)) this.quirks.push(text);
  }

  decide(text: string): void {
    if (this.decisions.length < MAX_LINES) this.decisions.push(text);
  }

  /**
   * One row `{ holds }`: 1 when the row this entry wrote with `at` exists, i.e. the batch that held
   * it committed (the write kernel reads it after a batch whose answer was lost).
   */
  landed(db: Db, at: string) {
    return db
      .select({
        holds: sql<number>`EXISTS (SELECT 1 FROM ${provisioningLog} WHERE ${provisioningLog.at} = ${at} AND ${provisioningLog.requestId} = ${this.requestId} AND ${provisioningLog.method} = ${this.method} AND ${provisioningLog.path} = ${this.redactor.text(this.path).slice(0, MAX_PATH)})`,
      })
      .from(sql`(SELECT 1)`);
  }

  /** Where the decisions stand now, to `rewind` to when an attempt is taken back (a compare-and-set retry). */
  mark(): number {
    return this.decisions.length;
  }

  rewind(mark: number): void {
    this.decisions.splice(mark);
  }

  touch(resourceType: LoggedResource, resourceId: string): void {
    this.resourceType = resourceType;
    this.resourceId = resourceId;
  }

  /**
   * The row, for a D1 batch; once that batch has committed, set `written`. `status` may be SQL (a
   * read decides 200 or 404 in its own batch), and so may whether the detail is written
   * (`{ unless, text }`: the text, unless the condition holds). With `eventIds` (the events
   * written earlier in the same batch) the row says, decided in SQL, when the deprovisioning guard
   * held any of them. Every text the row stores, from the path to the detail, is redacted here,
   * the one place rows are made: a request's text (an id, a path, a value) may carry a secret.
   */
  statement(db: Db, status: number | SQL, opts: { detail?: string | LogDetailUnless; eventIds?: readonly string[]; at?: string } = {}) {
    const redact = (text: string) => this.redactor.text(text);
    const detail = opts.detail;
    return db.insert(provisioningLog).values({
      at: opts.at ?? new Date().toISOString(),
      requestId: this.requestId,
      method: this.method,
      path: redact(this.path).slice(0, MAX_PATH),
      status,
      resourceType: this.resourceType ?? null,
      resourceId: this.resourceId === undefined ? null : redact(this.resourceId),
      quirks: this.quirks.length ? JSON.stringify(this.quirks.map(redact)) : null,
      decisions: decisionsOf(this.decisions.map(redact), opts.eventIds),
      detail:
        detail === undefined
          ? null
          : typeof detail === "string"
            ? redact(detail)
            : sql`CASE WHEN ${detail.unless} THEN NULL ELSE ${redact(detail.text)} END`,
      actor: this.actor ?? null,
      credential: this.credential ?? null,
    });
  }
}

/** A detail written unless `unless` holds when the batch runs (a read's 404: "User … not found."). */
export interface LogDetailUnless {
  unless: SQL;
  text: string;
}

function decisionsOf(decisions: readonly string[], eventIds: readonly string[] | undefined): string | SQL | null {
  const base = decisions.length ? JSON.stringify(decisions) : null;
  if (!eventIds?.length) return base;
  const held = (kinds: readonly HoldKind[]) =>
    sql`EXISTS (SELECT 1 FROM ${events} WHERE ${events.id} IN ${idsIn(eventIds)} AND ${events.state} = ${sql.raw(stateLiteral("held"))} AND ${events.hold} IN ${sql.raw(`(${kinds.map((k) => `'${k}'`).join(", ")})`)})`;
  return sql`CASE WHEN ${held(["guard"])} THEN json_insert(coalesce(${base}, '[]'), '$[#]', ${HELD_BY_GUARD})
    WHEN ${held(["user", "cascade", "wait", "name"])} THEN json_insert(coalesce(${base}, '[]'), '$[#]', ${HELD_BEHIND})
    ELSE ${base} END`;
}

/** The one row of a client's refused requests this minute, written again as the count grows. */
export function refusalStatement(db: Db, row: RefusalRow, status: number) {
  const values = {
    at: new Date(row.firstAt).toISOString(),
    requestId: row.key,
    method: "REFUSED",
    path: refusedPath(row.reason),
    status,
    detail: describeRefusals(row),
  };
  return db
    .insert(provisioningLog)
    .values(values)
    .onConflictDoUpdate({ target: provisioningLog.requestId, targetWhere: sql`method = 'REFUSED'`, set: { detail: values.detail } });
}
