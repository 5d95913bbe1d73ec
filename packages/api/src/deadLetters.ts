/**
 * The handler of the `bot.dead-letters` queue (@guildhall/jobs): what happens to an update the
 * bot gave up after the server refused it.
 *
 * - First attempt: the refusal is recorded as it was. The job fails at once, permanently, with
 *   the server's error as the bot received it, and waits among the queue's dead letters on the
 *   Jobs page. It is not re-applied now: the bot already pushed it alone (up to three times for
 *   a 500), and re-applying it behind the updates that followed could overwrite a newer update
 *   of the same member.
 * - Any later attempt (an admin's retry on the Jobs page, after a fix): the item is re-applied
 *   through the same domain service the bot's push used, `Presences.applyBatch` for a
 *   `presence` and `MemberSync.upsertLive` / `removeLive` for a `memberEvent`, after the same
 *   schema check and cleaning as `bot.pushPresences` / `bot.memberEvents`. It lands and the job
 *   completes, or it fails again and is dead again with the new error. An item that cannot be
 *   re-applied at all (not whole JSON: the bot cuts items at 4,000 characters; refused by the
 *   schema; a kind the server does not know) fails permanently with the reason.
 */
import type { DeadLetter, JobInfo } from "@guildhall/jobs";
import { Presences, PresenceUpdate } from "@guildhall/sync";
import { Effect, Schema } from "effect";
import { validateInput } from "./request";
import { applyMemberEvents, MemberEvent } from "./router/bot";

/**
 * A dead letter's first attempt: the server's refusal as the bot received it (`code: error`).
 * Permanent (`permanent: true`), so the job goes to the dead letters at once.
 */
export class DeadLetterRecorded extends Schema.TaggedError<DeadLetterRecorded>()("DeadLetterRecorded", {
  message: Schema.String,
  permanent: Schema.Literal(true),
}) {}

/** A dead letter's item cannot be re-applied (`message` says why). Permanent: retrying it unchanged cannot help. */
export class DeadLetterUnusable extends Schema.TaggedError<DeadLetterUnusable>()("DeadLetterUnusable", {
  message: Schema.String,
  permanent: Schema.Literal(true),
}) {}

const unusable = (why: string) => new DeadLetterUnusable({ message: `the item cannot be re-applied: ${why}`, permanent: true });

/** The item's JSON, checked and cleaned by `schema` (named `item` in the reason when it fails). */
const decodeItem = <S extends Schema.Codec<unknown, unknown>>(schema: S, item: string) =>
  Effect.try({
    try: () => JSON.parse(item) as unknown,
    catch: () => unusable("it is not whole JSON (the bot cuts items at 4,000 characters)"),
  }).pipe(
    Effect.flatMap((json) => validateInput(schema, json, "item")),
    Effect.catchTag("InvalidInput", (error) => Effect.fail(unusable(error.message))),
  );

/**
 * Re-applies one dead letter's item through its domain service (see the module comment).
 * Fails with `DeadLetterUnusable`, or with the service's own errors (`DatabaseError`, ...).
 */
export const reapplyDeadLetter = Effect.fn("deadLetters.reapply")(function* (letter: DeadLetter) {
  switch (letter.kind) {
    case "presence": {
      const update = yield* decodeItem(PresenceUpdate, letter.item);
      const result = yield* Presences.use((presences) => presences.applyBatch([update]));
      yield* Effect.logInfo(`dead letter re-applied: ${letter.summary} (${result.applied === 1 ? "stored" : "guild not linked, dropped"})`);
      return;
    }
    case "memberEvent": {
      const event = yield* decodeItem(MemberEvent, letter.item);
      const [outcome] = yield* applyMemberEvents([event]);
      yield* Effect.logInfo(`dead letter re-applied: ${letter.summary} (${String(outcome)})`);
      return;
    }
    default:
      return yield* unusable(`the server does not know items of kind "${letter.kind}"`);
  }
});

/** The `bot.dead-letters` handler: records the refusal on the first attempt, re-applies on any later one. */
export const handleDeadLetter = (letter: DeadLetter, job: JobInfo) =>
  job.attempt === 0
    ? Effect.fail(
        new DeadLetterRecorded({
          message: `${letter.code ?? "undelivered"}: ${letter.error} (given up by the bot after ${letter.attempts} push(es) of it alone)`,
          permanent: true,
        }),
      )
    : reapplyDeadLetter(letter);
