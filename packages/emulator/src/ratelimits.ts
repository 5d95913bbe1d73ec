/**
 * Discord's REST rate limits: per-route buckets keyed by route and major parameter (guild, channel,
 * webhook), the global limit per bot token, the `X-RateLimit-*` headers on every answer and the 429
 * answers with `Retry-After`, `X-RateLimit-Scope` and `{message, code: 0, retry_after, global}` (`code` as
 * discord-api-spec requires it; Discord's docs call it optional). Windows are
 * fixed: a bucket's window opens with its first request and resets `windowMs` later, as Discord's member
 * role bucket is observed to behave. Every limit is configurable (benchmarks raise them), and each
 * bucket counts its requests and its 429s for tests and benchmarks.
 * https://discord.com/developers/docs/topics/rate-limits
 */
import { createHash } from "node:crypto";
import { EmulatorError } from "./errors";
import { isPlainObject } from "./validate";

/** `limit` requests per fixed window of `windowMs` ms. */
export interface RateLimitWindow {
  limit: number;
  windowMs: number;
}

/**
 * The emulator's rate limits (`EmulatorOptions.rateLimits`, `setRateLimits`); anything left out keeps its
 * current value (at start: the default).
 */
export interface RateLimitOptions {
  /** Requests per window per bot token over every bot-authorized route but interaction callbacks; default 50 per 1000 ms (Discord's 50/s); null turns it off. */
  global?: RateLimitWindow | null;
  /** `PUT` and `DELETE /guilds/{g}/members/{u}/roles/{r}`, one bucket per guild shared by both; default 10 per 10000 ms (observed on Discord). */
  memberRoles?: RateLimitWindow;
  /** `PATCH /guilds/{g}/members/{u}` (and `/members/@me`), its own bucket per guild; default 10 per 10000 ms. */
  memberPatch?: RateLimitWindow;
  /** Every other route, a bucket per route and major parameter; default 50 per 1000 ms. */
  default?: RateLimitWindow;
}

/** {@link RateLimitOptions} with every value filled in. */
export interface RateLimitSettings {
  global: RateLimitWindow | null;
  memberRoles: RateLimitWindow;
  memberPatch: RateLimitWindow;
  default: RateLimitWindow;
}

/** The named buckets a route can declare (`Route.bucket`); routes without one get a bucket of their own with the default limits. */
export type BucketName = "memberRoles" | "memberPatch";

/** Discord's defaults as far as they are documented or observed (see {@link RateLimitOptions}). */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  global: { limit: 50, windowMs: 1_000 },
  memberRoles: { limit: 10, windowMs: 10_000 },
  memberPatch: { limit: 10, windowMs: 10_000 },
  default: { limit: 50, windowMs: 1_000 },
};

/** What one bucket (one route or named bucket, one major parameter) saw. */
export interface BucketCount {
  /** The `X-RateLimit-Bucket` value (the same for every major parameter of the bucket). */
  bucket: string;
  /** The named bucket ("memberRoles", "memberPatch") or the route, e.g. "GET /guilds/:guild_id/roles". */
  name: string;
  /** The major parameter: guild, channel or webhook id (interactions: the interaction id; "" for none). */
  major: string;
  limit: number;
  windowMs: number;
  /** Requests that reached the bucket (past the global limit), its own 429s included. */
  requests: number;
  /** Requests answered 429 by this bucket. */
  limited: number;
}

/** The counters of {@link RateLimiter.report}: `GET /_emulator/rate-limits`. */
export interface RateLimitReport {
  settings: RateLimitSettings;
  /** The global limit: bot-authorized requests counted, and the ones answered with a global 429. */
  global: { requests: number; limited: number };
  /** Every bucket that saw a request since the last reset. */
  buckets: BucketCount[];
  /** Every request and every 429 (a bucket's or the global limit's): "calls made" and "429s met". */
  totals: { requests: number; limited: number };
}

/** A 429 to send instead of handling the request. */
export interface RateLimitedReply {
  status: 429;
  body: { message: string; code: number; retry_after: number; global: boolean };
  headers: Record<string, string>;
}

/** What {@link RateLimiter.take} decided: the headers for the answer, or the 429 to send. */
export type RateLimitDecision = { limited: false; headers: Record<string, string> } | { limited: true; reply: RateLimitedReply };

const WINDOW_FIELDS = ["limit", "windowMs"];

function window(value: unknown, field: string): RateLimitWindow {
  if (!isPlainObject(value)) throw new EmulatorError(400, `${field} must be an object {limit, windowMs}`);
  for (const key of Object.keys(value))
    if (!WINDOW_FIELDS.includes(key)) throw new EmulatorError(400, `${field} has an unknown field ${key}`);
  const { limit, windowMs } = value;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1_000_000)
    throw new EmulatorError(400, `${field}.limit must be an integer between 1 and 1000000`);
  if (typeof windowMs !== "number" || !Number.isInteger(windowMs) || windowMs < 1 || windowMs > 3_600_000)
    throw new EmulatorError(400, `${field}.windowMs must be an integer between 1 and 3600000`);
  return { limit, windowMs };
}

/**
 * Checks {@link RateLimitOptions} and merges them over `base` (default: Discord's). Throws EmulatorError
 * 400 naming the field (`rateLimits.memberRoles.limit`, ...).
 */
