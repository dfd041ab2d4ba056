import { OAuthError } from "./errors";

/** RFC 7523 §2.2: the client_assertion_type of a JWT client assertion. */
export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** The one scope: access to this site's SCIM API (the IPSIE SCIM profile names it `scim`). */
export const SCIM_SCOPE = "scim";

const MAX_ID = 200;
const MAX_SECRET = 200;
/** An Entra assertion is about 1.5 KB; a JWT with a certificate chain in its header a few KB. */
const MAX_ASSERTION = 16_384;

export type ClientAuth =
  | { method: "client_secret_basic" | "client_secret_post"; clientId: string; secret: string }
  | { method: "private_key_jwt"; clientId: string | undefined; assertion: string };

export interface TokenRequest {
  auth: ClientAuth;
}

const FORM = "application/x-www-form-urlencoded";

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before they are base64-encoded. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

function basicCredentials(header: string): { clientId: string; secret: string } {
  const bad = new OAuthError(
    "invalid_client",
    "The Authorization header is not valid Basic credentials: send base64 of '<client_id>:<client_secret>' (RFC 6749 2.3.1).",
  );
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header.trim());
  if (!m?.[1]) throw bad;
  let decoded: string;
  try {
    decoded = atob(m[1]);
  } catch {
    throw bad;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) throw bad;
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (!clientId || !secret) throw bad;
  return { clientId, secret };
}

/**
 * A token request (RFC 6749 §4.4.2, with RFC 7523 §2.2 client assertions) read into what the
 * endpoint acts on, or an OAuthError saying what is wrong. Pure: it checks the form, not the client.
 */
export function parseTokenRequest(input: {
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}): TokenRequest {
  const mediaType = input.contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== FORM) {
    throw new OAuthError("invalid_request", `Send the parameters as ${FORM} (RFC 6749 4.4.2), not ${mediaType || "no Content-Type"}.`);
  }
  const form = new URLSearchParams(input.body);
  const seen = new Set<string>();
  for (const name of form.keys()) {
    // RFC 6749 §3.2: parameters MUST NOT be included more than once.
    if (seen.has(name))
      throw new OAuthError("invalid_request", `The parameter '${name.slice(0, 40)}' is sent more than once (RFC 6749 3.2).`);
    seen.add(name);
  }
  const param = (name: string) => {
    const v = form.get(name);
    return v === null || v === "" ? undefined : v;
  };
  const grant = param("grant_type");
  if (grant === undefined) throw new OAuthError("invalid_request", "grant_type is missing: send grant_type=client_credentials.");
  if (grant !== "client_credentials") {
    throw new OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is supported (RFC 6749 4.4).");
  }
  const scope = param("scope");
  // RFC 6749 §3.3: space-delimited; absent means the default, which is the one scope there is.
  if (scope?.split(" ").some((s) => s !== SCIM_SCOPE)) {
    throw new OAuthError("invalid_scope", `The only scope is '${SCIM_SCOPE}' (or no scope at all).`, {
      note: `scope '${scope.slice(0, 100)}' was asked for`,
    });
  }

  const header = input.authorization?.trim();
  const bodyId = param("client_id");
  const secret = param("client_secret");
  const assertion = param("client_assertion");
  const assertionType = param("client_assertion_type");
  const methods = [
    header ? "Authorization header" : "",
    secret !== undefined ? "client_secret" : "",
    assertion || assertionType ? "client_assertion" : "",
  ].filter(Boolean);
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in a request.
  if (methods.length > 1) {
    throw new OAuthError("invalid_request", `Use one client authentication method, not ${methods.join(" and ")}.`);
  }
  if (bodyId !== undefined && bodyId.length > MAX_ID) throw new OAuthError("invalid_client", "client_id is not a client of this site.");

  if (header) {
    if (!/^basic\s/i.test(header)) {
      throw new OAuthError(
        "invalid_request",
        "The Authorization header of a token request carries Basic client credentials (client_secret_basic).",
      );
    }
    const basic = basicCredentials(header);
    if (basic.clientId.length > MAX_ID || basic.secret.length > MAX_SECRET)
      throw new OAuthError("invalid_client", "Client authentication failed.");
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new OAuthError("invalid_request", "client_id in the body is not the one in the Authorization header.");
    }
    return { auth: { method: "client_secret_basic", ...basic } };
  }
  if (secret !== undefined) {
    if (bodyId === undefined) throw new OAuthError("invalid_request", "client_secret needs its client_id (client_secret_post).");
    if (secret.length > MAX_SECRET) throw new OAuthError("invalid_client", "Client authentication failed.");
    return { auth: { method: "client_secret_post", clientId: bodyId, secret } };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION) {
      throw new OAuthError("invalid_client", `client_assertion_type must be ${JWT_BEARER_ASSERTION} (RFC 7523 2.2).`);
    }
    if (assertion === undefined) throw new OAuthError("invalid_request", "client_assertion is missing.");
    if (assertion.length > MAX_ASSERTION)
      throw new OAuthError("invalid_client", `client_assertion is longer than ${MAX_ASSERTION} characters.`);
    return { auth: { method: "private_key_jwt", clientId: bodyId, assertion } };
  }
  throw new OAuthError(
    "invalid_client",
    "No client authentication: send client_id and client_secret (Basic or in the body), or a client_assertion (RFC 7523).",
  );
}
