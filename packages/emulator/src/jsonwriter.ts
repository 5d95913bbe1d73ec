/**
 * JsonWriter: appends JSON text to a growable byte buffer. The member lists of a big guild
 * (1,000 members, ~530 KB per GUILD_MEMBERS_CHUNK, a million members per full request) are
 * written straight into bytes: pre-encoded pieces are copied with plain JS loops, numbers and hex
 * are written digit by digit, so no string is built per member and nothing calls into native code
 * per piece (a native write costs ~100 ns, more than copying 20 bytes). Strings that may hold other
 * characters (user-set nicks, added members) go through `text` as UTF-8.
 */

type WritableBuffer = Buffer & {
  latin1Write?: (text: string, offset: number) => number;
  utf8Write?: (text: string, offset: number) => number;
};

// Buffer#latin1Write / #utf8Write are Node's own (undocumented) single-encoding writers, several
// times cheaper per call than buf.write(text, offset, encoding); fall back when a runtime lacks them.
const probe = Buffer.alloc(1) as WritableBuffer;
const HAS_FAST_WRITES = typeof probe.latin1Write === "function" && typeof probe.utf8Write === "function";

/** A growable buffer of JSON text; not thread- or re-entrancy-safe (use one per synchronous build). */
export class JsonWriter {
  private buf: WritableBuffer;
  /** Bytes written so far. */
  length = 0;

  /** @param capacity initial size in bytes (grows by doubling). */
  constructor(capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafeSlow(capacity) as WritableBuffer;
  }

  /** Forgets what was written (keeps the memory). */
  reset(): void {
    this.length = 0;
  }

  /** Makes room for at least `bytes` more bytes. */
  ensure(bytes: number): void {
    if (this.length + bytes > this.buf.length) this.grow(bytes);
  }

  /** Appends pre-encoded bytes (a JS loop for short pieces, TypedArray#set for long ones). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.length + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    const at = this.length;
    if (n < 64) for (let i = 0; i < n; i++) buf[at + i] = bytes[i] as number;
    else buf.set(bytes, at);
    this.length = at + n;
  }

  /** Appends one byte (an ASCII character code). */
  byte(code: number): void {
    if (this.length + 1 > this.buf.length) this.grow(1);
    this.buf[this.length++] = code;
  }

  /** Appends a short ASCII string character by character (ids, numbers already in a string). */
  chars(text: string): void {
    const n = text.length;
    if (this.length + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    const at = this.length;
    for (let i = 0; i < n; i++) buf[at + i] = text.charCodeAt(i);
    this.length = at + n;
  }

  /** Appends a non-negative integer (< 2^53) in decimal. */
  uint(value: number): void {
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    if (this.length + digits > this.buf.length) this.grow(digits);
    const buf = this.buf;
    let v = value;
    for (let i = this.length + digits - 1; i >= this.length; i--) {
      const q = Math.floor(v / 10);
      buf[i] = 48 + v - q * 10;
      v = q;
    }
    this.length += digits;
  }

  /** Appends `value` (< 10^width) in decimal, zero-padded to `width` digits. */
  padded(value: number, width: number): void {
    if (this.length + width > this.buf.length) this.grow(width);
    const buf = this.buf;
    let v = value;
    for (let i = this.length + width - 1; i >= this.length; i--) {
      const q = Math.floor(v / 10);
      buf[i] = 48 + v - q * 10;
      v = q;
    }
    this.length += width;
  }

  /** Appends an unsigned 32-bit value as 8 lower-case hex digits. */
  hex32(value: number): void {
    if (this.length + 8 > this.buf.length) this.grow(8);
    const buf = this.buf;
    const at = this.length;
    for (let i = 7; i >= 0; i--) {
      const nibble = (value >>> ((7 - i) * 4)) & 0xf;
      buf[at + i] = nibble < 10 ? 48 + nibble : 87 + nibble;
    }
    this.length = at + 8;
  }

  /** Appends text known to be ASCII (word lists, digits, snowflakes, JSON punctuation). */
  ascii(text: string): void {
    if (this.length + text.length > this.buf.length) this.grow(text.length);
    this.length += HAS_FAST_WRITES
      ? (this.buf.latin1Write as (t: string, o: number) => number)(text, this.length)
      : this.buf.write(text, this.length, "latin1");
  }

  /** Appends any text as UTF-8 (user-provided strings, already JSON-encoded). */
  text(text: string): void {
    const worst = text.length * 3;
    if (this.length + worst > this.buf.length) this.grow(worst);
    this.length += HAS_FAST_WRITES
      ? (this.buf.utf8Write as (t: string, o: number) => number)(text, this.length)
      : this.buf.write(text, this.length, "utf8");
  }

  /** A copy of the bytes written (the writer can be reused afterwards). */
  bytes(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.length);
    this.buf.copy(out, 0, 0, this.length);
    return out;
  }

  /**
   * The bytes written, without copying when they fill most of the buffer: the buffer is handed over
   * and the writer starts a new one a quarter larger than what was written (the next frame is likely
   * as big). Small contents are copied, so a short frame does not pin a large buffer.
   */
  take(): Buffer {
    if (this.length < this.buf.length / 2) return this.bytes();
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafeSlow(Math.max(64 * 1024, Math.ceil(this.length * 1.25))) as WritableBuffer;
    this.length = 0;
    return out;
  }

  /** The text written, decoded as UTF-8. */
  toString(): string {
    return this.buf.toString("utf8", 0, this.length);
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < this.length + needed) size *= 2;
    const next = Buffer.allocUnsafeSlow(size) as WritableBuffer;
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** ASCII (latin1) text as bytes, for pre-encoded pieces that {@link JsonWriter.raw} copies. */
export function asciiBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}
