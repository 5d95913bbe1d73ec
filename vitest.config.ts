import { defineConfig } from "vitest/config";

// One run for every workspace: each package keeps its own vitest.config.ts beside its tests.
export default defineConfig({
  test: {
    // Two files at a time: most tests wait on Postgres, PGlite or a child process, so on a 2-core
    // machine a second worker cuts the run from 16 to 10 minutes (the default there is one).
    maxWorkers: 2,
    projects: ["packages/*/vitest.config.ts", "apps/*/vitest.config.ts", "scripts/vitest.config.ts"],
  },
});
