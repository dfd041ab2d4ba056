import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            SCIM_BEARER_TOKEN: "test-scim-token",
            SCIM_BEARER_TOKEN_NEXT: "test-scim-token-next",
            ADMIN_TOKEN: "test-admin-token",
            MAIN_SITE_SIGNING_SECRET: "whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5",
            MAIN_SITE_URL: "https://site.test/webhooks/scim",
          },
          // A real miniflare rate limiter with a limit small enough to reach in a test
          // (test/integration/rate-limit.test.ts); SCIM_RATE_LIMITER keeps wrangler.toml's limits.
          ratelimits: { TEST_TINY_RATE_LIMITER: { simple: { limit: 3, period: 10 } } },
          // Stand-in for the main site (an external system): tests that check deliveries spy on
          // fetch themselves; everywhere else the site simply accepts, so no test reaches the network.
          outboundService: (request: Request) =>
            new URL(request.url).hostname === "site.test"
              ? new Response(null, { status: 204 })
              : new Response("outbound network access is disabled in tests", { status: 502 }),
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/conformance/**/*.test.ts", "test/property/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
    },
  };
});
