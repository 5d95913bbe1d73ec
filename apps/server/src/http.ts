/**
 * What the server checks on every HTTP request before any handler runs: how large a body may
 * be (the one table, {@link BODY_LIMITS}), which origins a session cookie is good for
 * ({@link checkOrigin}), which content types tRPC takes, and who the client is
 * ({@link clientAddress}, behind trusted proxies only).
 */
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import { BOT_KEY_HEADER, ForeignOrigin, MAX_PACKED_CHARS, PayloadTooLarge, UnsupportedMediaType } from "@guildhall/api";
import { LEGACY_MAX_BYTES } from "./legacy";

const MiB = 1024 * 1024;

/**
 * The largest body each kind of request may carry (bytes). The one place request sizes are
 * declared: a body beyond its limit is answered 413 (JSON) before it is buffered: at once when
 * `Content-Length` says so, else as soon as the bytes read pass the limit.
 */
export const BODY_LIMITS = {
  /** Any tRPC call over HTTP by a browser, a session or an anonymous caller. */
  default: 1 * MiB,
  /**
   * A tRPC call that presents the bot key: the bot pushes up to two packed `bot.syncChunk`s at
   * once (apps/bot/src/memberSync.ts), which tRPC's batching may put in one request, each at
   * most MAX_PACKED_CHARS base64 characters (one byte each), plus a default-sized remainder
   * for the JSON around them and whatever else shares the batch.
   */
  bot: 2 * MAX_PACKED_CHARS + 1 * MiB,
  /** One WebSocket message (`ws` maxPayload): the bot sends all its calls over the socket, batched the same way. */
  websocket: 2 * MAX_PACKED_CHARS + 1 * MiB,
  /** The auth endpoints (`/api/auth/*`): an email and a password. */
  auth: 64 * 1024,
  /**
   * Discord's interactions endpoint (`POST /api/interactions`): an interaction with its resolved
   * users, members, roles and channels stays far below this.
   */
  interactions: 1 * MiB,
  /** The legacy member sync endpoint, which checks its own limit while reading (legacy.ts). */
  legacy: LEGACY_MAX_BYTES,
} as const;

/** A body larger than its limit: the 413's message names the limit. */
export const tooLarge = (limit: number, what: string): PayloadTooLarge =>
  new PayloadTooLarge({
    message:
      limit >= MiB
        ? `${what} take at most ${limit / MiB} MiB (${limit} bytes).`
        : `${what} take at most ${limit / 1024} KiB (${limit} bytes).`,
  });

/**
 * Reads the request body into memory, up to `limit` bytes. Resolves to the body, or to
 * `"too-large"` without reading anything when `Content-Length` is beyond the limit, or as
 * soon as a body without one (chunked) passes it (the rest is not read: answer with
 * `Connection: close`). Rejects when the stream fails (the client went away).
 */
export const readBody = (req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> =>
  new Promise((resolve, reject) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) return resolve("too-large");
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= limit) return void parts.push(part);
      req.off("data", onData);
      req.off("end", onEnd);
      req.pause();
      resolve("too-large");
    };
    const onEnd = () => resolve(Buffer.concat(parts, size));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", reject);
  });

/** True when the request authenticates with something a browser never sends across origins on its own: the bot key, or an `Authorization` header (API tokens). */
export const hasExplicitCredentials = (req: IncomingMessage): boolean =>
  typeof req.headers[BOT_KEY_HEADER] === "string" || typeof req.headers.authorization === "string";

const originOf = (url: string): string | null => {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
};

/**
 * The origins whose pages may use the session cookie: the public URL's, the server's own on
 * localhost and 127.0.0.1 (its port), and the Vite dev server (http://localhost:5173), the
 * same list better-auth trusts.
 */
export const trustedOrigins = (publicUrl: string, port: number): ReadonlyArray<string> => [
  ...new Set([originOf(publicUrl) ?? publicUrl, `http://localhost:${port}`, `http://127.0.0.1:${port}`, "http://localhost:5173"]),
];

/**
 * Cross-site request forgery check for a request a session cookie would authenticate: a
 * browser names the page's origin in `Origin` (every POST and every WebSocket upgrade), else
 * `Sec-Fetch-Site`, else a `Referer`; the request is refused (ForeignOrigin) when what it names
 * is not one of `allowed`. A request naming none of them does not come from a browser page
 * (curl, the Node client), and one with the bot key or an `Authorization` header is not
 * authenticated by the cookie: both pass, as does a request without a cookie.
 */
