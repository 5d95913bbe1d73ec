/**
 * Tiny deterministic PNG avatars so the SPA has something to show for CDN URLs.
 * https://www.w3.org/TR/png-3/ (signature, IHDR, IDAT, IEND; CRC-32 over type + data).
 */
import { deflateSync } from "node:zlib";
import { mix32 } from "./random";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A `size` x `size` PNG (8-bit RGB) filled with one colour given as 0xRRGGBB. */
export function solidPng(rgb: number, size = 64): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  const row = Buffer.alloc(1 + size * 3); // filter byte 0, then pixels
  for (let x = 0; x < size; x++) {
    row[1 + x * 3] = (rgb >> 16) & 0xff;
    row[2 + x * 3] = (rgb >> 8) & 0xff;
    row[3 + x * 3] = rgb & 0xff;
  }
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const cache = new Map<number, Buffer>();

/** The avatar PNG for any key (e.g. an avatar hash): a pleasant colour picked from the key, cached. */
export function avatarPng(key: string): Buffer {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = mix32(h ^ key.charCodeAt(i));
  // Mid-range channels so avatars are neither black nor white.
  const rgb = ((0x40 + (h & 0x7f)) << 16) | ((0x40 + ((h >>> 8) & 0x7f)) << 8) | (0x40 + ((h >>> 16) & 0x7f));
  let png = cache.get(rgb);
  if (!png) {
    png = solidPng(rgb);
    if (cache.size > 4096) cache.clear();
    cache.set(rgb, png);
  }
  return png;
}
