import { Hono } from "hono";
import * as z from "zod/mini";
import { type Db, getDb, isoNow } from "../db/client";
import {
  type ClientWithUse,
  countSecretsOf,
  deleteClientStatements,
  deleteSecret,
  insertClientBelow,
  insertSecretBelow,
  type OAuthClientRow,
  type SecretWithUse,
  selectClient,
  selectClientsWithUse,
  selectSecretsWithUse,
} from "../db/oauth-clients";
import type { AppEnv } from "../env";
import { AdminError } from "../http/errors";
import { validate } from "../http/validate";
import { isAllowedJwksUrl } from "../oauth/assertion";
import { newClientId, newClientSecret, newRowId, secretHash, secretHint } from "../oauth/client-secrets";
import { entraIssuer, entraJwksUri, entraTenantOf, isTenantId } from "../oauth/clients";
import { invalidateRegistry } from "../oauth/registry";
import { recordAction } from "./actions";

/** Limits (docs/guarantees.md): enough for every IdP and a rotation, small enough to cache per isolate. */
export const MAX_CLIENTS = 20;
export const MAX_SECRETS_PER_CLIENT = 5;
const DAY_MS = 86_400_000;

const text = (max: number) =>
  z.pipe(
    z.string(),
    z.pipe(
      z.transform((s: string) => s.trim()),
      z.string().check(z.minLength(1), z.maxLength(max)),
    ),
  );

const createClientBody = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("secret"), name: text(100) }),
  z.strictObject({
    type: z.literal("federated"),
    name: text(100),
    /** RFC 7523 §3: any string the assertion's `iss` carries (Entra: https://login.microsoftonline.com/<tenant>/v2.0). */
    issuer: z.optional(text(500)),
    jwksUri: z.optional(text(500)),
    subject: text(500),
    audience: text(500),
    /** The Entra preset: fills issuer and jwksUri from the tenant id. */
    tenantId: z.optional(text(36)),
  }),
]);

/** 1 to 3 years (Microsoft's limits for a client secret); no body: 1 year. */
const secretBody = z.strictObject({ expiresInDays: z.optional(z.int().check(z.gte(365), z.lte(1095))) });
const idParam = z.object({ id: z.string().check(z.minLength(1), z.maxLength(100)) });
const secretParam = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(100)),
  secretId: z.string().check(z.minLength(1), z.maxLength(100)),
});

/** issuer, JWKS URL and tenant of a federated client: given, or from the Entra preset. */
function federationOf(body: { issuer?: string; jwksUri?: string; tenantId?: string }): {
  issuer: string;
  jwksUri: string;
  tenantId: string | null;
} {
  const bad = (detail: string) => new AdminError(400, "invalid_body", detail);
  if (body.tenantId !== undefined && !isTenantId(body.tenantId)) {
    throw bad("tenantId: the Directory (tenant) ID, a GUID such as 00000000-0000-0000-0000-000000000000.");
  }
  const tenant = body.tenantId?.toLowerCase();
  const issuer = body.issuer ?? (tenant ? entraIssuer(tenant) : undefined);
  const jwksUri = body.jwksUri ?? (tenant ? entraJwksUri(tenant) : undefined);
  if (!issuer || !jwksUri) throw bad("A federated client needs issuer and jwksUri, or tenantId for Microsoft Entra (which fills both).");
  if (!isAllowedJwksUrl(jwksUri)) throw bad("jwksUri: an https:// URL without credentials or fragment (redirects are not followed).");
  const fromIssuer = entraTenantOf(issuer);
  if (tenant && fromIssuer !== tenant) throw bad(`issuer: with tenantId ${tenant} the issuer is ${entraIssuer(tenant)}.`);
  return { issuer, jwksUri, tenantId: tenant ?? fromIssuer };
}

const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** A client as the admin API shows it: never a secret or its hash; when it and each secret were last used. */
function presentClient(row: ClientWithUse, secrets: readonly SecretWithUse[], now: number) {
  const own = secrets
    .filter((s) => s.clientRef === row.id)
    .map((s) => ({
      id: s.id,
      hint: s.hint,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      expired: Date.parse(s.expiresAt) <= now,
      createdBy: s.createdBy,
      lastUsedAt: s.lastUsedAt,
    }));
  return {
    id: row.id,
    clientId: row.clientId,
    name: row.name,
    type: row.type,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    federation:
      row.type === "federated"
        ? { issuer: row.issuer, jwksUri: row.jwksUri, subject: row.subject, audience: row.audience, tenantId: row.tenantId }
        : null,
    secrets: own,
    lastUsedAt: own.reduce<string | null>((acc, s) => later(acc, s.lastUsedAt), row.assertionLastUsedAt),
  };
}

export type PresentedClient = ReturnType<typeof presentClient>;

/** Every client with its secrets and when each was last used, from the two reads of clientReads. */
export function presentClients(clients: readonly ClientWithUse[], secrets: readonly SecretWithUse[], now = Date.now()): PresentedClient[] {
  return clients.map((row) => presentClient(row, secrets, now));
}

