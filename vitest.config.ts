import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // real tools, namespaces and a VM boot run in these tests: give them room, not retries
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // snapshots are written only by an explicit `npx vitest run -u`, never by CI
    update: false,
  },
});
