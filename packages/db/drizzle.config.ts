import { defineConfig } from "drizzle-kit";

// Migrations are generated from the schema and committed; they run on start (see src/migrate.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema.ts",
  out: "./drizzle",
  casing: "snake_case",
});
