import type { Context } from "hono";
import { ScimError } from "../scim/errors";

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON request body under SCIM rules: application/scim+json or application/json
 * (any charset), or no Content-Type at all; anything else is 415. Bodies over `limit`
 * bytes are 413 before parsing. Malformed JSON and non-object bodies are 400 invalidSyntax.
 * Hono's own validator would silently read a wrong media type as `{}`, so this decides itself.
 */
export async function readJsonObject(c: Context, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const type = c.req.header("content-type");
  if (type !== undefined && type.trim() !== "") {
    const mediaType = type.split(";")[0]?.trim().toLowerCase() ?? "";
    if (mediaType !== "application/scim+json" && mediaType !== "application/json") {
      throw new ScimError(415, undefined, `Content-Type "${mediaType}" is not supported; send application/scim+json or application/json.`);
    }
  }
  const declared = Number(c.req.header("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const buf = await readAtMost(c.req.raw, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw new ScimError(400, "invalidSyntax", "The request body is not valid UTF-8.");
  }
  if (text.trim() === "") throw new ScimError(400, "invalidSyntax", "The request body is empty; send a JSON object.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : "parse error";
    throw new ScimError(400, "invalidSyntax", `The request body is not valid JSON (${why}).`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ScimError(400, "invalidSyntax", "The request body must be a JSON object.");
  }
  return parsed as Record<string, unknown>;
}

/**
 * The body, read chunk by chunk and abandoned as soon as it passes `limit` bytes: a chunked body
 * (no Content-Length) of 60 MB costs about `limit` bytes of reading and memory, not 60 MB.
 */
export async function readAtMost(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel("request body over the limit").catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function tooLarge(limit: number): ScimError {
  return new ScimError(413, undefined, `The request body is larger than the ${limit} byte limit.`);
}
