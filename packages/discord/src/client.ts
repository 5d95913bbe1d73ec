import type { RESTGetAPIGuildMembersResult } from "discord-api-types/v10";
import { Cause, Effect, Exit, ManagedRuntime, Stream } from "effect";
import { DiscordRest, type DiscordRestConfig } from "./DiscordRest";
import type { DiscordError } from "./errors";

/** A page callback of {@link DiscordRestClient.forEachMemberPage} threw or rejected: its own error is rethrown as it was. */
class PageHandlerFailed {
  constructor(readonly cause: unknown) {}
}

/**
 * The port for code that is not Effect (the bot lives in discord.js callbacks): one
 * ManagedRuntime over {@link DiscordRest.layer}, so one @discordjs/rest queue per client.
 * Promises reject with the port's own tagged errors, `DiscordPermanentError` or
 * `DiscordTransientError` (tell them apart with `isPermanent(error)`), never a wrapper.
 *
 * ```ts
 * const discord = DiscordRestClient.make({ token, api });
 * const member = await discord.run((d) => d.member(guildId, userId));
 * await discord.forEachMemberPage(guildId, async (page) => push(page));
 * await discord.dispose();
 * ```
 */
export class DiscordRestClient {
  private constructor(private readonly runtime: ManagedRuntime.ManagedRuntime<DiscordRest, never>) {}

  /** A client over its own @discordjs/rest instance configured from `config`. */
  static make(config: DiscordRestConfig): DiscordRestClient {
    return new DiscordRestClient(ManagedRuntime.make(DiscordRest.layer(config)));
  }

  /**
   * Runs one port operation, e.g. `run((d) => d.addMemberRole(g, u, r, { reason }))`.
   * Resolves with its value; rejects with its DiscordError. `signal` aborts the call.
   */
  run<A>(use: (discord: typeof DiscordRest.Service) => Effect.Effect<A, DiscordError>, options?: { signal?: AbortSignal }): Promise<A> {
    return this.settle(DiscordRest.use(use), options?.signal);
  }

  /**
   * Pages through every member of `guildId` (List Guild Members, 1,000 a page, ascending by
   * user id) and awaits `onPage(page, index)` for each before asking for the next, so memory
   * stays at one page. Resolves with the number of pages (0 for no member). Rejects with a
   * DiscordError (no page after it is asked for), or with whatever `onPage` threw.
   * https://discord.com/developers/docs/resources/guild#list-guild-members
   */
  forEachMemberPage(
    guildId: string,
    onPage: (page: RESTGetAPIGuildMembersResult, index: number) => void | Promise<void>,
    options?: { signal?: AbortSignal },
  ): Promise<number> {
    let index = 0;
    const program = DiscordRest.use((discord) =>
      Stream.runForEach(discord.memberPages(guildId), (page) =>
        Effect.tryPromise({ try: async () => onPage(page, index++), catch: (cause) => new PageHandlerFailed(cause) }),
      ),
    ).pipe(Effect.map(() => index));
    return this.settle(program, options?.signal);
  }

  /** Stops the client's timers. Calls after it reject. */
  dispose(): Promise<void> {
    return this.runtime.dispose();
  }

  private async settle<A>(effect: Effect.Effect<A, DiscordError | PageHandlerFailed, DiscordRest>, signal?: AbortSignal): Promise<A> {
    const exit = await this.runtime.runPromiseExit(effect, signal ? { signal } : undefined);
    if (Exit.isSuccess(exit)) return exit.value;
    const failure = Cause.findErrorOption(exit.cause);
    if (failure._tag === "Some") throw failure.value instanceof PageHandlerFailed ? failure.value.cause : failure.value;
    throw Cause.squash(exit.cause);
  }
}
