/**
 * The REST entry points the fuzz harness walks besides the router, one entry each: its path and
 * method, its body schema (inputs are derived from it, as for procedures), the headers it needs
 * and their good values. Every header is also sent missing, empty, hostile, doubled and with
 * bytes no HTTP client sends; every body also as raw bytes (not JSON, invalid UTF-8, too large).
 *
 * Adding an endpoint is one `restEndpoint({...})` line in {@link REST_ENDPOINTS}. The interactions
 * endpoint's signature depends on the body: its good header values are placeholders that
 * `finish` replaces with the real signature of the body sent, so hostile bodies get past the
 * verification to the handlers, while hostile, missing and doubled headers are still sent as such.
 */

import { appRouter } from "@guildhall/api";
import { Interaction } from "@guildhall/api/interactions";
import { type Derived, derive, HOSTILE_TEXT, hostileStringPick, inputOf, NUMERIC_TEXT, SNOWFLAKE_EDGES } from "@guildhall/fuzz";
import type { SchemaAST } from "effect";
import fc from "fast-check";
import { LEGACY_MAX_BYTES, LEGACY_MAX_MEMBERS, LegacyBody } from "../../src/legacy";
import { GUILD_ID, signInteraction } from "../helpers";
import type { FuzzTarget } from "./target";

/** One request as the harness sends it (see `rawHttp`). */
export interface RestRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

/** A REST endpoint to fuzz. */
export interface RestEndpoint {
  readonly name: string;
  /** Requests: mostly well-formed, with hostile headers, methods and bodies mixed in. */
  readonly requests: (target: FuzzTarget) => fc.Arbitrary<RestRequest>;
  /** A request that must succeed (2xx, or `goodStatus`) after the fuzz cases: later good input still works. */
  readonly good: (target: FuzzTarget) => RestRequest;
  /**
   * The status `good` must get when no 2xx is possible without a third party (the install
   * callback answers a cancelled install with its 403 page). Default: any 2xx.
   */
  readonly goodStatus?: number;
}

/** A header's good values, given the target (the bot key, a linked guild id...). */
type HeaderValues = (target: FuzzTarget) => fc.Arbitrary<string>;

/** Text as the raw bytes of a header line: UTF-8 bytes spelled as latin1 characters (what `rawHttp` writes). */
const asBytes = (text: string) => Buffer.from(text, "utf8").toString("latin1");

/** Header values no client should send: empty, huge, control characters, invalid UTF-8, folded lines, the classic hostile strings. */
const hostileHeader = (good: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom("", " ", "x".repeat(20_000), "\u0000", "a\u0001b", "\xff\xfe", "\xc3\x28", " leading", "trailing ", "a,b"),
    fc.constantFrom(...HOSTILE_TEXT, ...NUMERIC_TEXT, ...SNOWFLAKE_EDGES).map(asBytes),
    fc.tuple(fc.nat(), good).map(([j, value]) => {
      const hostile = hostileStringPick(j, value);
      return typeof hostile === "string" ? asBytes(hostile.slice(0, 20_000)) : String(hostile);
    }),
  );

/** Raw bodies: not JSON, JSON of the wrong shape, invalid UTF-8, a BOM, too large. */
const rawBodies = (tooLarge: ReadonlyArray<Buffer>): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc
      .constantFrom("", "{", "}", "null", "[]", "0", '"members"', '{"members":null}', '{"members":{}}', '{"members":[null]}', "\ufeff{}")
      .map((t) => Buffer.from(t)),
    fc.constant(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])),
    fc.constant(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
    fc.constantFrom(...tooLarge),
  );

/**
 * An endpoint from its path, body schema and headers. Requests are the good method, headers and
 * a body derived from `body` (valid, one hostile slot, hostile leaves: see `inputOf`) most of
 * the time; otherwise one thing goes wrong: a header missing, hostile or doubled, another
 * method, a query string, or a raw body.
 */