export function rateLimitSettings(raw: unknown, base: RateLimitSettings = DEFAULT_RATE_LIMITS, what = "rateLimits"): RateLimitSettings {
  if (raw === undefined) return structuredClone(base);
  if (!isPlainObject(raw)) throw new EmulatorError(400, `${what} must be an object`);
  const out = structuredClone(base);
  for (const [key, value] of Object.entries(raw)) {
    if (key === "global") out.global = value === null ? null : window(value, `${what}.global`);
    else if (key === "memberRoles" || key === "memberPatch" || key === "default") out[key] = window(value, `${what}.${key}`);
    else throw new EmulatorError(400, `${what} has an unknown field ${key}`);
  }
  return out;
}

interface Window {
  resetAt: number;
  used: number;
}

interface Counter {
  name: string;
  major: string;
  requests: number;
  limited: number;
}

const MESSAGE = "You are being rate limited.";

/** The buckets of one emulator. */
export class RateLimiter {
  private settings: RateLimitSettings;
  private readonly windows = new Map<string, Window>();
  private globalWindow: Window | null = null;
  private readonly counters = new Map<string, Counter>();
  private readonly hashes = new Map<string, string>();
  private global = { requests: 0, limited: 0 };

  constructor(settings: RateLimitSettings = DEFAULT_RATE_LIMITS) {
    this.settings = structuredClone(settings);
  }

  /** The limits in force. */
  get current(): RateLimitSettings {
    return structuredClone(this.settings);
  }

  /** Changes limits (anything left out stays) and starts every window afresh; counters stay. Throws 400 naming the field. */
  configure(options: RateLimitOptions): RateLimitSettings {
    this.settings = rateLimitSettings(options, this.settings);
    this.windows.clear();
    this.globalWindow = null;
    return this.current;
  }

  /** Zeroes every counter and window (limits stay). */
  reset(): void {
    this.windows.clear();
    this.counters.clear();
    this.globalWindow = null;
    this.global = { requests: 0, limited: 0 };
  }

  /**
   * Counts one request of `route` ("METHOD /pattern") for `major`, against its named bucket when it has
   * one, and against the global limit when `global` (a bot-authorized request other than an interaction
   * callback). Returns the `X-RateLimit-*` headers to send, or the 429 to answer instead.
   */
  take(route: string, bucket: BucketName | undefined, major: string, global: boolean, now = Date.now()): RateLimitDecision {
    const name = bucket ?? route;
    const limits = bucket ? this.settings[bucket] : this.settings.default;
    if (global && this.settings.global) {
      this.global.requests += 1;
      const g = this.settings.global;
      if (!this.globalWindow || this.globalWindow.resetAt <= now) this.globalWindow = { resetAt: now + g.windowMs, used: 0 };
      if (this.globalWindow.used >= g.limit) {
        this.global.limited += 1;
        const retryAfter = (this.globalWindow.resetAt - now) / 1000;
        return {
          limited: true,
          reply: {
            status: 429,
            body: { message: MESSAGE, code: 0, retry_after: round3(retryAfter), global: true },
            headers: { "retry-after": String(Math.ceil(retryAfter)), "x-ratelimit-global": "true", "x-ratelimit-scope": "global" },
          },
        };
      }
      this.globalWindow.used += 1;
    }

    // Only what passed the global limit reaches the route's bucket.
    const counter = this.counter(name, major);
    counter.requests += 1;
    const key = `${name}\u0000${major}`;
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { resetAt: now + limits.windowMs, used: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.prune(now);
    }
    const resetAfter = (w.resetAt - now) / 1000;
    const headers: Record<string, string> = {
      "x-ratelimit-limit": String(limits.limit),
      "x-ratelimit-remaining": String(Math.max(0, limits.limit - w.used - 1)),
      "x-ratelimit-reset": (w.resetAt / 1000).toFixed(3),
      "x-ratelimit-reset-after": resetAfter.toFixed(3),
      "x-ratelimit-bucket": this.hash(name),
    };
    if (w.used >= limits.limit) {
      counter.limited += 1;
      return {
        limited: true,
        reply: {
          status: 429,
          body: { message: MESSAGE, code: 0, retry_after: round3(resetAfter), global: false },
          headers: { ...headers, "x-ratelimit-remaining": "0", "retry-after": String(Math.ceil(resetAfter)), "x-ratelimit-scope": "user" },
        },
      };
    }
    w.used += 1;
    return { limited: false, headers };
  }

  /** Every counter since the last {@link reset}, and the limits in force. */
  report(): RateLimitReport {
    const buckets: BucketCount[] = [];
    let requests = 0;
    let limited = 0;
    for (const c of this.counters.values()) {
      const limits = c.name === "memberRoles" || c.name === "memberPatch" ? this.settings[c.name] : this.settings.default;
      buckets.push({ bucket: this.hash(c.name), name: c.name, major: c.major, ...limits, requests: c.requests, limited: c.limited });
      requests += c.requests;
      limited += c.limited;
    }
    // A request the global limit refused reached no bucket but is a call made and a 429 met all the same.
    return {
      settings: this.current,
      global: { ...this.global },
      buckets,
      totals: { requests: requests + this.global.limited, limited: limited + this.global.limited },
    };
  }

  private counter(name: string, major: string): Counter {
    const key = `${name}\u0000${major}`;
    let counter = this.counters.get(key);
    if (!counter) {
      counter = { name, major, requests: 0, limited: 0 };
      this.counters.set(key, counter);
    }
    return counter;
  }

  /** The bucket's `X-RateLimit-Bucket`: a hash of the route or bucket name, not of the major parameter (as Discord's). */
  private hash(name: string): string {
    let hash = this.hashes.get(name);
    if (hash === undefined) {
      hash = createHash("sha1").update(name).digest("hex").slice(0, 32);
      this.hashes.set(name, hash);
    }
    return hash;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
