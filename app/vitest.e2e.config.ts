// The studio end to end: a real browser (Debian's Chromium, driven by playwright-core) against a real
// studio teaching the embedded models. Run by `make test-studio` (part of `make test`).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
