import { zValidator } from "@hono/zod-validator";
import type { MiddlewareHandler } from "hono";
import * as z from "zod/mini";
import english from "zod/v4/locales/en.js";
import type { AppEnv } from "../env";
import { AdminError } from "./errors";

// zod/mini ships no messages of its own: English ones (only those) for the details an admin reads.
z.config(english());

type Target = "json" | "query" | "param";
const CODES: Record<Target, string> = { json: "invalid_body", query: "invalid_query", param: "invalid_id" };

/** "limit: Too big: expected number to be <=200; state: Invalid option: ..." */
function describeIssues(issues: readonly z.core.$ZodIssue[], what = "body"): string {
  return issues.map((i) => `${i.path.map(String).join(".") || what}: ${i.message}`).join("; ");
}

/**
 * The one validator of the admin API: @hono/zod-validator with one hook, so every failure is the
 * same 400 body ({error, detail}) that names each field and what is wrong with it.
 */
export function validate<T extends Target, S extends z.ZodMiniType>(target: T, schema: S) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw new AdminError(400, CODES[target], describeIssues(result.error.issues, target === "json" ? "body" : target));
  });
}

/**
 * Admin request bodies are JSON: another media type would silently validate as {} (Hono), so it
 * is 415. (Malformed JSON is Hono's own HTTPException, rendered as invalid_json by the onError.)
 */
export function jsonBodies(): MiddlewareHandler<AppEnv> {
  return async function jsonBodiesMiddleware(c, next) {
    const type = c.req.header("content-type");
    const mediaType = type?.split(";")[0]?.trim().toLowerCase() ?? "";
    if (type !== undefined && mediaType !== "" && !/^application\/([\w.-]+\+)?json$/.test(mediaType)) {
      throw new AdminError(415, "unsupported_media_type", `Content-Type "${mediaType}" is not supported; send application/json.`);
    }
    await next();
  };
}

/**
 * Query-string parameters of the admin API. An empty value (`?state=`) means the parameter was
 * not given: the page sends every field of its forms.
 */
const blankIsAbsent = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

export const query = {
  /** An optional parameter that must satisfy `schema` when given. */
  optional: <S extends z.ZodMiniType>(schema: S) => z.pipe(z.transform(blankIsAbsent), z.optional(schema)),
  /** Trimmed text of 1 to `max` characters. */
  text: (max: number) =>
    z.pipe(
      z.string(),
      z.pipe(
        z.transform((s: string) => s.trim()),
        z.string().check(z.minLength(1), z.maxLength(max)),
      ),
    ),
  /** A whole number from `min` to `max`, `fallback` when absent. */
  int: (min: number, max: number, fallback: number) =>
    z.pipe(
      z.transform((v: unknown) => blankIsAbsent(v) ?? String(fallback)),
      z.pipe(
        z.string().check(z.regex(/^-?\d{1,15}$/, "must be a whole number")),
        z.pipe(z.transform(Number), z.int().check(z.gte(min), z.lte(max))),
      ),
    ),
  /** The nextCursor of the previous page. */
  cursor: () =>
    z.pipe(
      z.transform(blankIsAbsent),
      z.optional(z.pipe(z.string().check(z.regex(/^\d{1,15}$/, "cursor is the nextCursor of the previous page")), z.transform(Number))),
    ),
  /** A comma-separated list of `values`. */
  list: <const V extends readonly [string, ...string[]]>(values: V) =>
    z.pipe(
      z.transform(blankIsAbsent),
      z.optional(
        z.pipe(
          z.string(),
          z.pipe(
            z.transform((s: string) =>
              s
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean),
            ),
            z.array(z.enum(values)).check(z.minLength(1)),
          ),
        ),
      ),
    ),
};

/**
 * A query parameter the typed client (hono/client) may leave out. The helpers above take any
 * value (`unknown` in), which hono/client types as a required key; this first lets through what
 * a query string can hold (absent, one value, or several) and then runs `schema` as before, so
 * only the input type changes: optional text.
 */
const queryValue = z.pipe(
  z.optional(z.union([z.string(), z.array(z.string())])),
  z.transform((v: string | string[] | undefined): unknown => v),
);
const omittable = <S extends z.ZodMiniType>(schema: S) => z.pipe(queryValue, schema);

/** The query of an admin endpoint: unknown parameters are refused, every known one may be left out. */
export function queryObject<T extends Record<string, z.ZodMiniType>>(shape: T) {
  const omittableShape = Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, omittable(schema)]));
  return z.strictObject(omittableShape as { [K in keyof T]: ReturnType<typeof omittable<T[K]>> });
}
