import { describe, expect, it } from "vitest";
import { asDescription, OAuthError } from "../../src/oauth/errors";
import { JWT_BEARER_ASSERTION, parseTokenRequest, type TokenRequest } from "../../src/oauth/token-request";

/** parseTokenRequest: the form of RFC 6749 §4.4.2 (with RFC 7523 §2.2 assertions) into what the endpoint acts on. */

const FORM = "application/x-www-form-urlencoded";
const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;
/** contentType null: no Content-Type header at all. */
const parse = (body: string, authorization?: string, contentType: string | null = FORM) =>
  parseTokenRequest({ contentType: contentType ?? undefined, authorization, body });

function errorOf(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error("expected an OAuthError");
}

describe("accepted requests", () => {
  const rows: { name: string; body: string; authorization?: string; contentType?: string; want: TokenRequest }[] = [
    {
      name: "client_secret_basic",
      body: "grant_type=client_credentials",
      authorization: basic("scim-abc", "scimcs_s3cret"),
      want: { auth: { method: "client_secret_basic", clientId: "scim-abc", secret: "scimcs_s3cret" } },
    },
    {
      name: "client_secret_basic with form-encoded parts (RFC 6749 2.3.1) and the same client_id in the body",
      body: "grant_type=client_credentials&client_id=a%3Ab",
      authorization: `Basic ${btoa("a%3Ab:p%2Bq+r")}`,
      want: { auth: { method: "client_secret_basic", clientId: "a:b", secret: "p+q r" } },
    },
    {
      name: "client_secret_post with scope=scim and a charset on the media type",
      body: "grant_type=client_credentials&client_id=scim-abc&client_secret=x&scope=scim",
      contentType: `${FORM}; charset=UTF-8`,
      want: { auth: { method: "client_secret_post", clientId: "scim-abc", secret: "x" } },
    },
    {
      name: "an Entra assertion with client_id",
      body: `grant_type=client_credentials&client_id=scim-abc&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}&client_assertion=a.b.c&scope=scim`,
      want: { auth: { method: "private_key_jwt", clientId: "scim-abc", assertion: "a.b.c" } },
    },
    {
      name: "an assertion without client_id (RFC 7523 3: the client is in the assertion)",
      body: `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}&client_assertion=a.b.c`,
      want: { auth: { method: "private_key_jwt", clientId: undefined, assertion: "a.b.c" } },
    },
    {
      name: "unknown parameters are ignored (RFC 6749 3.2), an empty scope is no scope",
      body: "grant_type=client_credentials&client_id=c&client_secret=s&resource=https%3A%2F%2Fx&scope=",
      want: { auth: { method: "client_secret_post", clientId: "c", secret: "s" } },
    },
    {
      name: "scope=scim scim is still only scim",
      body: "grant_type=client_credentials&client_id=c&client_secret=s&scope=scim%20scim",
      want: { auth: { method: "client_secret_post", clientId: "c", secret: "s" } },
    },
  ];
  it.each(rows)("$name", ({ body, authorization, contentType, want }) => {
    expect(parse(body, authorization, contentType)).toEqual(want);
  });
});