export const checkOrigin = (req: IncomingMessage, allowed: ReadonlyArray<string>): ForeignOrigin | null => {
  if (req.headers.cookie === undefined || hasExplicitCredentials(req)) return null;
  return checkNamedOrigin(req, allowed);
};

/**
 * The Origin check of a sign-in (`POST /api/auth/sign-in/*`, email or Discord): like
 * {@link checkOrigin}, but with or without a cookie, since a sign-in is what makes the cookie (a
 * foreign page must not sign a visitor in, nor start a Discord sign-in in their browser).
 * A request naming no origin at all (curl, the Node client) passes.
 */
export const checkSignInOrigin = (req: IncomingMessage, allowed: ReadonlyArray<string>): ForeignOrigin | null =>
  checkNamedOrigin(req, allowed);

/** The origin a browser names (Origin, else Sec-Fetch-Site, else Referer) against `allowed`; null when it names none. */
const checkNamedOrigin = (req: IncomingMessage, allowed: ReadonlyArray<string>): ForeignOrigin | null => {
  const origin = req.headers.origin;
  if (typeof origin === "string") return allowed.includes(origin) ? null : new ForeignOrigin({ origin });
  const site = req.headers["sec-fetch-site"];
  if (typeof site === "string") {
    // same-site is not enough: another port of the same host is the same site.
    return site === "same-origin" || site === "none" ? null : new ForeignOrigin({ origin: `Sec-Fetch-Site: ${site}` });
  }
  const referer = req.headers.referer;
  if (typeof referer === "string") {
    const from = originOf(referer);
    return from !== null && allowed.includes(from) ? null : new ForeignOrigin({ origin: from ?? "an unreadable Referer" });
  }
  return null;
};

/**
 * tRPC over HTTP takes JSON only. A browser page may send `multipart/form-data`, `text/plain`
 * or `application/x-www-form-urlencoded` (or a body with no type) to another origin without
 * asking first (no CORS preflight), so those are refused: UnsupportedMediaType, for any
 * request with a body (not GET or HEAD).
 */
export const checkTrpcContentType = (req: IncomingMessage): UnsupportedMediaType | null => {
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return null;
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" ? null : new UnsupportedMediaType({ contentType: type || "(none)", allowed: "application/json" });
};

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it maps. */
const plain = (address: string): string => (address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

const family = (address: string): "ipv4" | "ipv6" | null => {
  const version = isIP(address);
  return version === 4 ? "ipv4" : version === 6 ? "ipv6" : null;
};

/** Thrown by {@link parseTrustedProxies}; names the entry that is not an address or a CIDR range. */
export class InvalidProxyList extends Error {
  override readonly name = "InvalidProxyList";
}

/**
 * The trusted proxies from a list of addresses and CIDR ranges (`10.0.0.1`, `10.0.0.0/8`,
 * `fd00::/8`), as GUILDHALL_TRUSTED_PROXIES gives them (comma or space separated). Throws
 * InvalidProxyList naming the first entry that is neither.
 */
export const parseTrustedProxies = (entries: ReadonlyArray<string>): BlockList => {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const type = family(address);
    const bits = prefix === undefined ? null : Number(prefix);
    if (type === null || rest.length > 0 || (bits !== null && (!/^\d{1,3}$/.test(prefix ?? "") || bits > (type === "ipv4" ? 32 : 128)))) {
      throw new InvalidProxyList(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    }
    if (bits === null) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
};

const trusts = (proxies: BlockList, address: string): boolean => {
  const type = family(address);
  return type !== null && proxies.check(address, type);
};

/**
 * The client's address as the server sees it: the socket's peer. Only when that peer is one
 * of `proxies` is `X-Forwarded-For` read, right to left, skipping trusted proxies: the first
 * address not trusted is the client (a client can put anything at the left of the header, but
 * not past the proxy that appends the real peer). Null when the socket has no address (closed).
 */
export const clientAddress = (req: IncomingMessage, proxies: BlockList | null): string | null => {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return null;
  let client = plain(peer);
  if (proxies === null || !trusts(proxies, client)) return client;
  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((hop) => plain(hop.trim()))
    .filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (family(hop) === null) break; // garbage in the chain: stop at the last address known good
    client = hop;
    if (!trusts(proxies, hop)) break;
  }
  return client;
};
