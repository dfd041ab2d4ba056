import type { TokenRefusal } from "../log/refused";

const STATUS: Record<TokenRefusal, 400 | 401 | 429 | 503> = {
  invalid_request: 400,
  // RFC 6749 §5.2: 401 with a challenge when the client tried the Authorization header; we answer
  // every failed client authentication the same way, so no method is told apart from another.
  invalid_client: 401,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  // RFC 8628 §3.5 registered slow_down for the token endpoint: exactly "you ask too often".
  slow_down: 429,
  temporarily_unavailable: 503,
};

/**
 * RFC 6749 §5.2: error_description is ASCII without `"` and `\` (%x20-21 / %x23-5B / %x5D-7E).
 * Descriptions are written that way; this keeps an interpolated value from breaking the rule.
 */
export function asDescription(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/\\/g, "/")
    .replace(/→/g, "->")
    .replace(/…/g, "...")
    .replace(/[^\x20-\x7e]/g, "?");
}

/**
 * A refused token request: the RFC 6749 §5.2 error code and description the client reads, and the
 * note the provisioning log keeps for the admin (it may name what was expected, which the answer
 * does not: the client_id is not a secret, the client's configuration is not the caller's business).
 */
export class OAuthError extends Error {
  readonly status: 400 | 401 | 429 | 503;
  readonly description: string;
  readonly note: string;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: TokenRefusal,
    description: string,
    opts: { note?: string; headers?: Record<string, string> } = {},
  ) {
    super(description);
    this.name = "OAuthError";
    this.status = STATUS[code];
    this.description = asDescription(description);
    this.note = opts.note ?? description;
    this.headers = { ...(this.status === 401 ? { "WWW-Authenticate": 'Basic realm="oauth"' } : {}), ...opts.headers };
  }

  toBody(): { error: TokenRefusal; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/** RFC 6749 §5.1: token answers, errors included, are never cached. */
export const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;
