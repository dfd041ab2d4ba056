import type { OAuthClientRow, OAuthSecretRow } from "../db/oauth-clients";

/** What a federated client's assertions are checked against (RFC 7523 §3). */
export interface FederationRule {
  issuer: string;
  jwksUri: string;
  subject: string;
  audience: string;
  /** An Entra tenant's id when the issuer is one: the assertion's `tid` must be it (tenant isolation). */
  tenantId: string | null;
}

export interface ClientSecret {
  id: string;
  hash: string;
  hint: string;
  createdAt: string;
  expiresAt: string;
}

interface ClientBase {
  id: string;
  clientId: string;
  name: string;
  createdAt: string;
}

/** A client as the token endpoint and the SCIM auth see it: the two kinds are two shapes, not a flag. */
export type OAuthClient =
  | (ClientBase & { type: "secret"; secrets: ClientSecret[] })
  | (ClientBase & { type: "federated"; federation: FederationRule });

const ENTRA = "https://login.microsoftonline.com";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isTenantId = (value: string): boolean => GUID.test(value);

/** The Entra preset: a tenant's v2.0 issuer and its keys (what Entra's workload identity page shows). */
export const entraIssuer = (tenantId: string): string => `${ENTRA}/${tenantId.toLowerCase()}/v2.0`;
export const entraJwksUri = (tenantId: string): string => `${ENTRA}/${tenantId.toLowerCase()}/discovery/v2.0/keys`;

/** The tenant of an Entra issuer (v2.0, or v1's sts.windows.net), else null. */
export function entraTenantOf(issuer: string): string | null {
  const m =
    /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\/v2\.0$/i.exec(issuer) ??
    /^https:\/\/sts\.windows\.net\/([0-9a-f-]{36})\/$/i.exec(issuer);
  return m?.[1] && GUID.test(m[1]) ? m[1].toLowerCase() : null;
}

/** Rows → clients. A federated row missing a rule's field (never written so) is left out: it could authenticate nothing. */
export function clientsOf(rows: readonly OAuthClientRow[], secrets: readonly OAuthSecretRow[]): OAuthClient[] {
  const secretsOf = new Map<string, ClientSecret[]>();
  for (const s of secrets) {
    const list = secretsOf.get(s.clientRef) ?? [];
    list.push({ id: s.id, hash: s.hash, hint: s.hint, createdAt: s.createdAt, expiresAt: s.expiresAt });
    secretsOf.set(s.clientRef, list);
  }
  const out: OAuthClient[] = [];
  for (const r of rows) {
    const base = { id: r.id, clientId: r.clientId, name: r.name, createdAt: r.createdAt };
    if (r.type === "secret") {
      out.push({ ...base, type: "secret", secrets: secretsOf.get(r.id) ?? [] });
    } else if (r.issuer && r.jwksUri && r.subject && r.audience) {
      out.push({
        ...base,
        type: "federated",
        federation: { issuer: r.issuer, jwksUri: r.jwksUri, subject: r.subject, audience: r.audience, tenantId: r.tenantId },
      });
    }
  }
  return out;
}
