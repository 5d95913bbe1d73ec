// Bundles the bot (its sources, the workspace packages it imports, discord.js) into one ES
// module, dist/main.mjs (source map beside it; `node --enable-source-maps` maps stack traces,
// at the cost of loading the 11 MB map), run with plain `node`: how the bot is deployed. It
// starts in about
// 90 MB of RSS where `tsx src/main.ts` takes about 150 MB (tsx keeps every transpiled source
// and its source map). `entry` and `outfile` can be given to bundle another entry point (the
// benchmark bundles its bot child the same way).

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL("..", import.meta.url));
const [entry = `${here}src/main.ts`, outfile = `${here}dist/main.mjs`] = process.argv.slice(2);

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  // Optional native add-ons discord.js and ws load only when installed.
  external: ["zlib-sync", "bufferutil", "utf-8-validate", "erlpack", "@discordjs/voice"],
  // discord.js requires @discordjs/rest's CommonJS build and the Discord port imports its ES
  // build: resolve both to the CommonJS one, so the bundle carries one copy (about 1 MB less heap).
  alias: { "@discordjs/rest": createRequire(import.meta.url).resolve("@discordjs/rest") },
  // CommonJS dependencies bundled into an ES module still call require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
