import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { adminAssetsBuilt, buildAdmin } from "./scripts/build-admin.mjs";
import { EVENT_TYPES, jsonSchemaOf } from "./src/events/catalog.ts";
import { schemaChecker } from "./test/schema-check.ts";

// This config runs in Node; tsconfig.json types the Workers runtime, not Node.
declare const process: { env: Record<string, string | undefined> };

// wrangler reads the developer's .dev.vars for the test Worker and says so once per test file;
// every secret is set below instead, so that line (and the file's values) are noise here.
process.env.WRANGLER_LOG ??= "warn";

/** The Worker's structured log lines ({"level":...}), expected in tests of error paths. */
function isWorkerLogLine(log: string): boolean {
  return /^\{"level":"(info|warn|error)"/.test(log.trimStart());
}

// The published schemas, as the catalog makes them (`npm run check` holds site-sdk/schemas/ to the same).
const schemaProblems = schemaChecker(Object.fromEntries(EVENT_TYPES.map((type) => [type, jsonSchemaOf(type)])));

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  // wrangler.toml's [assets] directory must exist for the test Worker, and the page tests read the
  // built files: a first run on a fresh clone builds them (`npm test` always does, before vitest).
  if (!adminAssetsBuilt()) await buildAdmin({ quiet: true });
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Every name .dev.vars.example lists, so a developer's .dev.vars never leaks into a test.
          bindings: {
            TEST_MIGRATIONS: migrations,
            SCIM_BEARER_TOKEN: "test-scim-token",
            SCIM_BEARER_TOKEN_NEXT: "test-scim-token-next",
            ADMIN_TOKEN: "test-admin-token",
            MAIN_SITE_SIGNING_SECRET: "whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5",
            // Unset: a rotation's tests set it on their own bindings.
            MAIN_SITE_SIGNING_SECRET_NEXT: "",
            MAIN_SITE_URL: "https://site.test/webhooks/scim",
            SITE_API_TOKEN: "test-site-api-token",
            // Access sign-in is on in every test (ADMIN_TOKEN must keep working beside it); the team's
            // JWKS is served by test/integration/admin-access.test.ts (a local key, the real jose path).
            ACCESS_TEAM_DOMAIN: "https://access.test",
            ACCESS_AUD: "test-access-aud",
          },
          // A real miniflare rate limiter with a limit small enough to reach in a test
          // (test/integration/rate-limit.test.ts); SCIM_RATE_LIMITER keeps wrangler.toml's limits.
          ratelimits: { TEST_TINY_RATE_LIMITER: { simple: { limit: 3, period: 10 } } },
          // Stand-in for the main site (an external system): tests that check deliveries spy on
          // fetch themselves; everywhere else the site accepts every body that matches the published
          // schema of its type (and refuses, loudly, one that does not), so no test reaches the network.
          outboundService: async (request: Request) => {
            if (new URL(request.url).hostname !== "site.test") {
              return new Response("outbound network access is disabled in tests", { status: 502 });
            }
            const problems = schemaProblems(await request.text());
            if (problems.length === 0) return new Response(null, { status: 204 });
            console.error(`site.test refused a delivery that does not match its schema:\n${problems.join("\n")}`);
            return new Response(problems.join("\n"), { status: 422 });
          },
        },
      }),
    ],
    test: {
      include: [
        "test/unit/**/*.test.ts",
        "test/integration/**/*.test.ts",
        "test/conformance/**/*.test.ts",
        "test/property/**/*.test.ts",
        // The site SDK inside workerd too (its Node-only tests, test/node/, run under Node: npm run test:sdk).
        "site-sdk/test/*.test.ts",
      ],
      setupFiles: ["./test/setup.ts"],
      // The Worker logs its error paths as JSON lines; the tests of those paths assert on
      // responses and rows, so the lines are dropped here (SHOW_WORKER_LOGS=1 keeps them).
      onConsoleLog: (log: string) => (process.env.SHOW_WORKER_LOGS === "1" || !isWorkerLogLine(log) ? undefined : false),
    },
  };
});
