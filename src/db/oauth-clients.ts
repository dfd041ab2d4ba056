import { and, asc, count, eq, getTableColumns, sql } from "drizzle-orm";
import type { Db } from "./client";
import { lastUseOf, oauthCredentialSql } from "./credentials";
import { oauthClientSecrets, oauthClients } from "./schema";

export type OAuthClientRow = typeof oauthClients.$inferSelect;
export type OAuthSecretRow = typeof oauthClientSecrets.$inferSelect;

/** Every client, oldest first, and every secret (for the batch that reads them together). */
const selectClients = (db: Db) => db.select().from(oauthClients).orderBy(asc(oauthClients.createdAt), asc(oauthClients.id));
const selectSecrets = (db: Db) =>
  db.select().from(oauthClientSecrets).orderBy(asc(oauthClientSecrets.createdAt), asc(oauthClientSecrets.id));

/** Clients and their secrets in one D1 round trip. */
export async function loadClients(db: Db): Promise<{ clients: OAuthClientRow[]; secrets: OAuthSecretRow[] }> {
  const [clients, secrets] = await db.batch([selectClients(db), selectSecrets(db)]);
  return { clients, secrets };
}

/** Clients with when each last authenticated with an assertion (federated clients), for the admin page. */
export const selectClientsWithUse = (db: Db) =>
  db
    .select({ ...getTableColumns(oauthClients), assertionLastUsedAt: lastUseOf(oauthCredentialSql(oauthClients.id, "assertion")) })
    .from(oauthClients)
    .orderBy(asc(oauthClients.createdAt), asc(oauthClients.id));

/** Secrets (no hashes) with when each was last used: an issuance or a SCIM request with its tokens. */
export const selectSecretsWithUse = (db: Db) =>
  db
    .select({
      id: oauthClientSecrets.id,
      clientRef: oauthClientSecrets.clientRef,
      hint: oauthClientSecrets.hint,
      createdAt: oauthClientSecrets.createdAt,
      expiresAt: oauthClientSecrets.expiresAt,
      createdBy: oauthClientSecrets.createdBy,
      lastUsedAt: lastUseOf(oauthCredentialSql(oauthClientSecrets.clientRef, oauthClientSecrets.id)),
    })
    .from(oauthClientSecrets)
    .orderBy(asc(oauthClientSecrets.createdAt), asc(oauthClientSecrets.id));

export type ClientWithUse = Awaited<ReturnType<typeof selectClientsWithUse>>[number];
export type SecretWithUse = Awaited<ReturnType<typeof selectSecretsWithUse>>[number];

export const selectClient = (db: Db, id: string) => db.select().from(oauthClients).where(eq(oauthClients.id, id));

export const countSecretsOf = (db: Db, clientRef: string) =>
  db.select({ n: count() }).from(oauthClientSecrets).where(eq(oauthClientSecrets.clientRef, clientRef));

/**
 * Inserts the client only while there are fewer than `max`: the count and the insert are one
 * statement, so two admins creating at once cannot pass the limit. Resolves to whether it was added.
 */
export async function insertClientBelow(db: Db, row: OAuthClientRow, max: number): Promise<boolean> {
  const result = await db.run(sql`INSERT INTO ${oauthClients}
    (id, client_id, name, type, issuer, jwks_uri, subject, audience, tenant_id, created_at, created_by)
    SELECT ${row.id}, ${row.clientId}, ${row.name}, ${row.type}, ${row.issuer}, ${row.jwksUri}, ${row.subject}, ${row.audience},
      ${row.tenantId}, ${row.createdAt}, ${row.createdBy}
    WHERE (SELECT count(*) FROM ${oauthClients}) < ${max}`);
  return result.meta.changes === 1;
}

/** Inserts the secret only for an existing secret client with fewer than `max` secrets, in one statement. */
export async function insertSecretBelow(db: Db, row: OAuthSecretRow, max: number): Promise<boolean> {
  const result = await db.run(sql`INSERT INTO ${oauthClientSecrets} (id, client_ref, hash, hint, created_at, expires_at, created_by)
    SELECT ${row.id}, ${row.clientRef}, ${row.hash}, ${row.hint}, ${row.createdAt}, ${row.expiresAt}, ${row.createdBy}
    WHERE EXISTS (SELECT 1 FROM ${oauthClients} WHERE id = ${row.clientRef} AND type = 'secret')
      AND (SELECT count(*) FROM ${oauthClientSecrets} WHERE client_ref = ${row.clientRef}) < ${max}`);
  return result.meta.changes === 1;
}

/** A client and its secrets go together: one batch of these two. */
export function deleteClientStatements(db: Db, id: string) {
  return [
    db.delete(oauthClientSecrets).where(eq(oauthClientSecrets.clientRef, id)),
    db.delete(oauthClients).where(eq(oauthClients.id, id)).returning({ id: oauthClients.id, name: oauthClients.name }),
  ] as const;
}

export const deleteSecret = (db: Db, clientRef: string, secretId: string) =>
  db
    .delete(oauthClientSecrets)
    .where(and(eq(oauthClientSecrets.clientRef, clientRef), eq(oauthClientSecrets.id, secretId)))
    .returning({ id: oauthClientSecrets.id, hint: oauthClientSecrets.hint });
