/**
 * The dependency direction of DESIGN.md, checked by `npm run lint` (so `npm test`):
 *
 *   apps/* -> api -> domain {sync, roles, events} -> {jobs, diff, db, discord}
 *
 * Domain and lower packages never import tRPC, React or discord.js; the bot never reaches the
 * database; production code never imports the emulator (only the `npm start` launcher,
 * tests, e2e and benchmarks may). Type-only imports are erased at build time and are allowed
 * where noted.
 */
const DOMAIN = "^packages/(sync|roles|events)/";
const LOWER = "^packages/(jobs|diff|db|discord)/";
const PROD_SRC = "^(apps/[^/]+|packages/(?!emulator/)[^/]+)/src/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Packages and modules form a graph without cycles.",
      from: { path: "^(apps|packages)/" },
      to: { circular: true },
    },
    {
      name: "lower-never-imports-up",
      severity: "error",
      comment: "jobs, diff, db and discord sit at the bottom: they import no domain package, no api and no app.",
      from: { path: LOWER },
      to: { path: "^(apps/|packages/(sync|roles|events|api)/)" },
    },
    {
      name: "leaves-stay-leaves",
      severity: "error",
      comment: "diff, db and discord do not import the jobs package (jobs may use db).",
      from: { path: "^packages/(diff|db|discord)/" },
      to: { path: "^packages/jobs/" },
    },
    {
      name: "domain-never-imports-api-or-apps",
      severity: "error",
      comment: "Domain packages are called by the api, never the other way.",
      from: { path: DOMAIN },
      to: { path: "^(apps/|packages/api/)" },
    },
    {
      name: "api-never-imports-apps",
      severity: "error",
      from: { path: "^packages/api/" },
      to: { path: "^apps/" },
    },
    {
      name: "domain-is-framework-free",
      severity: "error",
      comment: "Domain and lower packages never import tRPC, React or discord.js.",
      from: { path: `(${DOMAIN})|(${LOWER})` },
      to: { path: "node_modules/(@trpc/|react/|react-dom/|discord\\.js/|@discordjs/(ws|builders)/)" },
    },
    {
      name: "bot-never-reaches-the-database",
      severity: "error",
      comment: "The bot talks to the server through the typed tRPC client; it never loads the database layer.",
      from: { path: "^apps/bot/src/" },
      to: {
        path: "^packages/db/|node_modules/(drizzle-orm|postgres|@electric-sql/pglite|pg-boss|pg)/",
        reachable: true,
      },
    },
    {
      name: "production-never-imports-the-emulator",
      severity: "error",
      comment: "Only the npm start launcher (scripts/), tests, e2e and benchmarks may use the emulator.",
      from: { path: PROD_SRC },
      to: { path: "^packages/emulator/" },
    },
    {
      name: "routers-call-services",
      severity: "error",
      comment:
        "Procedures reach data only through domain services (DESIGN.md: one path from a procedure to the data): routers never import Drizzle or the schema.",
      from: { path: "^packages/api/src/router/" },
      to: { path: "^packages/db/|node_modules/drizzle-orm/" },
    },
    {
      name: "web-stays-in-the-browser",
      severity: "error",
      comment: "The SPA imports only types from the api (and pure modules such as @guildhall/discord/snowflake).",
      from: { path: "^apps/web/src/" },
      to: { path: "^packages/(api|sync|db|jobs|roles|events)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|\\.guildhall|test-results|playwright-report)/" },
    // The runtime graph: `import type` is erased by the compiler, so it does not count.
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.base.json" },
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
      mainFields: ["module", "main", "types"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
