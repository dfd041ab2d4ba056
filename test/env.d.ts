import type { D1Migration } from "cloudflare:test";

// The bindings of wrangler.toml come from src/worker-configuration.d.ts (`npm run cf-typegen`);
// the tests add only their own.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      TEST_TINY_RATE_LIMITER: RateLimit;
    }
  }
}
