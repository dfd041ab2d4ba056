import { asc, type SQL, sql } from "drizzle-orm";
import { type EventState, stateLiteral, statesRead } from "../lifecycle/events";
import type { Db } from "./client";
import { lastUseOf, oauthCredentialSql, STATIC_TOKENS } from "./credentials";
import { deliveryProgress, events, oauthClientSecrets, oauthClients, provisioningLog } from "./schema";

/**
 * The facts the health verdict weighs (src/admin/verdict.ts), read in one D1 round trip: three
 * statements, each a handful of index seeks or bounded ranges (the states come from the lifecycle
 * table's verdict readings, never a list written here).
 */

/** States as literals (from the lifecycle table, never input): a partial index (events_due_idx) needs them to apply. */
const stateIn = (states: readonly EventState[]): SQL => sql`${events.state} IN (${sql.raw(states.map(stateLiteral).join(", ") || "NULL")})`;
const scalar = <T>(q: SQL) => sql<T>`(${q})`;

/** The newest event in one of `states`: when it was made and what the site last answered (events_state_idx, one seek). */
const newest = (states: readonly EventState[], column: SQL) =>
  scalar<string | number | null>(sql`SELECT ${column} FROM ${events} WHERE ${stateIn(states)} ORDER BY ${events.createdAt} DESC LIMIT 1`);

/**
 * One row of scalar facts about deliveries (each column aliased: D1's batch answer is keyed by
 * column name, and two unnamed expressions of the same text would collapse into one).
 * `overdueBefore` is when an in-flight event counts as stalled (its message lost for longer than
 * the sweeper takes to notice).
 */
export function deliveryFacts(db: Db, at: { overdueBefore: string }) {
  const failing = statesRead("failing");
  const refused = statesRead("refused");
  const exhausted = statesRead("exhausted");
  const unsent = statesRead("unsent");
  const inFlight = statesRead("inFlight");
  const held = statesRead("held");
  return db
    .select({
      lastAccepted: scalar<string | null>(sql`SELECT max(${events.createdAt}) FROM ${events} WHERE ${stateIn(statesRead("accepted"))}`).as(
        "lastAccepted",
      ),
      failingNewestStatus: newest(failing, sql`${events.lastStatus}`).as("failingNewestStatus"),
      failingNewestError: newest(failing, sql`${events.lastError}`).as("failingNewestError"),
      nextRetryAt: scalar<string | null>(
        sql`SELECT min(${events.dueAt}) FROM ${events} WHERE ${stateIn(failing)} AND ${events.dueAt} IS NOT NULL`,
      ).as("nextRetryAt"),
      refusedNewestStatus: newest(refused, sql`${events.lastStatus}`).as("refusedNewestStatus"),
      refusedNewestError: newest(refused, sql`${events.lastError}`).as("refusedNewestError"),
      exhaustedNewestError: newest(exhausted, sql`${events.lastError}`).as("exhaustedNewestError"),
      unsentNewestError: newest(unsent, sql`${events.lastError}`).as("unsentNewestError"),
      // In flight past its due time by more than the sweeper takes (events_due_idx), or pending that long.
      overdue: scalar<number>(
        sql`SELECT count(*) FROM ${events} WHERE ${stateIn([...inFlight, ...failing])} AND ${events.dueAt} < ${at.overdueBefore}`,
      ).as("overdue"),
      overdueSince: scalar<string | null>(
        sql`SELECT min(${events.dueAt}) FROM ${events} WHERE ${stateIn([...inFlight, ...failing])} AND ${events.dueAt} < ${at.overdueBefore}`,
      ).as("overdueSince"),
      heldPeople: scalar<number>(
        sql`SELECT count(DISTINCT ${events.resourceId}) FROM ${events} WHERE ${stateIn(held)} AND ${events.resourceType} = 'User'`,
      ).as("heldPeople"),
      consumerLastBatchAt: scalar<string | null>(
        sql`SELECT ${deliveryProgress.lastBatchAt} FROM ${deliveryProgress} WHERE ${deliveryProgress.id} = 1`,
      ).as("consumerLastBatchAt"),
    })
    .from(sql`(SELECT 1)`);
}

/**
 * When each credential SCIM accepts last let a request in (static tokens by name, each OAuth
 * client's secrets and assertions): one seek on log_credential_idx per credential.
 */
export function credentialUses(db: Db) {
  const keys = sql`SELECT k.value AS credential FROM json_each(${JSON.stringify(STATIC_TOKENS)}) k
    UNION ALL SELECT ${oauthCredentialSql(oauthClientSecrets.clientRef, oauthClientSecrets.id)} FROM ${oauthClientSecrets}
    UNION ALL SELECT ${oauthCredentialSql(oauthClients.id, "assertion")} FROM ${oauthClients} WHERE ${oauthClients.type} = 'federated'`;
  const credential = sql<string>`c.credential`;
  return db.select({ credential, lastUsedAt: lastUseOf(credential) }).from(sql`(${keys}) AS c`);
}

/** Client secrets that expire before `before`, with their client and whether it has a secret that lives longer. */
export function expiringSecrets(db: Db, before: string) {
  return db
    .select({
      id: oauthClientSecrets.id,
      hint: oauthClientSecrets.hint,
      expiresAt: oauthClientSecrets.expiresAt,
      // Not oauth_clients.id: two result columns named "id" collapse into one in D1's batch answer.
      clientId: oauthClientSecrets.clientRef,
      clientName: oauthClients.name,
      newerSecret: sql<number>`EXISTS (SELECT 1 FROM ${oauthClientSecrets} s2 WHERE s2.client_ref = ${oauthClientSecrets.clientRef} AND s2.expires_at > ${oauthClientSecrets.expiresAt})`,
    })
    .from(oauthClientSecrets)
    .innerJoin(oauthClients, sql`${oauthClients.id} = ${oauthClientSecrets.clientRef}`)
    .where(sql`${oauthClientSecrets.expiresAt} < ${before}`)
    .orderBy(asc(oauthClientSecrets.expiresAt));
}

/** Refused SCIM rows (401) read at most: one per client and minute (src/log/refused.ts), newest first. */
const REFUSALS_READ = 50;

/**
 * The last hour's refused SCIM requests (401), newest first: each counted row (one per client and
 * minute) with its count, over log_at_idx's last hour.
 */
export function recentRefusals(db: Db, hourAgo: string) {
  return db
    .select({
      at: provisioningLog.at,
      detail: provisioningLog.detail,
      count:
        sql<number>`CASE WHEN ${provisioningLog.method} = 'REFUSED' THEN max(1, CAST(${provisioningLog.detail} AS INTEGER)) ELSE 1 END`.as(
          "refused_count",
        ),
    })
    .from(provisioningLog)
    .where(
      sql`${provisioningLog.at} >= ${hourAgo} AND ${provisioningLog.status} = 401 AND substr(${provisioningLog.path}, 1, 12) = '/api/scim/v2'`,
    )
    .orderBy(sql`${provisioningLog.at} DESC`)
    .limit(REFUSALS_READ);
}
