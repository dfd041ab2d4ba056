import { ScimError } from "./errors";

/** Weak ETag of a resource version (RFC 7644 §3.14), also its meta.version. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** If-None-Match holds the current version (or *): a GET answers 304. */
export function matchesIfNoneMatch(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  const etag = etagOf(version);
  return header.split(",").some((t) => t.trim() === etag || t.trim() === "*");
}

/** A write with If-Match at another version is 412 (RFC 7644 §3.14); * matches any version. */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined) return;
  const tags = header.split(",").map((t) => t.trim());
  if (tags.includes("*")) return;
  const current = `"${version}"`;
  if (!tags.some((t) => t.replace(/^W\//, "") === current)) {
    throw new ScimError(412, undefined, `The resource has changed (its version is W/${current}); GET it again and retry.`);
  }
}