/** The two reads presentClients needs, for a caller's batch. */
export const clientReads = (db: Db) => [selectClientsWithUse(db), selectSecretsWithUse(db)] as const;

async function listClients(db: Db): Promise<PresentedClient[]> {
  const [clients, secrets] = await db.batch(clientReads(db));
  return presentClients(clients, secrets);
}

/**
 * /admin/api/oauth/clients (SPEC §10, §11): OAuth clients and their secrets. A secret is answered
 * once, when it is made, and stored only as a hash. Every change is an admin action in the log,
 * and drops this isolate's copy of the clients at once (others within 5 seconds).
 */
export const oauthClientsAdminRoutes = new Hono<AppEnv>()
  .get("/clients", async (c) => c.json({ clients: await listClients(getDb(c.env.DB)) }))
  .post("/clients", validate("json", createClientBody), async (c) => {
    const body = c.req.valid("json");
    const db = getDb(c.env.DB);
    const base = {
      id: newRowId("oc"),
      clientId: newClientId(),
      name: body.name,
      createdAt: isoNow(),
      createdBy: c.get("log").actor ?? null,
    };
    const row: OAuthClientRow =
      body.type === "secret"
        ? { ...base, type: "secret", issuer: null, jwksUri: null, subject: null, audience: null, tenantId: null }
        : { ...base, type: "federated", ...federationOf(body), subject: body.subject, audience: body.audience };
    if (!(await insertClientBelow(db, row, MAX_CLIENTS))) {
      throw new AdminError(409, "limit", `There are already ${MAX_CLIENTS} OAuth clients: delete one you no longer use first.`);
    }
    invalidateRegistry();
    await recordAction(
      c,
      `OAuth client "${row.name}" created (${row.type === "secret" ? "client secret" : `federated: issuer ${row.issuer}, subject ${row.subject}`}; client_id ${row.clientId})`,
      undefined,
      201,
    );
    const [created] = await listClients(db).then((all) => all.filter((x) => x.id === row.id));
    if (!created) throw new AdminError(404, "not_found", "The client was deleted right after it was created.");
    return c.json(created, 201);
  })
  .delete("/clients/:id", validate("param", idParam), async (c) => {
    const { id } = c.req.valid("param");
    const db = getDb(c.env.DB);
    const [, deleted] = await db.batch(deleteClientStatements(db, id));
    const gone = deleted[0];
    if (!gone) throw new AdminError(404, "not_found", `There is no OAuth client ${id}.`);
    invalidateRegistry();
    await recordAction(c, `OAuth client "${gone.name}" deleted: its access tokens stop working within 5 seconds`);
    return c.body(null, 204);
  })
  .post("/clients/:id/secrets", validate("param", idParam), validate("json", secretBody), async (c) => {
    const { id } = c.req.valid("param");
    const days = c.req.valid("json").expiresInDays ?? 365;
    const db = getDb(c.env.DB);
    const secret = newClientSecret();
    const now = Date.now();
    const row = {
      id: newRowId("ocs"),
      clientRef: id,
      hash: await secretHash(secret),
      hint: secretHint(secret),
      createdAt: isoNow(new Date(now)),
      expiresAt: isoNow(new Date(now + days * DAY_MS)),
      createdBy: c.get("log").actor ?? null,
    };
    if (!(await insertSecretBelow(db, row, MAX_SECRETS_PER_CLIENT))) {
      const [[client], [count]] = await db.batch([selectClient(db, id), countSecretsOf(db, id)]);
      if (!client) throw new AdminError(404, "not_found", `There is no OAuth client ${id}.`);
      if (client.type !== "secret") {
        throw new AdminError(
          409,
          "federated_client",
          `OAuth client "${client.name}" is federated: it authenticates with assertions and has no secrets.`,
        );
      }
      throw new AdminError(
        409,
        "limit",
        `OAuth client "${client.name}" already has ${count?.n ?? MAX_SECRETS_PER_CLIENT} secrets: delete one it no longer uses first.`,
      );
    }
    invalidateRegistry();
    const [client] = await selectClient(db, id);
    await recordAction(
      c,
      `client secret …${row.hint} created for OAuth client "${client?.name ?? id}", expires ${row.expiresAt.slice(0, 10)}`,
      undefined,
      201,
    );
    // The one answer that holds the secret: never stored by a cache on the way.
    return c.json(
      { id: row.id, clientId: client?.clientId ?? null, secret, hint: row.hint, createdAt: row.createdAt, expiresAt: row.expiresAt },
      201,
      { "Cache-Control": "no-store" },
    );
  })
  .delete("/clients/:id/secrets/:secretId", validate("param", secretParam), async (c) => {
    const { id, secretId } = c.req.valid("param");
    const db = getDb(c.env.DB);
    const [gone] = await deleteSecret(db, id, secretId);
    if (!gone) throw new AdminError(404, "not_found", `OAuth client ${id} has no secret ${secretId}.`);
    invalidateRegistry();
    const [client] = await selectClient(db, id);
    await recordAction(
      c,
      `client secret …${gone.hint} of OAuth client "${client?.name ?? id}" deleted: its access tokens stop working within 5 seconds`,
    );
    return c.body(null, 204);
  });
