/**
 * The bot installed per organization through Discord's OAuth2 (the "Add to Discord" flow), and
 * the integrations it leaves: their encrypted tokens, refresh, removal and deletion.
 * https://discord.com/developers/docs/topics/oauth2#advanced-bot-authorization
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Database, type DatabaseError, schema } from "@guildhall/db";
import { type DiscordError, DiscordRest, describeDiscordError, isPermanent, type OAuthClient } from "@guildhall/discord";
import { and, asc, eq, lte, ne, sql } from "drizzle-orm";
import { Clock, Context, Effect, Layer, Option } from "effect";
import { Directory } from "./Directory";
import { DomainEvents } from "./DomainEvents";
import {
  DiscordCallFailed,
  GuildLinkedElsewhere,
  InstallerNotGuildAdmin,
  InstallStateInvalid,
  IntegrationNotFound,
  IntegrationsNotConfigured,
} from "./errors";
import { SecretBox } from "./SecretBox";

/** How long an install's `state` is good for (ms): 10 minutes. */
export const INSTALL_STATE_TTL_MS = 10 * 60_000;

/** Refresh an access token when it expires within this many ms (tokens last 7 days: `expires_in` 604800 s). */
export const REFRESH_BEFORE_MS = 24 * 60 * 60_000;

/** The path of the install callback (kept from the old integration guide, so existing Discord applications keep working). */
export const INSTALL_CALLBACK_PATH = "/api/public/integrations/discord/callback";

/** The Discord permissions the bot asks for, each with the feature that needs it. https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags */
export const INSTALL_PERMISSIONS = [
  { name: "View Channels", bit: 10n, why: "see the guild's channels to post signups and notifications" },
  { name: "Send Messages", bit: 11n, why: "post event signup messages and sync results" },
  { name: "Embed Links", bit: 14n, why: "post event details as embeds" },
  { name: "Read Message History", bit: 16n, why: "find and update its own signup messages" },
  { name: "Create Instant Invite", bit: 0n, why: "invite attendees to per-event channels" },
  { name: "Manage Channels", bit: 4n, why: "create and remove per-event channels" },
  { name: "Manage Roles", bit: 28n, why: "role reconciliation: grant and remove mapped roles" },
  { name: "Manage Nicknames", bit: 27n, why: "role reconciliation: apply the nickname policy" },
  { name: "Create Events", bit: 44n, why: "event mirroring: create guild scheduled events" },
  { name: "Manage Events", bit: 33n, why: "event mirroring: update and cancel guild scheduled events" },
] as const;

/** Discord's ADMINISTRATOR and MANAGE_GUILD bits. */
const ADMINISTRATOR = 1n << 3n;
const MANAGE_GUILD = 1n << 5n;

/** The scopes of an install: the bot, its commands, and the installer's identity and membership (to check Manage Guild). */
export const INSTALL_SCOPES = ["bot", "applications.commands", "identify", "guilds.members.read"] as const;

/**
 * What the server needs to run installs: the application's client credentials and where Discord
 * sends the admin back. Tokens are sealed by the process's {@link SecretBox} (its one key ring).
 */
export interface IntegrationsConfig {
  readonly client: OAuthClient;
  /** The absolute URL of {@link INSTALL_CALLBACK_PATH} on the server's public URL: registered on the Discord application. */
  readonly redirectUri: string;
  /** Discord's authorize page: `https://discord.com/oauth2/authorize` (the emulator's `/oauth2/authorize` in the demo and tests). */
  readonly authorizeUrl: string;
}

/**
 * The `IntegrationsConfig` of the process, read at each call (the server learns its public URL,
 * hence the callback URL, only once its port is open), or null when the server has no OAuth2
 * client: installs then fail with IntegrationsNotConfigured.
 */
export const IntegrationsSettings = Context.Reference<() => IntegrationsConfig | null>("@guildhall/sync/IntegrationsSettings", {
  defaultValue: () => () => null,
});

