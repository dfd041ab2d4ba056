/**
 * Checked by `npm run typecheck`: the hand-written Bindings of src/env.ts and the bindings
 * `wrangler types` generates from wrangler.toml and .dev.vars.example
 * (src/worker-configuration.d.ts) name the same bindings, each of the same kind. A binding added
 * to one and not the other, or given another kind, fails to compile here.
 */
import type { Bindings } from "../../src/env";

type Generated = Omit<Cloudflare.Env, "TEST_MIGRATIONS" | "TEST_TINY_RATE_LIMITER">;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** wrangler types every secret as a required string and a queue as Queue<unknown>: compare kinds. */
type Kind<T> = T extends D1Database
  ? "D1"
  : T extends Queue<never>
    ? "Queue"
    : T extends RateLimit
      ? "RateLimit"
      : T extends string
        ? "string"
        : "other";
type Kinds<T> = { [K in keyof T]-?: Kind<NonNullable<T[K]>> };

export const sameNames: Same<keyof Bindings, keyof Generated> = true;
export const sameKinds: Same<Kinds<Bindings>, Kinds<Generated>> = true;
