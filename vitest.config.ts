import { defineConfig } from "vitest/config";

// One run for every workspace: each package keeps its own vitest.config.ts beside its tests.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "apps/*/vitest.config.ts", "scripts/vitest.config.ts"],
  },
});
