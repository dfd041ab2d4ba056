import { getPathNoStrict } from "hono/utils/url";

/** The SCIM endpoints under the base path, as RFC 7644 §3.2 spells them. */
const ENDPOINTS = ["Users", "Groups", "Me", "Bulk", "ServiceProviderConfig", "ResourceTypes", "Schemas", ".search"];
const BY_LOWER = new Map(ENDPOINTS.map((e) => [e.toLowerCase(), e]));

/**
 * The path routing sees: under `base`, the endpoint segment in its canonical case (`/users` →
 * `/Users`), and `.search` after a resource endpoint likewise. Microsoft's collection and some
 * IdPs send `/users`; Microsoft's reference server accepts it. Ids and everything else keep
 * their case. Other paths are untouched.
 */
export function canonicalScimPath(path: string, base: string): string {
  if (!path.startsWith(`${base}/`)) return path;
  const segments = path.slice(base.length + 1).split("/");
  const [first, second] = segments;
  const endpoint = first === undefined ? undefined : BY_LOWER.get(first.toLowerCase());
  if (endpoint === undefined) return path;
  segments[0] = endpoint;
  if ((endpoint === "Users" || endpoint === "Groups") && second?.toLowerCase() === ".search") segments[1] = ".search";
  return `${base}/${segments.join("/")}`;
}

/** Hono's non-strict getPath (a trailing slash is ignored) with the SCIM endpoint segment canonicalised. */
export const scimAwareGetPath = (base: string) => (request: Request) => canonicalScimPath(getPathNoStrict(request), base);
