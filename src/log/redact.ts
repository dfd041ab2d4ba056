/**
 * What the provisioning log, console lines and error answers may show of what a request sent: no
 * configured secret in any spelling. The log is read by admins and exported to auditors; a token
 * pasted into a URL, or sent as an id (`GET /Users/<token>` answers "User <token> not found."),
 * must not end up there.
 */
export const MAX_PATH = 2000;
const SECRET_PARAMS = new Set(["access_token", "token", "authorization", "password", "api_key", "apikey", "key", "secret"]);
const REDACTED = "[redacted]";
/** Shorter values are no secret worth hiding and would blank out ordinary text. */
const MIN_SECRET_LENGTH = 4;
/** Percent-decoding rounds tried: a value encoded twice (`%252D`) is still the secret to a reader. */
const DECODE_ROUNDS = 3;

/** The configured secrets of a Worker, whatever is set of them. */
export function configuredSecrets(env: object): string[] {
  const values = env as Record<string, unknown>;
  return [
    "SCIM_BEARER_TOKEN",
    "SCIM_BEARER_TOKEN_NEXT",
    "ADMIN_TOKEN",
    "MAIN_SITE_SIGNING_SECRET",
    "MAIN_SITE_SIGNING_SECRET_NEXT",
    "SITE_API_TOKEN",
  ]
    .map((k) => values[k])
    .filter((v): v is string => typeof v === "string" && v.trim() !== "")
    .map((v) => v.trim());
}

/**
 * Every way a secret can be written out: itself; a Standard Webhooks secret (`whsec_` + base64)
 * also without its prefix, without its `=` padding, in base64url, and as the key's own text when
 * the key is printable; and, since a query string reads `+` as a space, with spaces for pluses.
 */
function secretSpellings(secret: string): string[] {
  const out = new Set<string>([secret]);
  if (secret.startsWith("whsec_")) {
    const key = secret.slice("whsec_".length);
    const unpadded = key.replace(/=+$/, "");
    for (const k of [key, unpadded]) {
      out.add(k);
      out.add(`whsec_${k}`);
      const url = k.replaceAll("+", "-").replaceAll("/", "_");
      out.add(url);
      out.add(`whsec_${url}`);
    }
    const text = decodedKeyText(key);
    if (text !== undefined) out.add(text);
  }
  for (const s of [...out]) if (s.includes("+")) out.add(s.replaceAll("+", " "));
  return [...out].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** The key bytes of a base64 secret as text, when they are printable ASCII (a passphrase). */
function decodedKeyText(base64: string): string | undefined {
  try {
    const text = atob(base64);
    return /^[\x20-\x7e]{8,}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Percent-decodes what can be decoded and leaves the rest (a stray `%` is not an error here). */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    new TextDecoder().decode(Uint8Array.from(run.slice(1).split("%"), (hex) => Number.parseInt(hex, 16))),
  );
}

/** Redacts configured secrets from text that came from a request; built once per request. */
export class Redactor {
  private readonly spellings: readonly string[];

  constructor(secrets: readonly string[]) {
    this.spellings = [...new Set(secrets.flatMap(secretSpellings))].sort((a, b) => b.length - a.length);
  }

  private contains(text: string): boolean {
    return this.spellings.some((s) => text.includes(s));
  }

  private replaced(text: string): string {
    return this.spellings.reduce((out, s) => out.split(s).join(REDACTED), text);
  }

  /**
   * `text` with every secret replaced by "[redacted]". A secret that shows only once the text is
   * percent-decoded (`dev%2Dscim%2Dtoken`, for `dev-scim-token`) is found too: the text is then
   * shown decoded, redacted.
   */
  text(text: string): string {
    if (this.spellings.length === 0) return text;
    let shown = this.contains(text) ? this.replaced(text) : text;
    let decoded = text;
    for (let round = 0; round < DECODE_ROUNDS; round++) {
      const next = percentDecode(decoded);
      if (next === decoded) break;
      decoded = next;
      if (this.contains(decoded)) shown = this.replaced(decoded);
    }
    return shown;
  }

  /**
   * The path and query a log row shows, at most MAX_PATH characters: secrets redacted, and the
   * value of every query parameter that carries a credential (by its name, or because it holds a
   * configured secret in any spelling) replaced by "[redacted]".
   */
  path(url: URL): string {
    const path = this.text(url.pathname);
    if (url.search === "") return path.slice(0, MAX_PATH);
    const params = [...url.searchParams].map(([name, value]) => {
      const hidden = SECRET_PARAMS.has(name.toLowerCase()) || this.text(value) !== value;
      return `${encodeURIComponent(name)}=${hidden ? REDACTED : encodeURIComponent(value)}`;
    });
    return `${path}?${this.text(params.join("&"))}`.slice(0, MAX_PATH);
  }
}

/** Redacts nothing: for log entries of background jobs, which carry no request text. */
export const NO_SECRETS = new Redactor([]);
