import { type SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { provisioningLog } from "./schema";

/** The static SCIM secrets (SPEC §2), in the order a presented token is matched against them. */
export const STATIC_TOKENS = ["SCIM_BEARER_TOKEN", "SCIM_BEARER_TOKEN_NEXT"] as const;
export type StaticTokenName = (typeof STATIC_TOKENS)[number];

/** What an OAuth client authenticated with at the token endpoint: one of its secrets, or an assertion (RFC 7523). */
export type OAuthProof = { kind: "secret"; secretId: string } | { kind: "assertion" };

/**
 * The credential that authenticated a SCIM request, as the provisioning log keeps it
 * (`provisioning_log.credential`): a static token's name, or `oauth:<client id>:<secret id>` /
 * `oauth:<client id>:assertion` for an access token, so the Connect page can tell when an IdP
 * moved to a new token or a new client secret.
 */
export type CredentialKey = StaticTokenName | `oauth:${string}:${string}`;

export const oauthCredential = (clientRef: string, proof: OAuthProof): CredentialKey =>
  `oauth:${clientRef}:${proof.kind === "secret" ? proof.secretId : "assertion"}`;

/** oauthCredential in SQL, of a client's (and a secret's) id columns: the same key, built where the rows are. */
export const oauthCredentialSql = (clientRef: AnySQLiteColumn, secretId: AnySQLiteColumn | "assertion"): SQL =>
  secretId === "assertion" ? sql`'oauth:' || ${clientRef} || ':assertion'` : sql`'oauth:' || ${clientRef} || ':' || ${secretId}`;

/** The newest log row of a credential (a correlated subquery: one seek on log_credential_idx). */
export const lastUseOf = (key: SQL): SQL<string | null> =>
  sql<string | null>`(SELECT max(${provisioningLog.at}) FROM ${provisioningLog} WHERE ${provisioningLog.credential} = ${key})`;

/**
 * When each credential was last used (its newest log row), in one statement: the keys travel as
 * one JSON parameter (any number of them, never D1's 100-parameter limit), and each key's max(at)
 * is one seek on log_credential_idx. A key never used, or not within the log's retention, has null.
 */
export function lastUsedStatement(db: Db, keys: readonly CredentialKey[]) {
  const key = sql<CredentialKey>`k.value`;
  return db.select({ credential: key, lastUsedAt: lastUseOf(key) }).from(sql`json_each(${JSON.stringify(keys)}) AS k`);
}
