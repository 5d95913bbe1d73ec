/**
 * API tokens of the selected organization (admins only, never a token): create (the token is
 * answered once), list (never the token), revoke (refused at once).
 */
import { ApiTokens, pgText, TokenScope } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Schema } from "effect";
import { adminProcedure, run } from "../trpc";

const CreateInput = Schema.Struct({
  /** What the token is for, 1 to 100 characters (NUL and lone surrogates cleaned). */
  name: pgText(100, 1),
  scope: TokenScope,
});

const RevokeInput = Schema.Struct({ id: Schema.String.check(Schema.isUUID()) });

export const tokensRouter = {
  /**
   * Admin. The organization's API tokens, newest first: `[{id, organizationId, name, scope
   * (read | read_write), prefix (the first 10 characters), createdBy (user id), createdAt,
   * lastUsedAt, revokedAt (ISO-8601 or null)}]`; never a token or its hash.
   * Errors: UNAUTHORIZED, FORBIDDEN (not an admin; any API token).
   */
  list: adminProcedure.query(({ ctx }) =>
    run(
      ctx,
      ApiTokens.use((tokens) => tokens.list(ctx.staff.organizationId)),
    ),
  ),

  /**
   * Admin. Creates a token of the organization named `name` with `scope` (`read`: staff queries
   * and subscriptions; `read_write`: also the write procedures): `{token, info}`, where `token`
   * (`gh_...`) is shown this once and stored only as its SHA-256. Errors: UNAUTHORIZED,
   * FORBIDDEN, BAD_REQUEST (names the field).
   */
  create: adminProcedure.input(Schema.toStandardSchemaV1(CreateInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      ApiTokens.use((tokens) =>
        tokens.create({ organizationId: ctx.staff.organizationId, name: input.name, scope: input.scope, createdBy: ctx.user.id }),
      ),
    ),
  ),

  /**
   * Admin. Revokes token `id` (a UUID) of the organization: every later call with it is
   * UNAUTHORIZED. Returns the token's listing (with `revokedAt`). Idempotent. Errors: NOT_FOUND
   * (no such token in the organization), UNAUTHORIZED, FORBIDDEN, BAD_REQUEST.
   */
  revoke: adminProcedure.input(Schema.toStandardSchemaV1(RevokeInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      ApiTokens.use((tokens) => tokens.revoke(ctx.staff.organizationId, input.id)),
    ),
  ),
} satisfies TRPCRouterRecord;
