/**
 * The Integrations page's API: installing the bot in a guild through Discord's OAuth2 ("Add to
 * Discord"), listing the organization's integrations, deleting one. The install's callback is
 * the HTTP route `GET /api/public/integrations/discord/callback` (apps/server), not a procedure.
 */
import { Integrations } from "@guildhall/sync";
import type { TRPCRouterRecord } from "@trpc/server";
import { Effect, Schema } from "effect";
import { SignInRequired } from "../errors";
import { adminProcedure, run, staffProcedure } from "../trpc";

const BeginInput = Schema.optional(
  Schema.Struct({
    /** Ask for `webhook.incoming` too (the organization posts notifications through a channel webhook). */
    notifications: Schema.optional(Schema.Boolean),
  }),
);

const IntegrationInput = Schema.Struct({ id: Schema.String.check(Schema.isUUID()) });

export const integrationsRouter = {
  /**
   * Admin. Starts an install: `{url, scopes, permissions, explanation, expiresAt}`: Discord's
   * authorize URL (scopes `bot applications.commands identify guilds.members.read`, plus
   * `webhook.incoming` with `notifications: true`; `integration_type=0`; the permissions
   * integer as a decimal string) with a fresh `state` bound to this session, valid 10 minutes
   * (`expiresAt`, ms since the epoch); `explanation` lists each permission `{name, bit, why}`.
   * Errors: UNAUTHORIZED, FORBIDDEN (not an admin), PRECONDITION_FAILED (no OAuth2 client configured).
   * https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow
   */
  beginInstall: adminProcedure.input(Schema.toStandardSchemaV1(BeginInput)).mutation(({ ctx, input }) => {
    // The state is bound to a browser session: a caller without one (an API token) cannot install.
    const sessionId = ctx.sessionId;
    if (sessionId === null) return run(ctx, Effect.fail(new SignInRequired()));
    return run(
      ctx,
      Integrations.use((i) =>
        i.beginInstall({
          organizationId: ctx.staff.organizationId,
          userId: ctx.user.id,
          sessionId,
          notifications: input?.notifications === true,
        }),
      ),
    );
  }),

  /**
   * Staff. The organization's integrations, oldest first: `{id, guildId, guildName, guildIcon,
   * status ("active" | "removed": the bot was kicked), statusReason, statusChangedAt, scopes,
   * permissions, botUserId, installedBy {userId, name, discordId}, installedAt, tokenExpiresAt}`
   * (times in ms since the epoch). Never a token. Errors: UNAUTHORIZED, FORBIDDEN (not staff).
   */
  list: staffProcedure.query(({ ctx }) =>
    run(
      ctx,
      Integrations.use((i) => i.list(ctx.staff.organizationId)),
    ),
  ),

  /**
   * Admin. Deletes integration `id` of the organization: revokes its OAuth2 token
   * (/oauth2/token/revoke), the bot leaves the guild unless another organization's integration
   * still uses it, the row is deleted. Answers `{botLeft}`. Errors: UNAUTHORIZED, FORBIDDEN,
   * NOT_FOUND (no such integration here), BAD_GATEWAY (Discord failed: nothing was deleted),
   * PRECONDITION_FAILED (no OAuth2 client configured).
   */
  remove: adminProcedure.input(Schema.toStandardSchemaV1(IntegrationInput)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Integrations.use((i) => i.remove(ctx.staff.organizationId, input.id)),
    ),
  ),
} satisfies TRPCRouterRecord;
