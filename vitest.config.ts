// ABOUTME: Vitest configuration: every test under test/, run in forked workers.
// ABOUTME: CI adds a JSON reporter on the command line and prints its own pass/fail line.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 20_000,
    teardownTimeout: 10_000,
  },
});
