/**
 * Part of `npm run lint`: what a package may declare as a runtime dependency, beside the
 * import rules of .dependency-cruiser.cjs. The bot ships alone (its Docker image, its esbuild
 * bundle), so its package.json must not carry the server side: the database layer, the
 * domain packages, the server, the job queue or the emulator. Exits 1 naming each offence.
 */
import { readFileSync } from "node:fs";

const FORBIDDEN: Record<string, ReadonlyArray<string | RegExp>> = {
  "apps/bot/package.json": [
    /^@guildhall\/(server|db|sync|jobs|roles|events|emulator)$/,
    "drizzle-orm",
    "postgres",
    "pg",
    "pg-boss",
    "@electric-sql/pglite",
    "better-auth",
  ],
};

let failures = 0;
for (const [file, rules] of Object.entries(FORBIDDEN)) {
  const manifest = JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8")) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (rules.some((rule) => (typeof rule === "string" ? rule === name : rule.test(name)))) {
      console.error(
        `${file}: "${name}" is a server-side package and must not be a runtime dependency (move it to devDependencies or drop it).`,
      );
      failures++;
    }
  }
}
if (failures > 0) process.exit(1);
console.log("manifests: ok");
