/**
 * The data directory is the owner's alone (issue #8, section 6): PGlite's files (the WAL holds
 * session tokens), secrets.json and whatever an older version left there.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, startServer } from "../src";
import { ADMIN, signIn } from "./helpers";

/** Every path under `dir` (itself included) whose mode gives the group or others any access, with its mode in octal. */
const exposed = (dir: string): Array<string> => {
  const found: Array<string> = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(dir);
  return found;
};

describe("the data directory", () => {
  let parent: string;
  let dataDir: string;
  let server: RunningServer | undefined;
  let umask: number;

  beforeAll(() => {
    // The probe's conditions: a permissive umask, and a data dir an older version left open.
    umask = process.umask(0);
    parent = mkdtempSync(join(tmpdir(), "guildhall-data-"));
    dataDir = join(parent, "data");
    mkdirSync(join(dataDir, "bot"), { recursive: true, mode: 0o777 });
    chmodSync(dataDir, 0o777);
    chmodSync(join(dataDir, "bot"), 0o777);
    writeFileSync(join(dataDir, "bot", "spool.jsonl"), "{}\n", { mode: 0o666 });
  });
  afterAll(async () => {
    await server?.close();
    process.umask(umask);
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it("holds no file or directory the group or others can read or write after a start and a sign-in", async () => {
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir,
      webDist: "/nonexistent",
      onReady: (services) => ensureFirstAdmin(services, ADMIN).then(() => undefined),
    });
    // A session row: PGlite writes it (and its token) to the WAL.
    await signIn(server);
    expect(readdirSync(join(dataDir, "pglite")).length).toBeGreaterThan(0);
    expect(lstatSync(join(dataDir, "secrets.json")).mode & 0o777).toBe(0o600);
    expect(exposed(dataDir)).toEqual([]);
  });
});
