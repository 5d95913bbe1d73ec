/**
 * The old Django app's member sync endpoint, kept for the apps that still call it:
 * `POST /api/dbot/sync_guild_members` with headers `X-API-Key` (the bot key) and `X-Guild-Id`,
 * body `{"members": [{id, username, display_name, nickname, avatar, roles, joined_at, is_bot}]}`,
 * answer `{created, updated, marked_left}` (plus `rejoined` and `unchanged`).
 *
 * The whole guild arrives in one body, so it is one snapshot: members missing from it are
 * marked left. Statuses: 401 wrong key, 403 guild not linked, 400 bad JSON or a bad field
 * (named), 413 too large (use the chunked tRPC procedures), 409 a sync already running.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApiRuntime, botKeyMatches } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { isSnowflake } from "@guildhall/discord/snowflake";
import { MemberSync, Snowflake } from "@guildhall/sync";
import { eq } from "drizzle-orm";
import { Cause, Effect, Exit, Option, Schema } from "effect";

/** Largest body accepted (bytes) and most members per call: beyond, the chunked procedures. */
export const LEGACY_MAX_BYTES = 5 * 1024 * 1024;
export const LEGACY_MAX_MEMBERS = 10_000;

const Iso = Schema.String.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}T/, { message: "must be an ISO-8601 timestamp" }));

const LegacyMember = Schema.Struct({
  id: Snowflake,
  username: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
  display_name: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(64)))),
  nickname: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(64)))),
  avatar: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(64)))),
  roles: Schema.Array(Snowflake),
  joined_at: Schema.NullOr(Iso),
  is_bot: Schema.Boolean,
});
const LegacyBody = Schema.Struct({ members: Schema.Array(LegacyMember) });

const TOO_LARGE =
  `Payload too large: at most ${LEGACY_MAX_MEMBERS.toLocaleString("en")} members or ${LEGACY_MAX_BYTES / 1024 / 1024} MB per call. ` +
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

/** Handles one request to the legacy endpoint. Never throws; every outcome is a JSON answer. */
export const handleLegacyMemberSync = async (
  deps: { runtime: ApiRuntime; botKey: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> => {
  if (req.method !== "POST") return send(res, 405, { error: "Use POST." });
  const key = req.headers["x-api-key"];
  if (!botKeyMatches(typeof key === "string" ? key : null, deps.botKey)) {
    return send(res, 401, { error: "Invalid or missing X-API-Key." });
  }
  const guildId = req.headers["x-guild-id"];
  const linked = isSnowflake(guildId)
    ? await deps.runtime.runPromise(
        Database.use((d) =>
          d.use("legacy.guild", (db) => db.select({ id: schema.guilds.id }).from(schema.guilds).where(eq(schema.guilds.id, guildId))),
        ),
      )
    : [];
  if (linked.length === 0) return send(res, 403, { error: "X-Guild-Id does not name a guild linked to Guildhall." });

  const body = await readBody(req, LEGACY_MAX_BYTES);
  if (body === "too-large") return send(res, 413, { error: TOO_LARGE });
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (error) {
    return send(res, 400, { error: `Body is not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
  }
  const decoded = Schema.decodeUnknownExit(LegacyBody)(json, { errors: "all" });
  if (Exit.isFailure(decoded)) {
    const message = Option.match(Cause.findErrorOption(decoded.cause), {
      onNone: () => "invalid body",
      onSome: (error) => error.message,
    });
    return send(res, 400, { error: `Invalid body: ${message}` });
  }
  const members = decoded.value.members;
  if (members.length > LEGACY_MAX_MEMBERS) return send(res, 413, { error: TOO_LARGE });

  const outcome = await deps.runtime.runPromiseExit(
    Effect.gen(function* () {
      const sync = yield* MemberSync;
      const run = yield* sync.start({ guildId: guildId as string, trigger: "rest", source: "legacy", requestedBy: null });
      yield* sync.applyChunk({
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
      });
      return yield* sync.complete(run.id);
    }),
  );
  if (Exit.isSuccess(outcome)) {
    const run = outcome.value;
    return send(res, 200, {
      created: run.created,
      updated: run.updated,
      marked_left: run.markedLeft,
      rejoined: run.rejoined,
      unchanged: run.unchanged,
    });
  }
  const failure = Cause.findErrorOption(outcome.cause);
  if (Option.isSome(failure) && failure.value._tag === "SyncAlreadyRunning") {
    return send(res, 409, { error: "A member sync of this guild is already running; try again when it ends." });
  }
  console.error("[legacy] sync failed:", Cause.pretty(outcome.cause));
  return send(res, 500, { error: "Internal error." });
};
