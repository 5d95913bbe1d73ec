/**
 * The spool: what the bot could not deliver before it stopped, kept in its state directory
 * (GUILDHALL_BOT_STATE_DIR) and replayed, in order, at the next start before any new event.
 *
 * One JSON object per line, `{"queue": "presence", "item": {...}}`, in delivery order; the file
 * is readable by its owner only (0600), in a directory only its owner can enter (0700), because
 * it holds member data. It is written whole to a temporary file and renamed over the old one,
 * so a crash while writing leaves the previous spool intact, never half of a new one.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One undelivered item and the queue it goes back to (a forwarder's `kind`). */
export interface SpoolEntry {
  readonly queue: string;
  readonly item: unknown;
}

/** The spool's file name inside the state directory. */
export const SPOOL_FILE = "undelivered.jsonl";

/** Where the spool of state directory `dir` lives. */
export const spoolPath = (dir: string): string => join(dir, SPOOL_FILE);

/**
 * Writes `entries` as the spool of `dir` (created, 0700, when missing), replacing any earlier
 * one; with no entries, removes the spool instead. Resolves to the spool's path (null when
 * removed); rejects with the file system's error when it cannot be written.
 */
export const writeSpool = async (dir: string, entries: ReadonlyArray<SpoolEntry>): Promise<string | null> => {
  const path = spoolPath(dir);
  if (entries.length === 0) {
    await rm(path, { force: true });
    return null;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  // JSON.stringify escapes line breaks inside strings, so each entry stays on its own line.
  const text = `${entries.map((entry) => JSON.stringify({ queue: entry.queue, item: entry.item })).join("\n")}\n`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: "wx" });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
  return path;
};

/** What {@link takeSpool} found. */
export interface TakenSpool {
  /** The entries, in the order they were written. */
  readonly entries: ReadonlyArray<SpoolEntry>;
  /** Lines that were not an entry (a damaged file); they are dropped. */
  readonly unreadable: number;
}

/**
 * Reads the spool of `dir` and removes it (its entries now belong to the caller, which queues
 * them again). No spool: no entries. Rejects when the file exists but cannot be read or removed.
 */
export const takeSpool = async (dir: string): Promise<TakenSpool> => {
  const path = spoolPath(dir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], unreadable: 0 };
    throw error;
  }
  const entries: Array<SpoolEntry> = [];
  let unreadable = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (typeof parsed === "object" && parsed !== null && "queue" in parsed && typeof parsed.queue === "string" && "item" in parsed) {
        entries.push({ queue: parsed.queue, item: parsed.item });
      } else {
        unreadable++;
      }
    } catch {
      unreadable++;
    }
  }
  await rm(path);
  return { entries, unreadable };
};
