import { applyD1Migrations, env } from "cloudflare:test";

// Runs before each test file: the real local D1, migrated exactly as `wrangler d1 migrations apply` would.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
