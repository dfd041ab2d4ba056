import { type Context, Hono } from "hono";
import { getDb } from "../db/client";
import { oauthCredential } from "../db/credentials";
import type { AppEnv } from "../env";
import { afterResponse } from "../http/after-response";
import { readAtMost } from "../http/body";
import { serviceKey } from "../keys/service-key";
import { LogEntry } from "../log/entry";
import { countRefusal } from "../log/refusal-writer";
import { clientKey, RefusalCounter } from "../log/refused";
import { ScimError } from "../scim/errors";
import { loadSettings } from "../settings/store";
import { mintAccessToken } from "./access-token";
import { ASSERTION_ALGORITHMS } from "./assertion";
import { authenticateClient } from "./authenticate-client";
import { NO_STORE, OAuthError } from "./errors";
import { freshRegistry } from "./registry";
import { parseTokenRequest, SCIM_SCOPE } from "./token-request";

export const TOKEN_PATH = "/oauth/token";
const MAX_BODY_BYTES = 32 * 1024;
/** The window of OAUTH_TOKEN_RATE_LIMITER (wrangler.toml): a client told to wait this long is let in again. */
const RATE_WINDOW_SECONDS = 60;

/** This isolate's counted rows of refused token requests (src/log/refused.ts). */
const refusals = new RefusalCounter();

const failed = (err: unknown) =>
  console.error(JSON.stringify({ level: "error", message: "provisioning log write failed", err: String(err) }));

async function withinRate(c: Context<AppEnv>, key: string, who: string): Promise<void> {
  const limiter = c.env.OAUTH_TOKEN_RATE_LIMITER;
  if (!limiter || (await limiter.limit({ key })).success) return;
  throw new OAuthError("slow_down", `Too many token requests ${who}; retry after ${RATE_WINDOW_SECONDS} seconds.`, {
    headers: { "Retry-After": String(RATE_WINDOW_SECONDS) },
  });
}

async function readForm(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = () => new OAuthError("invalid_request", `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  try {
    return new TextDecoder().decode(await readAtMost(request, MAX_BODY_BYTES));
  } catch (err) {
    if (err instanceof ScimError && err.status === 413) throw tooLarge();
    throw err;
  }
}

/**
 * The OAuth 2.0 authorization server of the SCIM API (SPEC §11): the token endpoint (RFC 6749
 * §4.4 client credentials; clients authenticate with client_secret_basic, client_secret_post or an
 * RFC 7523 assertion) and its RFC 8414 metadata. Every answer of the token endpoint is no-store;
 * every issuance is a provisioning-log row with the client's name, and refusals are counted rows
 * per client address, reason and minute (src/log/refused.ts), never one row each.
 */
export const oauthRoutes = new Hono<AppEnv>()
  .get("/.well-known/oauth-authorization-server", (c) => {
    const issuer = new URL(c.req.url).origin;
    // RFC 8414 §2. No authorization endpoint and so no response_types_supported: erratum 7793 (a
    // client-credentials-only server has none), and §3.2 omits claims with no elements.
    return c.json(
      {
        issuer,
        token_endpoint: `${issuer}${TOKEN_PATH}`,
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
        scopes_supported: [SCIM_SCOPE],
      },
      200,
      { "Cache-Control": "public, max-age=3600" },
    );
  })
  .post(TOKEN_PATH, async (c) => {
    const address = clientKey(c.req.header("cf-connecting-ip"));
    const db = getDb(c.env.DB);
    let who = address;
    try {
      await withinRate(c, `address:${address}`, "from this address");
      const request = parseTokenRequest({
        contentType: c.req.header("content-type"),
        authorization: c.req.header("authorization"),
        body: await readForm(c.req.raw),
      });
      const now = Date.now();
      // Read now, not from the isolate's copy: a secret created a second ago must already work.
      const registry = await freshRegistry(db);
      const { client, proof, secret } = await authenticateClient(
        registry,
        request.auth,
        (named) => {
          who = `${address} (OAuth client "${named.name}")`;
        },
        now,
      );
      await withinRate(c, `client:${client.id}`, `for OAuth client "${client.name}"`);
      const settings = await loadSettings(db);
      const iat = Math.floor(now / 1000);
      // A token never outlives the secret it was issued for.
      const exp = Math.min(
        iat + settings.oauthAccessTokenMinutes * 60,
        secret ? Math.floor(Date.parse(secret.expiresAt) / 1000) : Number.POSITIVE_INFINITY,
      );
      const key = await serviceKey(db, "oauth-access-token");
      const token = await mintAccessToken(key, { c: client.id, k: proof.kind === "secret" ? proof.secretId : "assertion", iat, exp });

      const entry = new LogEntry(c.get("requestId"), "POST", TOKEN_PATH);
      entry.credential = oauthCredential(client.id, proof);
      entry.decide(
        `access token issued to OAuth client "${client.name}" (${request.auth.method}${secret ? `, client secret …${secret.hint}` : ""}), valid for ${Math.round((exp - iat) / 60)} minutes`,
      );
      afterResponse(
        c,
        entry
          .statement(db, 200)
          .run()
          .then(() => undefined, failed),
      );
      return c.json({ access_token: token, token_type: "Bearer", expires_in: exp - iat, scope: SCIM_SCOPE }, 200, NO_STORE);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      countRefusal(refusals, db, { client: who, reason: err.code, note: err.note }, err.status, (work) => afterResponse(c, work));
      return c.json(err.toBody(), err.status, { ...NO_STORE, ...err.headers });
    }
  })
  .all(TOKEN_PATH, (c) =>
    c.json({ error: "invalid_request", error_description: "The token endpoint takes POST only (RFC 6749 3.2)." }, 405, {
      ...NO_STORE,
      Allow: "POST",
    }),
  );

oauthRoutes.onError((err, c) => {
  const requestId = c.get("requestId") ?? "unknown";
  console.error(JSON.stringify({ level: "error", requestId, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));
  return c.json(
    { error: "server_error", error_description: `The token request failed (request id ${requestId}); try again.` },
    500,
    NO_STORE,
  );
});
