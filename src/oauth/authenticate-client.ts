import type { OAuthProof } from "../db/credentials";
import { claimedParties, verifyAssertion } from "./assertion";
import { matchingSecret } from "./client-secrets";
import type { ClientSecret, OAuthClient } from "./clients";
import { OAuthError } from "./errors";
import type { Registry } from "./registry";
import type { ClientAuth } from "./token-request";

export interface AuthenticatedClient {
  client: OAuthClient;
  proof: OAuthProof;
  /** The secret it used (a secret client): the token never outlives it. */
  secret: ClientSecret | undefined;
}

/** The same words for an unknown client_id and a wrong secret: neither tells a guesser which it got. */
const FAILED = "Client authentication failed: unknown client_id or wrong client_secret.";

/** The federated client an assertion without a client_id claims to be: its issuer and subject, if exactly one. */
function clientOfAssertion(registry: Registry, assertion: string): OAuthClient | undefined {
  const parties = claimedParties(assertion);
  if (!parties) return undefined;
  const matches = registry.clients.filter(
    (c) => c.type === "federated" && c.federation.issuer === parties.iss && c.federation.subject === parties.sub,
  );
  if (matches.length > 1)
    throw new OAuthError("invalid_client", "Several clients accept this assertion's issuer and subject: send client_id too.");
  return matches[0];
}

/**
 * Which client is asking, proven by a secret (client_secret_basic or _post) or an assertion
 * (RFC 7523), or an OAuthError. `named` learns the client as soon as it is known, so a refusal is
 * logged with its name.
 */
export async function authenticateClient(
  registry: Registry,
  auth: ClientAuth,
  named: (client: OAuthClient) => void,
  now = Date.now(),
): Promise<AuthenticatedClient> {
  if (auth.method === "private_key_jwt") {
    const client = auth.clientId !== undefined ? registry.byClientId.get(auth.clientId) : clientOfAssertion(registry, auth.assertion);
    if (!client) {
      throw new OAuthError("invalid_client", "No client of this site accepts this assertion (check client_id).", {
        note: auth.clientId === undefined ? "no federated client has the assertion's issuer and subject" : "unknown client_id",
      });
    }
    named(client);
    if (client.type !== "federated") {
      throw new OAuthError("invalid_client", "This client authenticates with a client_secret, not a client_assertion.");
    }
    const check = await verifyAssertion(auth.assertion, client.federation, Math.floor(now / 1000));
    if (!check.ok) {
      if (check.unavailable) {
        throw new OAuthError("temporarily_unavailable", check.description, { note: check.note, headers: { "Retry-After": "30" } });
      }
      throw new OAuthError("invalid_client", check.description, { note: check.note });
    }
    return { client, proof: { kind: "assertion" }, secret: undefined };
  }
  const client = registry.byClientId.get(auth.clientId);
  if (!client) throw new OAuthError("invalid_client", FAILED, { note: "unknown client_id" });
  named(client);
  if (client.type !== "secret") {
    throw new OAuthError(
      "invalid_client",
      "This client authenticates with a client_assertion (workload identity federation), not a client_secret.",
    );
  }
  const secret = await matchingSecret(auth.secret, client.secrets);
  if (!secret) throw new OAuthError("invalid_client", FAILED, { note: `wrong client_secret (${auth.method})` });
  if (Date.parse(secret.expiresAt) <= now) {
    throw new OAuthError(
      "invalid_client",
      `The client secret expired on ${secret.expiresAt.slice(0, 10)}: create a new one in the admin page (Connect).`,
      {
        note: `client secret ...${secret.hint} expired on ${secret.expiresAt}`,
      },
    );
  }
  return { client, proof: { kind: "secret", secretId: secret.id }, secret };
}