/** An authorize URL for an admin, with the permissions it asks for and why. */
export interface InstallStart {
  /** Discord's authorize page with client_id, scope, permissions, integration_type=0, response_type=code, redirect_uri, state. */
  readonly url: string;
  readonly scopes: ReadonlyArray<string>;
  /** The permissions integer, as a decimal string (it exceeds 2^32). */
  readonly permissions: string;
  readonly explanation: ReadonlyArray<{ readonly name: string; readonly bit: number; readonly why: string }>;
  /** When the state stops working, ms since the epoch. */
  readonly expiresAt: number;
}

/** An integration as admins and staff see it (no token). Times in ms since the epoch. */
export interface IntegrationView {
  readonly id: string;
  readonly guildId: string;
  readonly guildName: string;
  readonly guildIcon: string | null;
  readonly status: "active" | "removed";
  readonly statusReason: string | null;
  readonly statusChangedAt: number | null;
  readonly scopes: ReadonlyArray<string>;
  readonly permissions: string;
  readonly botUserId: string;
  readonly installedBy: { readonly userId: string | null; readonly name: string | null; readonly discordId: string };
  readonly installedAt: number;
  readonly tokenExpiresAt: number;
}

/** Who calls back: the signed-in session the browser presents (null ids when it presents none). */
export interface CallbackCaller {
  readonly sessionId: string | null;
  readonly userId: string | null;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The permissions integer an install asks for (every feature's permissions). */
export const installPermissions = (): bigint => INSTALL_PERMISSIONS.reduce((acc, p) => acc | (1n << p.bit), 0n);

/**
 * A member's guild permissions from the guild object (`roles`, `owner_id`) and the member's role
 * ids: the owner and ADMINISTRATOR have all; else @everyone's (the role whose id is the guild's)
 * ORed with each role's. https://discord.com/developers/docs/topics/permissions#permission-overwrites
 */
export const memberPermissions = (
  guild: {
    readonly id: string;
    readonly owner_id?: string;
    readonly roles?: ReadonlyArray<{ readonly id: string; readonly permissions: string }>;
  },
  userId: string,
  roleIds: ReadonlyArray<string>,
): bigint => {
  const ALL = (1n << 53n) - 1n;
  if (guild.owner_id === userId) return ALL;
  const byId = new Map((guild.roles ?? []).map((r) => [r.id, r.permissions]));
  let permissions = 0n;
  for (const id of [guild.id, ...roleIds]) {
    const value = byId.get(id);
    if (value !== undefined && /^\d+$/.test(value)) permissions |= BigInt(value);
  }
  return (permissions & ADMINISTRATOR) !== 0n ? ALL : permissions;
};

/** Any failure of a Discord call, as the answer the caller gets (the port's error names no token). */
const discordFailed = (error: DiscordError) =>
  new DiscordCallFailed({ message: describeDiscordError(error), permanent: isPermanent(error) });

/**
 * Installs and integrations of organizations. Every method needs the process's
 * {@link IntegrationsSettings}; without them installs fail with IntegrationsNotConfigured.
 */
export class Integrations extends Context.Service<
  Integrations,
  {
    /**
     * An authorize URL for `organizationId`'s admin `userId` on session `sessionId`: scopes
     * {@link INSTALL_SCOPES} (+ `webhook.incoming` with `notifications`), `integration_type=0`,
     * the permissions of {@link INSTALL_PERMISSIONS}, and a fresh random `state` (32 bytes),
     * stored hashed, single use, bound to the session, user and organization, valid
     * {@link INSTALL_STATE_TTL_MS}. Fails with IntegrationsNotConfigured.
     */
    readonly beginInstall: (input: {
      readonly organizationId: string;
      readonly userId: string;
      readonly sessionId: string;
      readonly notifications: boolean;
    }) => Effect.Effect<InstallStart, IntegrationsNotConfigured | DatabaseError>;
    /**
     * The callback of the install, in order: checks `state` (InstallStateInvalid: unknown,
     * expired, used, or another session's; the state is consumed only by its own session),
     * exchanges `code` at /oauth2/token (DiscordCallFailed), takes the guild from the token
     * response's `guild`, checks through the grant's user token that the installer is a member of
     * it with Manage Guild (InstallerNotGuildAdmin), refuses a guild linked to another
     * organization (GuildLinkedElsewhere), then stores the integration with its tokens encrypted
     * and links the guild to the organization. A refused grant is revoked. Nothing is stored on
     * any failure. Resolves to the integration.
     */
    readonly completeInstall: (input: {
      readonly state: string;
      readonly code: string;
      readonly caller: CallbackCaller;
    }) => Effect.Effect<
      IntegrationView,
      InstallStateInvalid | InstallerNotGuildAdmin | GuildLinkedElsewhere | DiscordCallFailed | IntegrationsNotConfigured | DatabaseError
    >;
    /** Consumes `state` after Discord's page was cancelled (`error=access_denied`), so it cannot be used again. Never fails on a bad state. */
    readonly cancelInstall: (state: string) => Effect.Effect<void, DatabaseError>;
    /** The organization's integrations, oldest first. */
    readonly list: (organizationId: string) => Effect.Effect<ReadonlyArray<IntegrationView>, DatabaseError>;
    /**
     * Deletes an integration of `organizationId`: revokes its token (/oauth2/token/revoke; a
     * token Discord no longer knows is fine), makes the bot leave the guild when no other
     * organization's integration uses it (a bot already gone is fine), deletes the row. Fails with
     * IntegrationNotFound, DiscordCallFailed (transient failures: nothing deleted, try again).
     * Resolves to whether the bot left.
     */
    readonly remove: (
      organizationId: string,
      integrationId: string,
    ) => Effect.Effect<{ readonly botLeft: boolean }, IntegrationNotFound | DiscordCallFailed | IntegrationsNotConfigured | DatabaseError>;
    /**
     * Refreshes the access tokens of active integrations expiring within {@link REFRESH_BEFORE_MS}
     * (the refresh_token grant; the new pair is encrypted under the current key). A refresh Discord
     * refuses for good marks that integration `removed` with the reason. Resolves to counts.
     */
    readonly refreshDue: () => Effect.Effect<
      { readonly refreshed: number; readonly failed: number },
      IntegrationsNotConfigured | DatabaseError
    >;
    /**
     * The bot was removed from `guildId` (GUILD_DELETE without `unavailable`): every active
     * integration of that guild is marked `removed`, which its admins see on the Integrations
     * page, and notified through an `integration.removed` domain event of its organization (the
     * event stream and the webhooks that want the kind), committed with the status. Nothing is
     * deleted. Resolves to how many were marked.
     * https://discord.com/developers/docs/events/gateway-events#guild-delete
     */
    readonly markRemoved: (guildId: string, reason: string) => Effect.Effect<number, DatabaseError>;
    /** The decrypted access token of an integration (for calls made with it), or null when its key is gone. */
    readonly accessToken: (
      integrationId: string,
    ) => Effect.Effect<string | null, IntegrationNotFound | IntegrationsNotConfigured | DatabaseError>;
  }
>()("@guildhall/sync/Integrations") {
  static readonly layer = Layer.effect(
    Integrations,
    Effect.gen(function* () {
      const { use, transaction } = yield* Database;
      const discord = yield* DiscordRest;
      const directory = yield* Directory;
      const events = yield* DomainEvents;
      const box = yield* SecretBox;
      // A token whose key left the ring (or that was altered) reads as null: callers report it, never its value.
      const openSealed = (keyId: string, sealed: string) => box.open(keyId, sealed).pipe(Effect.orElseSucceed(() => null));
      const { integrations, integrationStates, users, guilds } = schema;

      // Read once, when the layer is built: the methods run in their callers' context.
      const configured = yield* IntegrationsSettings;
      const settings = Effect.suspend(() => {
        const config = configured();
        return config === null ? Effect.fail(new IntegrationsNotConfigured({})) : Effect.succeed(config);
      });

      const beginInstall = Effect.fn("Integrations.beginInstall")(function* (input: {
        readonly organizationId: string;
        readonly userId: string;
        readonly sessionId: string;
        readonly notifications: boolean;
      }) {
        const config = yield* settings;
        const now = yield* Clock.currentTimeMillis;
        const state = randomBytes(32).toString("base64url");
        const scopes: string[] = [...INSTALL_SCOPES, ...(input.notifications ? ["webhook.incoming"] : [])];
        const permissions = installPermissions().toString();
        const expiresAt = now + INSTALL_STATE_TTL_MS;
        yield* use("integrations.beginInstall", (db) =>
          db.insert(integrationStates).values({
            id: randomUUID(),
            stateHash: sha256(state),
            organizationId: input.organizationId,
            userId: input.userId,
            sessionId: input.sessionId,
            scopes: scopes.join(" "),
            permissions,
            createdAt: new Date(now),
            expiresAt: new Date(expiresAt),
          }),
        );
        const url = new URL(config.authorizeUrl);
        url.search = new URLSearchParams({
          client_id: config.client.clientId,
          scope: scopes.join(" "),
          permissions,
          integration_type: "0",
          response_type: "code",
          redirect_uri: config.redirectUri,
          state,
        }).toString();
        return {
          url: url.toString(),
          scopes,
          permissions,
          explanation: INSTALL_PERMISSIONS.map((p) => ({ name: p.name, bit: Number(p.bit), why: p.why })),
          expiresAt,
        } satisfies InstallStart;
      });

      const view = (row: typeof integrations.$inferSelect, installerName: string | null): IntegrationView => ({
        id: row.id,
        guildId: row.guildId,
        guildName: row.guildName,
        guildIcon: row.guildIcon,
        status: row.status,
        statusReason: row.statusReason,
        statusChangedAt: row.statusChangedAt?.getTime() ?? null,
        scopes: row.scopes.split(" ").filter((s) => s !== ""),
        permissions: row.permissions,
        botUserId: row.botUserId,
        installedBy: { userId: row.installedByUserId, name: installerName, discordId: row.installerDiscordId },
        installedAt: row.installedAt.getTime(),
        tokenExpiresAt: row.tokenExpiresAt.getTime(),
      });

      /** Best effort: the grant of a refused install is revoked so its tokens are dead. */
      const revokeQuietly = (client: OAuthClient, token: string) =>
        discord
          .revokeOAuthToken(client, token, "access_token")
          .pipe(
            Effect.catch((error) => Effect.logWarning(`integrations: revoking a refused grant failed: ${describeDiscordError(error)}`)),
          );

      const completeInstall = Effect.fn("Integrations.completeInstall")(function* (input: {
        readonly state: string;
        readonly code: string;
        readonly caller: CallbackCaller;
      }) {
        const now = yield* Clock.currentTimeMillis;
        // 1. The state: known, fresh, unused, and this session's (no state exists without a configured client).
        const found = yield* use("integrations.findState", (db) =>
          db
            .select()
            .from(integrationStates)
            .where(eq(integrationStates.stateHash, sha256(input.state)))
            .limit(1),
        );
        const state = found[0];
        if (!state) return yield* new InstallStateInvalid({ reason: "unknown" });
        if (state.usedAt !== null) return yield* new InstallStateInvalid({ reason: "used" });
        if (state.expiresAt.getTime() <= now) return yield* new InstallStateInvalid({ reason: "expired" });
        if (input.caller.sessionId !== state.sessionId || input.caller.userId !== state.userId) {
          return yield* new InstallStateInvalid({ reason: "other-session" });
        }
        const consumed = yield* use("integrations.consumeState", (db) =>
          db
            .update(integrationStates)
            .set({ usedAt: new Date(now) })
            .where(and(eq(integrationStates.id, state.id), sql`${integrationStates.usedAt} is null`))
            .returning({ id: integrationStates.id }),
        );
        if (consumed.length === 0) return yield* new InstallStateInvalid({ reason: "used" });
        const config = yield* settings;

        // 2. The code, exchanged for tokens and the guild.
        const token = yield* discord
          .oauthToken(config.client, { grant_type: "authorization_code", code: input.code, redirect_uri: config.redirectUri })
          .pipe(Effect.mapError(discordFailed));
        // 3. The guild: the token response's, never the redirect's guild_id.
        const guild = token.guild;
        if (!guild) {
          yield* revokeQuietly(config.client, token.access_token);
          return yield* new DiscordCallFailed({
            message: "Discord's token response carried no guild: the bot scope was not granted.",
            permanent: true,
          });
        }
        // 4. The installer: a member of that guild with Manage Guild.
        const installer = yield* Effect.all([
          discord.currentUser(token.access_token),
          discord.currentUserGuildMember(token.access_token, guild.id).pipe(
            Effect.map(Option.some),
            Effect.catchIf(
              (error) => isPermanent(error) && (error.code === 10004 || error.code === 10007 || error.status === 404),
              () => Effect.succeed(Option.none()),
            ),
          ),
        ]).pipe(
          Effect.mapError(discordFailed),
          Effect.tapError(() => revokeQuietly(config.client, token.access_token)),
        );
        const [user, member] = installer;
        const permissions = Option.match(member, {
          onNone: () => 0n,
          onSome: (m) => memberPermissions(guild, user.id, m.roles),
        });
        if ((permissions & MANAGE_GUILD) === 0n) {
          yield* revokeQuietly(config.client, token.access_token);
          return yield* new InstallerNotGuildAdmin({ guildId: guild.id });
        }
        // 5. Not another organization's guild; then store, all or nothing.
        const access = yield* box.seal(token.access_token);
        const refresh = yield* box.seal(token.refresh_token);
        const stored = yield* transaction(
          "integrations.store",
          Effect.gen(function* () {
            const elsewhere = yield* use("integrations.otherOwner", (db) =>
              db
                .select({ id: guilds.id })
                .from(guilds)
                .where(and(eq(guilds.id, guild.id), ne(guilds.organizationId, state.organizationId)))
                .limit(1),
            );
            const otherIntegration = yield* use("integrations.otherIntegration", (db) =>
              db
                .select({ id: integrations.id })
                .from(integrations)
                .where(and(eq(integrations.guildId, guild.id), ne(integrations.organizationId, state.organizationId)))
                .limit(1),
            );
            if (elsewhere.length > 0 || otherIntegration.length > 0) return yield* new GuildLinkedElsewhere({ guildId: guild.id });
            const values = {
              guildName: guild.name,
              guildIcon: guild.icon ?? null,
              botUserId: config.client.clientId,
              installedByUserId: state.userId,
              installerDiscordId: user.id,
              installedAt: new Date(now),
              scopes: token.scope,
              permissions: state.permissions,
              status: "active" as const,
              statusReason: null,
              statusChangedAt: new Date(now),
              keyId: access.keyId,
              accessToken: access.sealed,
              refreshToken: refresh.sealed,
              tokenExpiresAt: new Date(now + token.expires_in * 1000),
              refreshedAt: null,
              updatedAt: new Date(now),
            };
            const rows = yield* use("integrations.insert", (db) =>
              db
                .insert(integrations)
                .values({ id: randomUUID(), organizationId: state.organizationId, guildId: guild.id, ...values })
                .onConflictDoUpdate({ target: [integrations.organizationId, integrations.guildId], set: values })
                .returning(),
            );
            yield* directory.linkInstalledGuild(state.organizationId, { id: guild.id, name: guild.name, icon: guild.icon ?? null });
            return rows[0]!;
          }),
        ).pipe(
          Effect.tapError((error) =>
            error._tag === "GuildLinkedElsewhere" ? revokeQuietly(config.client, token.access_token) : Effect.void,
          ),
        );
        const name = yield* use("integrations.installerName", (db) =>
          db.select({ name: users.name }).from(users).where(eq(users.id, state.userId)).limit(1),
        );
        yield* Effect.logInfo(`integrations: bot installed in guild ${guild.id} for organization ${state.organizationId}`);
        return view(stored, name[0]?.name ?? null);
      });

      const cancelInstall = Effect.fn("Integrations.cancelInstall")(function* (state: string) {
        const now = yield* Clock.currentTimeMillis;
        yield* use("integrations.cancelState", (db) =>
          db
            .update(integrationStates)
            .set({ usedAt: new Date(now) })
            .where(and(eq(integrationStates.stateHash, sha256(state)), sql`${integrationStates.usedAt} is null`)),
        );
      });

      const list = Effect.fn("Integrations.list")(function* (organizationId: string) {
        const rows = yield* use("integrations.list", (db) =>
          db
            .select({ row: integrations, name: users.name })
            .from(integrations)
            .leftJoin(users, eq(users.id, integrations.installedByUserId))
            .where(eq(integrations.organizationId, organizationId))
            .orderBy(asc(integrations.installedAt), asc(integrations.id)),
        );
        return rows.map((r) => view(r.row, r.name));
      });

      const remove = Effect.fn("Integrations.remove")(function* (organizationId: string, integrationId: string) {
        const config = yield* settings;
        const rows = yield* use("integrations.get", (db) =>
          db
            .select()
            .from(integrations)
            .where(and(eq(integrations.id, integrationId), eq(integrations.organizationId, organizationId)))
            .limit(1),
        );
        const row = rows[0];
        if (!row) return yield* new IntegrationNotFound({ integrationId });
        const refreshToken = yield* openSealed(row.keyId, row.refreshToken);
        if (refreshToken !== null) {
          // Revoking either token ends the whole authorization; a token Discord no longer knows is no error.
          yield* discord
            .revokeOAuthToken(config.client, refreshToken, "refresh_token")
            .pipe(Effect.catchIf(isPermanent, (error) => Effect.logWarning(`integrations: revoke refused: ${describeDiscordError(error)}`)))
            .pipe(Effect.mapError(discordFailed));
        }
        const others = yield* use("integrations.othersOfGuild", (db) =>
          db
            .select({ id: integrations.id })
            .from(integrations)
            .where(
              and(
                eq(integrations.guildId, row.guildId),
                ne(integrations.organizationId, organizationId),
                eq(integrations.status, "active"),
              ),
            )
            .limit(1),
        );
        let botLeft = false;
        if (others.length === 0 && row.status === "active") {
          botLeft = yield* discord.leaveGuild(row.guildId).pipe(
            Effect.as(true),
            // Already gone (kicked, or left): nothing to do.
            Effect.catchIf(isPermanent, () => Effect.succeed(false)),
            Effect.mapError(discordFailed),
          );
        }
        yield* use("integrations.delete", (db) => db.delete(integrations).where(eq(integrations.id, row.id)));
        yield* Effect.logInfo(`integrations: integration of guild ${row.guildId} deleted for organization ${organizationId}`);
        return { botLeft };
      });

      const refreshDue = Effect.fn("Integrations.refreshDue")(function* () {
        const config = yield* settings;
        const now = yield* Clock.currentTimeMillis;
        const due = yield* use("integrations.due", (db) =>
          db
            .select()
            .from(integrations)
            .where(and(eq(integrations.status, "active"), lte(integrations.tokenExpiresAt, new Date(now + REFRESH_BEFORE_MS)))),
        );
        let refreshed = 0;
        let failed = 0;
        for (const row of due) {
          const refreshToken = yield* openSealed(row.keyId, row.refreshToken);
          if (refreshToken === null) {
            failed++;
            yield* Effect.logWarning(`integrations: the token of guild ${row.guildId} is under key ${row.keyId}, which is not configured`);
            continue;
          }
          const result = yield* discord
            .oauthToken(config.client, { grant_type: "refresh_token", refresh_token: refreshToken })
            .pipe(Effect.result);
          if (result._tag === "Failure") {
            failed++;
            const error = result.failure;
            yield* Effect.logWarning(`integrations: refreshing the token of guild ${row.guildId} failed: ${describeDiscordError(error)}`);
            if (isPermanent(error)) {
              const reason = "Discord refused the token refresh: the authorization was revoked.";
              // Removed from outside too: the admins are told as when the bot is kicked.
              yield* transaction(
                "integrations.refreshRefused",
                Effect.gen(function* () {
                  yield* use("integrations.refreshRefused", (db) =>
                    db
                      .update(integrations)
                      .set({ status: "removed", statusReason: reason, statusChangedAt: new Date(now), updatedAt: new Date(now) })
                      .where(eq(integrations.id, row.id)),
                  );
                  yield* events.append([
                    {
                      kind: "integration.removed",
                      organizationId: row.organizationId,
                      guildId: row.guildId,
                      payload: { integrationId: row.id, guildName: row.guildName.slice(0, 200), reason },
                    },
                  ]);
                }),
              );
            }
            continue;
          }
          const token = result.success;
          const access = yield* box.seal(token.access_token);
          const refresh = yield* box.seal(token.refresh_token);
          yield* use("integrations.refreshed", (db) =>
            db
              .update(integrations)
              .set({
                keyId: access.keyId,
                accessToken: access.sealed,
                refreshToken: refresh.sealed,
                tokenExpiresAt: new Date(now + token.expires_in * 1000),
                refreshedAt: new Date(now),
                updatedAt: new Date(now),
              })
              .where(eq(integrations.id, row.id)),
          );
          refreshed++;
        }
        return { refreshed, failed };
      });

      const markRemoved = Effect.fn("Integrations.markRemoved")(function* (guildId: string, reason: string) {
        const now = yield* Clock.currentTimeMillis;
        // The status and the admins' notice (an `integration.removed` event: the event stream, the
        // webhooks that want it, the Integrations page) commit together.
        const rows = yield* transaction(
          "integrations.markRemoved",
          Effect.gen(function* () {
            const marked = yield* use("integrations.markRemoved", (db) =>
              db
                .update(integrations)
                .set({ status: "removed", statusReason: reason, statusChangedAt: new Date(now), updatedAt: new Date(now) })
                .where(and(eq(integrations.guildId, guildId), eq(integrations.status, "active")))
                .returning({ id: integrations.id, organizationId: integrations.organizationId, guildName: integrations.guildName }),
            );
            yield* events.append(
              marked.map((row) => ({
                kind: "integration.removed" as const,
                organizationId: row.organizationId,
                guildId,
                payload: { integrationId: row.id, guildName: row.guildName.slice(0, 200), reason: reason.slice(0, 500) },
              })),
            );
            return marked;
          }),
        );
        for (const row of rows) {
          yield* Effect.logWarning(`integrations: the bot was removed from guild ${guildId} (organization ${row.organizationId})`);
        }
        return rows.length;
      });

      const accessToken = Effect.fn("Integrations.accessToken")(function* (integrationId: string) {
        yield* settings;
        const rows = yield* use("integrations.token", (db) =>
          db
            .select({ keyId: integrations.keyId, accessToken: integrations.accessToken })
            .from(integrations)
            .where(eq(integrations.id, integrationId)),
        );
        const row = rows[0];
        if (!row) return yield* new IntegrationNotFound({ integrationId });
        return yield* openSealed(row.keyId, row.accessToken);
      });

      return Integrations.of({ beginInstall, completeInstall, cancelInstall, list, remove, refreshDue, markRemoved, accessToken });
    }),
  );
}