describe("refused requests", () => {
  const assertion = `client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}&client_assertion=a.b.c`;
  const rows: { name: string; body: string; authorization?: string; contentType?: string; code: string; status: number; detail: RegExp }[] =
    [
      { name: "JSON", body: "{}", contentType: "application/json", code: "invalid_request", status: 400, detail: /x-www-form-urlencoded/ },
      {
        name: "no Content-Type",
        body: "grant_type=client_credentials",
        contentType: "",
        code: "invalid_request",
        status: 400,
        detail: /no Content-Type/,
      },
      { name: "no grant_type", body: "client_id=c&client_secret=s", code: "invalid_request", status: 400, detail: /grant_type is missing/ },
      {
        name: "grant_type refresh_token",
        body: "grant_type=refresh_token",
        code: "unsupported_grant_type",
        status: 400,
        detail: /client_credentials/,
      },
      {
        name: "a repeated grant_type",
        body: "grant_type=client_credentials&grant_type=client_credentials",
        code: "invalid_request",
        status: 400,
        detail: /more than once/,
      },
      {
        name: "scope scim.readwrite",
        body: "grant_type=client_credentials&client_id=c&client_secret=s&scope=scim.readwrite",
        code: "invalid_scope",
        status: 400,
        detail: /only scope/,
      },
      {
        name: "scope SCIM (scopes are case-sensitive)",
        body: "grant_type=client_credentials&client_id=c&client_secret=s&scope=SCIM",
        code: "invalid_scope",
        status: 400,
        detail: /only scope/,
      },
      {
        name: "no client authentication",
        body: "grant_type=client_credentials",
        code: "invalid_client",
        status: 401,
        detail: /No client authentication/,
      },
      {
        name: "client_id alone",
        body: "grant_type=client_credentials&client_id=c",
        code: "invalid_client",
        status: 401,
        detail: /No client authentication/,
      },
      {
        name: "a secret without client_id",
        body: "grant_type=client_credentials&client_secret=s",
        code: "invalid_request",
        status: 400,
        detail: /needs its client_id/,
      },
      {
        name: "Basic and a body secret",
        body: "grant_type=client_credentials&client_secret=s",
        authorization: basic("c", "s"),
        code: "invalid_request",
        status: 400,
        detail: /one client authentication method/,
      },
      {
        name: "Basic and an assertion",
        body: `grant_type=client_credentials&${assertion}`,
        authorization: basic("c", "s"),
        code: "invalid_request",
        status: 400,
        detail: /one client authentication method/,
      },
      {
        name: "Basic with another client_id in the body",
        body: "grant_type=client_credentials&client_id=d",
        authorization: basic("c", "s"),
        code: "invalid_request",
        status: 400,
        detail: /not the one in the Authorization header/,
      },
      {
        name: "Basic that is not base64",
        body: "grant_type=client_credentials",
        authorization: "Basic !!!",
        code: "invalid_client",
        status: 401,
        detail: /not valid Basic credentials/,
      },
      {
        name: "Basic without a colon",
        body: "grant_type=client_credentials",
        authorization: `Basic ${btoa("just-an-id")}`,
        code: "invalid_client",
        status: 401,
        detail: /not valid Basic/,
      },
      {
        name: "Basic with an empty secret",
        body: "grant_type=client_credentials",
        authorization: basic("c", ""),
        code: "invalid_client",
        status: 401,
        detail: /not valid Basic/,
      },
      {
        name: "a Bearer header",
        body: "grant_type=client_credentials",
        authorization: "Bearer t",
        code: "invalid_request",
        status: 400,
        detail: /Basic client credentials/,
      },
      {
        name: "an assertion type without an assertion",
        body: `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}`,
        code: "invalid_request",
        status: 400,
        detail: /client_assertion is missing/,
      },
      {
        name: "an assertion without its type",
        body: "grant_type=client_credentials&client_assertion=a.b.c",
        code: "invalid_client",
        status: 401,
        detail: /client_assertion_type must be/,
      },
      {
        name: "a SAML assertion type",
        body: "grant_type=client_credentials&client_assertion=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Asaml2-bearer",
        code: "invalid_client",
        status: 401,
        detail: /jwt-bearer/,
      },
      {
        name: "an assertion over 16 KiB",
        body: `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}&client_assertion=${"a".repeat(16_385)}`,
        code: "invalid_client",
        status: 401,
        detail: /longer than 16384/,
      },
      {
        name: "a client_id over 200 characters",
        body: `grant_type=client_credentials&client_id=${"c".repeat(201)}&client_secret=s`,
        code: "invalid_client",
        status: 401,
        detail: /not a client/,
      },
    ];
  it.each(rows)("$name: $status $code", ({ body, authorization, contentType, code, status, detail }) => {
    const err = errorOf(() => parse(body, authorization, contentType === "" ? null : contentType));
    expect({ code: err.code, status: err.status }).toEqual({ code, status });
    expect(err.description).toMatch(detail);
    expect(err.description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
    if (status === 401) expect(err.headers["WWW-Authenticate"]).toBe('Basic realm="oauth"');
  });
});

describe("error_description keeps to RFC 6749 5.2's characters", () => {
  it.each([
    { input: 'iss "x" expected', want: "iss 'x' expected" },
    { input: "a\\b", want: "a/b" },
    { input: "a → b …", want: "a -> b ..." },
    { input: "naïve\n", want: "na?ve?" },
  ])("$input", ({ input, want }) => {
    expect(asDescription(input)).toBe(want);
  });
});
