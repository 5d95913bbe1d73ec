/**
 * JsonWriter: appends JSON text to a growable byte buffer. The member lists of a big guild
 * (1,000 members, ~530 KB per GUILD_MEMBERS_CHUNK, a million members per full request) are
 * written piece by piece straight into bytes: no string per member, no 500 KB string to flatten
 * and encode again. Generated pieces are ASCII and take the latin1 fast path; anything that may
 * hold other characters (user-set nicks, added members) goes through `text` as UTF-8.
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

  /** Appends text known to be ASCII (word lists, digits, snowflakes, JSON punctuation). */
  ascii(text: string): void {
    if (this.length + text.length > this.buf.length) this.grow(text.length);
    this.length += HAS_FAST_WRITES ? (this.buf.latin1Write as (t: string, o: number) => number)(text, this.length) : this.buf.write(text, this.length, "latin1");
  }

  /** Appends any text as UTF-8 (user-provided strings, already JSON-encoded). */
  text(text: string): void {
    const worst = text.length * 3;
    if (this.length + worst > this.buf.length) this.grow(worst);
    this.length += HAS_FAST_WRITES ? (this.buf.utf8Write as (t: string, o: number) => number)(text, this.length) : this.buf.write(text, this.length, "utf8");
  }

  /** A copy of the bytes written (the writer can be reused afterwards). */
  bytes(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.length);
    this.buf.copy(out, 0, 0, this.length);
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
