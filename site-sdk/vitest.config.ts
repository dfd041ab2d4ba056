import { defineConfig } from "vitest/config";

// The SDK's tests under Node (`npm test` here, or the repository's `npm test`). The same files
// but test/node/ also run inside workerd, from the repository's vitest.config.ts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