export const restEndpoint = (spec: {
  name: string;
  method?: string;
  path: string;
  body: { readonly ast: SchemaAST.AST };
  headers: Readonly<Record<string, HeaderValues>>;
  /** Bodies too large for the endpoint, sent as they are (built once). */
  tooLarge?: ReadonlyArray<Buffer>;
  /** Applied to every request last, e.g. to sign its body (the interactions endpoint). */
  finish?: (request: RestRequest) => RestRequest;
  good: (target: FuzzTarget) => RestRequest;
}): RestEndpoint => {
  const method = spec.method ?? "POST";
  let derived: Derived | undefined;
  return {
    name: spec.name,
    good: spec.good,
    requests: (target) => {
      derived ??= derive(spec.body.ast, { pools: target.pools });
      const names = Object.keys(spec.headers);
      const goodHeaders = fc
        .tuple(...names.map((name) => spec.headers[name]!(target)))
        .map((values) => values.map((value, i) => [names[i]!, value] as const));
      const headers = fc.oneof(
        { arbitrary: goodHeaders, weight: 6 },
        // One header missing, hostile, or sent twice.
        {
          arbitrary: fc.tuple(goodHeaders, fc.nat(), fc.constantFrom("missing", "hostile", "twice")).chain(([lines, i, how]) => {
            const at = i % Math.max(1, lines.length);
            const line = lines[at];
            if (!line) return fc.constant(lines);
            if (how === "missing") return fc.constant(lines.filter((_, k) => k !== at));
            if (how === "twice") return spec.headers[line[0]]!(target).map((other) => [...lines, [line[0], other] as const]);
            return hostileHeader(fc.constant(line[1])).map((value) => lines.map((l, k) => (k === at ? ([l[0], value] as const) : l)));
          }),
          weight: 3,
        },
      );
      const body = fc.oneof(
        { arbitrary: inputOf(derived).map((value) => Buffer.from(JSON.stringify(value) ?? "")), weight: 8 },
        { arbitrary: rawBodies(spec.tooLarge ?? []), weight: 2 },
      );
      const methods = fc.oneof(
        { arbitrary: fc.constant(method), weight: 12 },
        { arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS"), weight: 1 },
      );
      const paths = fc.oneof(
        { arbitrary: fc.constant(spec.path), weight: 12 },
        { arbitrary: fc.constantFrom(`${spec.path}?x=1`, `${spec.path}?members=%00`), weight: 1 },
      );
      const requests = fc.record({ method: methods, path: paths, headers, body });
      return spec.finish ? requests.map(spec.finish) : requests;
    },
  };
};

const json = [["Content-Type", "application/json"]] as const;

/** A legacy body of `count` valid members (ids from 840000000000000000 up). */
const legacyMembers = (count: number) =>
  Buffer.from(
    JSON.stringify({
      members: Array.from({ length: count }, (_, i) => ({
        id: String(840_000_000_000_000_000n + BigInt(i)),
        username: `m${i}`,
        roles: [],
        joined_at: "2024-01-01T00:00:00Z",
        is_bot: false,
      })),
    }),
  );

/** The input schema of a procedure of appRouter (what `.input()` was given: it keeps its AST). */
const procedureInput = (path: string): { readonly ast: SchemaAST.AST } => {
  const procedure = (appRouter._def.procedures as unknown as Record<string, { _def: { inputs: ReadonlyArray<{ ast: SchemaAST.AST }> } }>)[
    path
  ];
  const input = procedure?._def.inputs[0];
  if (!input) throw new Error(`no procedure ${path} with an input in appRouter`);
  return input;
};

/** Placeholders of the interactions endpoint's good signature headers, replaced by {@link signed}. */
const SIGN = "(sign)";
const NOW = "(now)";

/** The request with its `(now)` timestamp made now and its `(sign)` signature made over that timestamp and the body. */
const signed = (request: RestRequest): RestRequest => {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const stamp = request.headers.find(([name, value]) => name === "X-Signature-Timestamp" && value !== NOW)?.[1] ?? timestamp;
  const signature = signInteraction(request.body, stamp)["x-signature-ed25519"];
  return {
    ...request,
    headers: request.headers.map(([name, value]) =>
      value === SIGN ? ([name, signature] as const) : value === NOW ? ([name, timestamp] as const) : ([name, value] as const),
    ),
  };
};

/** A PING, the good request of the interactions endpoint. */
const ping = Buffer.from(
  JSON.stringify({ id: "950000000000000001", application_id: "950000000000000002", type: 1, token: "fuzz-token", version: 1 }),
);
/** A query value as a browser or an attacker may send it: percent-encoded text (hostile strings included) or raw percent junk. */
const queryValue = (target: FuzzTarget): fc.Arbitrary<string> => {
  const encode = (text: string) => {
    try {
      return encodeURIComponent(text);
    } catch {
      return "%ED%A0%80"; // a lone surrogate, as its UTF-8 bytes
    }
  };
  return fc.oneof(
    fc.constantFrom(...HOSTILE_TEXT, ...NUMERIC_TEXT, ...SNOWFLAKE_EDGES, ...target.pools.snowflakes).map(encode),
    fc.string({ maxLength: 300 }).map(encode),
    fc.constantFrom(
      "A".repeat(43),
      "a".repeat(201),
      "",
      "access_denied",
      "%",
      "%zz",
      "%00",
      "%C3%28",
      "%FF%FE",
      "+",
      "a%2Bb",
      "x".repeat(8_000),
    ),
  );
};

const CALLBACK_PATH = "/api/public/integrations/discord/callback";

/**
 * The bot install's OAuth2 callback (GET, a query string, maybe a session cookie): whatever the
 * query carries (unknown, malformed or repeated `state` / `code`, Discord's `error`, a forged
 * `guild_id`), the answer is a 4xx page and nothing is stored.
 */
const installCallback: RestEndpoint = {
  name: "install callback (GET /api/public/integrations/discord/callback)",
  goodStatus: 403,
  good: () => ({ method: "GET", path: `${CALLBACK_PATH}?error=access_denied&state=${"B".repeat(43)}`, headers: [], body: Buffer.alloc(0) }),
  requests: (target) => {
    const param = fc
      .tuple(
        fc.constantFrom("state", "code", "error", "error_description", "guild_id", "permissions", "x", "state[]", ""),
        queryValue(target),
      )
      .map(([name, value]) => `${name}=${value}`);
    const query = fc.oneof(
      fc.array(param, { maxLength: 6 }).map((params) => params.join("&")),
      fc.constantFrom("&&&", "==", "state", "state=&code=", "?", "#frag", "%", "state=a&state=b&code=c"),
    );
    const headers = fc.oneof(
      { arbitrary: fc.constant<ReadonlyArray<readonly [string, string]>>([]), weight: 4 },
      {
        arbitrary: fc
          .constantFrom("better-auth.session_token=forged", "better-auth.session_token=", "a=b; better-auth.session_token=%00")
          .map((cookie) => [["Cookie", cookie] as const]),
        weight: 1,
      },
    );
    const methods = fc.oneof(
      { arbitrary: fc.constant("GET"), weight: 12 },
      { arbitrary: fc.constantFrom("POST", "PUT", "DELETE", "HEAD"), weight: 1 },
    );
    return fc.record({
      method: methods,
      path: query.map((q) => `${CALLBACK_PATH}?${q}`),
      headers,
      body: fc.constant(Buffer.alloc(0)),
    });
  },
};

/** The REST entry points the harness walks. */
export const REST_ENDPOINTS: ReadonlyArray<RestEndpoint> = [
  restEndpoint({
    name: "legacy member sync (POST /api/dbot/sync_guild_members)",
    path: "/api/dbot/sync_guild_members",
    body: LegacyBody,
    headers: {
      "X-API-Key": (target) => fc.constant(target.server.botKey),
      "X-Guild-Id": (target) =>
        fc.oneof({ arbitrary: fc.constant(GUILD_ID), weight: 4 }, { arbitrary: fc.constantFrom(...target.pools.snowflakes), weight: 1 }),
      "Content-Type": () => fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain"),
    },
    tooLarge: [legacyMembers(LEGACY_MAX_MEMBERS + 1), Buffer.alloc(LEGACY_MAX_BYTES + 1, 0x20)],
    good: (target) => ({
      method: "POST",
      path: "/api/dbot/sync_guild_members",
      headers: [["X-API-Key", target.server.botKey], ["X-Guild-Id", GUILD_ID], ...json],
      body: legacyMembers(3),
    }),
  }),
  restEndpoint({
    name: "interactions endpoint (POST /api/interactions)",
    path: "/api/interactions",
    body: Interaction,
    headers: {
      // Mostly signed right (hostile bodies reach the handlers), sometimes another key's or a stale time.
      "X-Signature-Ed25519": () =>
        fc.oneof({ arbitrary: fc.constant(SIGN), weight: 8 }, { arbitrary: fc.constant("ab".repeat(64)), weight: 1 }),
      "X-Signature-Timestamp": () =>
        fc.oneof({ arbitrary: fc.constant(NOW), weight: 8 }, { arbitrary: fc.constantFrom("0", "99999999999", "-1", "1e3"), weight: 1 }),
      "Content-Type": () => fc.constantFrom("application/json", "text/plain"),
    },
    tooLarge: [Buffer.alloc(1024 * 1024 + 1, 0x20)],
    finish: signed,
    good: () =>
      signed({
        method: "POST",
        path: "/api/interactions",
        headers: [["X-Signature-Ed25519", SIGN], ["X-Signature-Timestamp", NOW], ...json],
        body: ping,
      }),
  }),
  // tRPC's own HTTP endpoint, below the procedure: raw bodies (not JSON, invalid UTF-8, megabytes), headers, methods.
  restEndpoint({
    name: "tRPC over HTTP, raw requests (POST /trpc/bot.memberEvents)",
    path: "/trpc/bot.memberEvents",
    body: procedureInput("bot.memberEvents"),
    headers: {
      "X-Guildhall-Bot-Key": (target) => fc.constant(target.server.botKey),
      "Content-Type": () => fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x"),
    },
    tooLarge: [Buffer.concat([Buffer.from('{"events":['), Buffer.alloc(6 * 1024 * 1024, 0x20), Buffer.from("]}")])],
    good: (target) => ({
      method: "POST",
      path: "/trpc/bot.memberEvents",
      headers: [["X-Guildhall-Bot-Key", target.server.botKey], ...json],
      body: Buffer.from(JSON.stringify({ events: [{ type: "remove", guildId: GUILD_ID, userId: "849999999999999999" }] })),
    }),
  }),
  installCallback,
];
