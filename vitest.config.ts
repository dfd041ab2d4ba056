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
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/conformance/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
    },
  };
});
