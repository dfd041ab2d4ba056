/**
 * What the provisioning log and console lines may show of a request's URL: the path and query,
 * at most MAX_PATH characters, with the value of every query parameter that carries a credential
 * (by name, or because it equals a configured secret) replaced by "[redacted]". The log is read
 * by admins and exported to auditors; a token pasted into a URL must not end up there.
 */
export const MAX_PATH = 2000;
const SECRET_PARAMS = new Set(["access_token", "token", "authorization", "password", "api_key", "apikey", "key", "secret"]);
const REDACTED = "[redacted]";

export function redactedPath(url: URL, secrets: readonly string[]): string {
  const known = secrets.filter((s) => s.length >= 4);
  const redact = (text: string) => known.reduce((out, secret) => out.split(secret).join(REDACTED), text);
  const path = redact(url.pathname);
  if (url.search === "") return path.slice(0, MAX_PATH);
  const params = [...url.searchParams].map(([name, value]) => {
    const hidden = SECRET_PARAMS.has(name.toLowerCase()) || known.some((s) => value.includes(s));
    return `${encodeURIComponent(name)}=${hidden ? REDACTED : encodeURIComponent(value)}`;
  });
  return `${path}?${redact(params.join("&"))}`.slice(0, MAX_PATH);
}

/** The configured secrets of a Worker, whatever is set of them. */
export function configuredSecrets(env: object): string[] {
  const values = env as Record<string, unknown>;
  return ["SCIM_BEARER_TOKEN", "SCIM_BEARER_TOKEN_NEXT", "ADMIN_TOKEN", "MAIN_SITE_SIGNING_SECRET", "MAIN_SITE_SIGNING_SECRET_NEXT"]
    .map((k) => values[k])
    .filter((v): v is string => typeof v === "string" && v.trim() !== "")
    .flatMap((v) => {
      const t = v.trim();
      // The signing secrets are also used without their whsec_ prefix.
      return t.startsWith("whsec_") ? [t, t.slice(6)] : [t];
    });
}
