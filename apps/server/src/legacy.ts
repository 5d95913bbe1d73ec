/**
 * The old Django app's member sync endpoint, kept for the apps that still call it:
 * `POST /api/dbot/sync_guild_members` with headers `X-API-Key` (the bot key) and `X-Guild-Id`
 * (a snowflake), body `{"members": [{id, username, display_name, nickname, avatar, roles,
 * joined_at, is_bot}]}` (`joined_at` an ISO-8601 instant or null), answer `{created, updated,
 * marked_left}` (plus `rejoined` and `unchanged`).
 *
 * The whole guild arrives in one body, so it is one snapshot: members missing from it are
 * marked left. Statuses (all from `answerFor`, @guildhall/api): 405 not POST, 401 wrong key,
 * 400 a bad X-Guild-Id, bad JSON or a bad field (each named), 403 guild not linked, 413 too
 * large (use the chunked tRPC procedures), 409 a sync already running. Text is cleaned for
 * Postgres as everywhere (NUL dropped, lone surrogates replaced), and @everyone is dropped from
 * `roles`. Whatever fails after the run started ends the run (`failed`), so a failed call
 * never blocks the guild's next sync.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { answerFor, botKeyMatches, InvalidApiKey, InvalidInput, MethodNotAllowed, PayloadTooLarge, validateInput } from "@guildhall/api";
import { IsoInstant, MemberSync, pgText, Snowflake } from "@guildhall/sync";
import { Effect, type ManagedRuntime, Schema } from "effect";

/** Largest body accepted (bytes) and most members per call: beyond, the chunked procedures. */
export const LEGACY_MAX_BYTES = 5 * 1024 * 1024;
export const LEGACY_MAX_MEMBERS = 10_000;

const LegacyMember = Schema.Struct({
  id: Snowflake,
  username: pgText(64, 1),
  display_name: Schema.optional(Schema.NullOr(pgText(64))),
  nickname: Schema.optional(Schema.NullOr(pgText(64))),
  avatar: Schema.optional(Schema.NullOr(pgText(64))),
  roles: Schema.Array(Snowflake).check(Schema.isMaxLength(250)),
  joined_at: Schema.NullOr(IsoInstant),
  is_bot: Schema.Boolean,
});
/** The legacy endpoint's body (see the module comment); exported for the fuzz harness, which derives its inputs from it. */
export const LegacyBody = Schema.Struct({ members: Schema.Array(LegacyMember) });

const TOO_LARGE =
  `at most ${LEGACY_MAX_MEMBERS.toLocaleString("en")} members or ${LEGACY_MAX_BYTES / 1024 / 1024} MB per call. ` +
  "Send larger guilds in chunks through the tRPC procedures bot.syncBegin, bot.syncChunk (up to 1,000 members each) and bot.syncComplete.";

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

const readBody = (req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      req.resume();
      return resolve("too-large");
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve("too-large");
      } else parts.push(part);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });

/** The body as JSON: fails with PayloadTooLarge beyond LEGACY_MAX_BYTES, InvalidInput (`body`) when unreadable or not JSON. */
const readJson = (req: IncomingMessage) =>
  Effect.gen(function* () {
    const body = yield* Effect.tryPromise({
      try: () => readBody(req, LEGACY_MAX_BYTES),
      catch: () => new InvalidInput({ field: "body", message: "body: could not be read" }),
    });
    if (body === "too-large") return yield* new PayloadTooLarge({ message: TOO_LARGE });
    return yield* Effect.try({
      try: (): unknown => JSON.parse(body.toString("utf8")),
      catch: (error) =>
        new InvalidInput({ field: "body", message: `body: not valid JSON (${error instanceof Error ? error.message : String(error)})` }),
    });
  });

/** The legacy call as one Effect: the checks in the contract's order, then one run of one chunk, ended on any failure. */
const legacySync = (req: IncomingMessage, botKey: string) =>
  Effect.gen(function* () {
    if (req.method !== "POST") return yield* new MethodNotAllowed({ allowed: "POST" });
    const key = req.headers["x-api-key"];
    if (!botKeyMatches(typeof key === "string" ? key : null, botKey)) return yield* new InvalidApiKey({ header: "X-API-Key" });
    const guildId = yield* validateInput(Snowflake, req.headers["x-guild-id"], "X-Guild-Id");
    const sync = yield* MemberSync;
    yield* sync.requireGuild(guildId);

    const json = yield* readJson(req);
    const listed = (json as { members?: unknown } | null)?.members;
    if (Array.isArray(listed) && listed.length > LEGACY_MAX_MEMBERS) return yield* new PayloadTooLarge({ message: TOO_LARGE });
    const { members } = yield* validateInput(LegacyBody, json);

    return yield* sync.withRun({ guildId, trigger: "rest", source: "legacy", requestedBy: null }, (run) =>
      sync
        .applyChunk({
          runId: run.id,
          chunkIndex: 0,
          chunkCount: 1,
          members: members.map((m) => ({
            userId: m.id,
            username: m.username,
            globalName: m.display_name ?? null,
            nick: m.nickname ?? null,
            avatar: m.avatar ?? null,
            roleIds: m.roles,
            joinedAt: m.joined_at,
            isBot: m.is_bot,
            pending: false,
            premiumSince: null,
            communicationDisabledUntil: null,
          })),
        })
        .pipe(Effect.andThen(sync.complete(run.id))),
    );
  });

/**
 * Handles one request to the legacy endpoint (see the module comment for the contract) on
 * `deps.runtime` (the server's ApiRuntime; it needs only MemberSync). Never throws; every
 * outcome is a JSON answer, `{error}` with the status `answerFor` gives.
 */
export const handleLegacyMemberSync = async (
  deps: { runtime: ManagedRuntime.ManagedRuntime<MemberSync, unknown>; botKey: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> => {
  const answer = legacySync(req, deps.botKey).pipe(
    Effect.map((run) => ({
      status: 200,
      body: { created: run.created, updated: run.updated, marked_left: run.markedLeft, rejoined: run.rejoined, unchanged: run.unchanged },
    })),
    Effect.catch((error) => {
      const { status, message, internal } = answerFor(error);
      return (internal ? Effect.logError(`legacy member sync: ${error._tag}`, error) : Effect.void).pipe(
        Effect.as({ status, body: { error: message } as unknown }),
      );
    }),
    Effect.catchCause((cause) =>
      Effect.logError("legacy member sync: unexpected failure", cause).pipe(
        Effect.as({ status: 500, body: { error: "Internal error." } as unknown }),
      ),
    ),
  );
  try {
    const { status, body } = await deps.runtime.runPromise(answer);
    send(res, status, body);
  } catch {
    // Only when the runtime itself is gone (shutting down).
    send(res, 503, { error: "The server is shutting down." });
  }
};
