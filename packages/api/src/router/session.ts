import { Directory } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Effect } from "effect";
import { protectedProcedure, run } from "../trpc";

export const sessionRouter = {
  /**
   * The signed-in user `{id, name, email}`, their staff membership `{staffId, organizationId,
   * organizationName, role}` in the selected organization (header `x-guildhall-organization`;
   * absent: the oldest one), null when they are staff nowhere or not of the selected one, and
   * `organizations`: every membership they have, oldest organization first (the switcher's list).
   * Errors: UNAUTHORIZED without a session.
   */
  me: protectedProcedure.query(({ ctx }) =>
    run(
      ctx,
      Effect.gen(function* () {
        const directory = yield* Directory;
        const organizations = yield* directory.memberships(ctx.user.id);
        const selected = ctx.organizationId;
        const staff = organizations.find((m) => (selected === null ? true : m.organizationId === selected)) ?? null;
        return { user: ctx.user, staff, organizations };
      }),
    ),
  ),
} satisfies TRPCRouterRecord;
