import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { ChunkQueue } from "../src/chunkQueue";

const chunk = (index: number, bytes: number) => ({ index, count: 10, packed: Buffer.alloc(bytes, index) });
const spillDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith("guildhall-sync-"));

describe("ChunkQueue", () => {
  it("holds chunks in memory up to its cap, spills the rest to a file, and gives every chunk back intact", () => {
    const before = spillDirs().length;
    const queue = new ChunkQueue(250);
    for (let i = 0; i < 10; i++) queue.push(chunk(i, 100));
    expect(queue.size).toBe(10);
    expect(queue.bytesInMemory).toBe(200);
    expect(queue.spilledCount).toBe(8);
    expect(spillDirs().length).toBe(before + 1);

    const out = [];
    for (let next = queue.shift(); next; next = queue.shift()) out.push(next);
    expect(out.map((c) => c.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const c of out) expect(c.packed.equals(Buffer.alloc(100, c.index))).toBe(true);
    expect(queue.size).toBe(0);
    expect(queue.bytesInMemory).toBe(0);

    queue.close();
    expect(spillDirs().length).toBe(before);
  });

  it("takes one chunk larger than the cap into memory rather than refusing it, and touches no file below the cap", () => {
    const before = spillDirs().length;
    const queue = new ChunkQueue(50);
    queue.push(chunk(1, 80));
    expect(queue.bytesInMemory).toBe(80);
    expect(queue.spilledCount).toBe(0);
    expect(spillDirs().length).toBe(before);
    expect(queue.shift()?.packed.length).toBe(80);
    queue.close();
  });
});
