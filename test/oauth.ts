import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { expect, vi } from "vitest";
import worker from "../src/index";
import { admin, expectStatus, type Json, ORIGIN } from "./helpers";

/** OAuth clients and token requests through the Worker, as an admin and an IdP would make them. */

export const TOKEN_URL = `${ORIGIN}/oauth/token`;

let address = 0;
/**
 * A client address of its own for each token request, so the token endpoint's per-address rate
 * (20 a minute, wrangler.toml) counts one test's requests only where a test means it to.
 */
export const freshAddress = () => {
  address++;
  return `203.0.${(address >> 8) & 255}.${address & 255}`;
};

export interface TokenCall {
  /** client_secret_basic: the Authorization header. */
  basic?: [clientId: string, secret: string];
  headers?: Record<string, string>;
  address?: string;
  /** Bindings to swap (a tiny rate limiter). */
  env?: Partial<Cloudflare.Env>;
  /** Wait for the work the request left for after its answer (its log rows). */
  settle?: boolean;
}

/** POST /oauth/token with these form parameters. */
export async function tokenRequest(params: Record<string, string>, call: TokenCall = {}): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/x-www-form-urlencoded",
    "CF-Connecting-IP": call.address ?? freshAddress(),
    ...call.headers,
  };
  if (call.basic) headers.Authorization = `Basic ${btoa(`${encodeURIComponent(call.basic[0])}:${encodeURIComponent(call.basic[1])}`)}`;
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(TOKEN_URL, { method: "POST", headers, body: new URLSearchParams(params).toString() }) as Parameters<
      NonNullable<typeof worker.fetch>
    >[0],
    { ...env, ...call.env },
    ctx,
  );
  if (call.settle) await waitOnExecutionContext(ctx);
  return res;
}

/** An RFC 6749 §5.2 error: status, code, no-store, a description within the RFC's characters. */
export async function expectOAuthError(res: Response, status: number, error: string): Promise<Json> {
  const body = await expectStatus(res, status);
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe("string");
  expect(body.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return body;
}

export async function createSecretClient(name = "Entra"): Promise<Json> {
  return expectStatus(await admin("POST", "/oauth/clients", { name, type: "secret" }), 201);
}

export async function createSecret(id: string, body?: Record<string, unknown>): Promise<Json> {
  return expectStatus(await admin("POST", `/oauth/clients/${id}/secrets`, body ?? {}), 201);
}

/** A secret client with one secret: its client_id, its secret and the admin API's ids. */
export async function secretClient(name = "Entra"): Promise<{ id: string; clientId: string; secret: string; secretId: string }> {
  const client = await createSecretClient(name);
  const secret = await createSecret(String(client.id));
  return { id: String(client.id), clientId: String(client.clientId), secret: String(secret.secret), secretId: String(secret.id) };
}

/** An access token for a secret client (client_secret_post). */
export async function accessToken(clientId: string, secret: string): Promise<string> {
  const res = await tokenRequest({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
  const body = await expectStatus(res, 200);
  return String(body.access_token);
}

/** RFC 7523 §2.2: the client_assertion_type of a JWT assertion. */
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  tid?: string;
  exp?: number;
  nbf?: number;
}

/**
 * A stand-in for Microsoft Entra's keys: one RSA key that signs every tenant's assertions (as
 * Microsoft's do), served as the JWKS of any tenant at
 * https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys through a spy on fetch (the
 * Worker's own jose code fetches it; nothing else is replaced). A JWKS URL in `down` answers 503,
 * one in `redirects` answers 302 to the real keys.
 */
export async function entraStandIn() {
  const entra = await generateKeyPair("RS256", { extractable: true });
  const foreign = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(entra.publicKey)), kid: "entra-key", alg: "RS256", use: "sig" };
  const fetched: string[] = [];
  const down = new Set<string>();
  const redirects = new Set<string>();
  const keysUrl = (tenant: string) => `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`;
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new Request(input, init).url;
    if (!url.startsWith("https://login.microsoftonline.com/")) return realFetch(input, init);
    fetched.push(url);
    if (down.has(url)) return new Response("down", { status: 503 });
    if (redirects.has(url))
      return new Response(null, { status: 302, headers: { Location: keysUrl("00000000-0000-4000-8000-000000000000") } });
    return Response.json({ keys: [jwk] });
  });
  const issuer = (tenant: string) => `https://login.microsoftonline.com/${tenant}/v2.0`;
  /** An assertion as Entra signs it for `tenant`: iss, sub, aud, tid, an hour of life; `claims` override. */
  async function sign(
    tenant: string,
    base: { sub: string; aud: string },
    claims: Claims = {},
    opts: { key?: CryptoKey; kid?: string; alg?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tid: claims.tid ?? tenant, appidacr: "2", ver: "2.0" })
      .setProtectedHeader({ alg: opts.alg ?? "RS256", kid: opts.kid ?? "entra-key", typ: "JWT" })
      .setIssuer(claims.iss ?? issuer(tenant))
      .setSubject(claims.sub ?? base.sub)
      .setAudience(claims.aud ?? base.aud)
      .setIssuedAt(now - 5)
      .setNotBefore(claims.nbf ?? now - 5)
      .setExpirationTime(claims.exp ?? now + 3600)
      .sign(opts.key ?? entra.privateKey);
  }
  return { sign, issuer, keysUrl, jwk, foreignKey: foreign.privateKey, fetched, down, redirects, restore: () => vi.restoreAllMocks() };
}
