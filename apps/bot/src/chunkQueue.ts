import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A packed member chunk waiting for its push. */
export interface PackedChunk {
  readonly index: number;
  readonly count: number;
  readonly packed: Buffer;
}

/**
 * The packed chunks of one sync that wait for their push, in memory up to `capBytes` and in a
 * temporary file beyond it: Discord sends a big guild's chunks several times faster than the
 * server applies them, and the bot's memory must not grow with the guild. The file is created
 * on the first spill and removed by `close()`. Order is not kept (chunks carry their index);
 * memory first, then the file. Throws what node:fs throws (disk full, no temp dir).
 */
export class ChunkQueue {
  private readonly memory: PackedChunk[] = [];
  private readonly spilled: Array<{ index: number; count: number; offset: number; length: number }> = [];
  private heldBytes = 0;
  private file: { dir: string; fd: number; size: number } | null = null;

  constructor(private readonly capBytes: number) {}

  /** Chunks waiting (in memory and spilled). */
  get size(): number {
    return this.memory.length + this.spilled.length;
  }

  /** Bytes held in memory now (at most `capBytes`, unless one chunk alone is larger). */
  get bytesInMemory(): number {
    return this.heldBytes;
  }

  /** Chunks that went to the file so far. */
  get spilledCount(): number {
    return this.spilled.length;
  }

  push(chunk: PackedChunk): void {
    if (this.heldBytes + chunk.packed.length <= this.capBytes || this.memory.length === 0) {
      this.memory.push(chunk);
      this.heldBytes += chunk.packed.length;
      return;
    }
    if (!this.file) {
      const dir = mkdtempSync(join(tmpdir(), "guildhall-sync-"));
      this.file = { dir, fd: openSync(join(dir, "chunks"), "w+"), size: 0 };
    }
    writeSync(this.file.fd, chunk.packed, 0, chunk.packed.length, this.file.size);
    this.spilled.push({ index: chunk.index, count: chunk.count, offset: this.file.size, length: chunk.packed.length });
    this.file.size += chunk.packed.length;
  }

  /** The next chunk to push, or undefined when none waits. */
  shift(): PackedChunk | undefined {
    const held = this.memory.shift();
    if (held) {
      this.heldBytes -= held.packed.length;
      return held;
    }
    const entry = this.spilled.pop();
    if (!entry || !this.file) return undefined;
    const packed = Buffer.allocUnsafe(entry.length);
    readSync(this.file.fd, packed, 0, entry.length, entry.offset);
    return { index: entry.index, count: entry.count, packed };
  }

  /** Drops every waiting chunk and removes the file. */
  close(): void {
    this.memory.length = 0;
    this.spilled.length = 0;
    this.heldBytes = 0;
    if (this.file) {
      closeSync(this.file.fd);
      rmSync(this.file.dir, { recursive: true, force: true });
      this.file = null;
    }
  }
}
