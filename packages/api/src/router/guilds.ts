/**
 * The guilds of the selected organization, and the guilds the bot is in that no organization
 * installed Guildhall in ("not installed": an admin claims one through the install flow).
 */
import { Directory } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Effect } from "effect";
import { adminProcedure, run } from "../trpc";

export const guildsRouter = {
  /**
   * Admin. `{linked: [{id, name, icon}], notInstalled: [{id, name, icon, firstSeenAt,
   * lastSeenAt}]}`: the guilds linked to the selected organization (oldest link first), and the
   * guilds the bot reported in its heartbeat that no organization has linked (most recently
   * seen first, at most 100; ids are snowflakes, times ISO-8601). Another organization's guilds
   * are in neither list. Errors: UNAUTHORIZED, FORBIDDEN (not an admin of the organization).
   */
  list: adminProcedure.query(({ ctx }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const directory = yield* Directory;
        const linked = yield* directory.guildsOf(ctx.staff.organizationId);
        const notInstalled = yield* directory.unclaimedGuilds();
        return { linked: linked.map(({ id, name, icon }) => ({ id, name, icon })), notInstalled };
      }),
    ),
  ),
} satisfies TRPCRouterRecord;
