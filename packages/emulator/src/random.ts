/**
 * Deterministic pseudo-random numbers. Everything the emulator seeds is a pure
 * function of (seed, index, salt), so any member can be regenerated on demand
 * without storing it.
 */

/** A 32-bit integer avalanche mix (murmur3 finaliser over a golden-ratio step): same input, same output. */
export function mix32(value: number): number {
  let t = (value + 0x9e3779b9) | 0;
  t ^= t >>> 16;
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

/** Folds a seed of any size (an integer up to 2^53) into 32 bits before mixing. */
export function seedHash(seed: number): number {
  const high = Math.floor(seed / 0x1_0000_0000);
  return mix32(mix32(seed >>> 0) ^ mix32(high | 0));
}

/** Hash of (seed, index, salt) as an unsigned 32-bit integer. */
export function hash3(seed: number, index: number, salt: number): number {
  return hashIndex(seedHash(seed), index, salt);
}

/** {@link hash3} with the seed already folded by {@link seedHash} (hot paths cache it per guild). */
export function hashIndex(seedHashValue: number, index: number, salt: number): number {
  return mix32(mix32(seedHashValue ^ index) ^ Math.imul(salt, 0x85ebca6b));
}

/**
 * A small PRNG stream (mulberry32) for drawing several values from one hash: the emulator's one
 * PRNG. Whoever draws holds an Rng and passes it explicitly; nothing draws from shared state.
 */
export class Rng {
  private state: number;

  constructor(state: number) {
    this.state = state >>> 0;
  }

  /** Restarts the stream at `state`, as `new Rng(state)` would, without allocating; returns this. */
  reseed(state: number): this {
    this.state = state >>> 0;
    return this;
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(items: ReadonlyArray<T>): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("Rng.pick on an empty array");
    return item;
  }

  /** Lower-case hex string of `length` characters. */
  hex(length: number): string {
    let out = "";
    while (out.length < length) out += this.nextU32().toString(16).padStart(8, "0");
    return out.slice(0, length);
  }
}
