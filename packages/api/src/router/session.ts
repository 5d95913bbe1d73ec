import { Directory } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Effect } from "effect";
import { protectedProcedure, run } from "../trpc";

export const sessionRouter = {
  /**
   * The signed-in user `{id, name, email}` and their staff membership `{staffId,
   * organizationId, organizationName, role}` (null when they are staff nowhere).
   * Errors: UNAUTHORIZED without a session.
   */
  me: protectedProcedure.query(({ ctx }) =>
    run(
      ctx,
      Directory.use((d) => d.membership(ctx.user.id)).pipe(
        Effect.catchTag("NotStaff", () => Effect.succeed(null)),
        Effect.map((staff) => ({ user: ctx.user, staff })),
      ),
    ),
  ),
} satisfies TRPCRouterRecord;
