import { randomBytes } from "node:crypto";
import { type ApiRuntime, type Auth, ensurePasswordUser, logTo } from "@guildhall/api";
import { Directory, DOMAIN_EVENT_KINDS, Groups, GuildInvites, Reconciler, RoleMenus, Webhooks } from "@guildhall/sync";
import { Effect } from "effect";

/** The first admin's sign-in. `created` is false when the account already existed (password unchanged). */
export interface AdminCredentials {
  readonly email: string;
  readonly password: string;
  readonly created: boolean;
}

/** The organization a fresh install creates. */
export const DEFAULT_ORGANIZATION = { id: "default", name: "Guildhall", slug: "guildhall" } as const;

/**
 * First start: creates the default organization and its admin (`email` / `password`) if
 * they do not exist, and makes the admin staff with the `admin` role. Idempotent.
 * Rejects on database errors.
 */
export const ensureFirstAdmin = async (
  services: { runtime: ApiRuntime; auth: Auth },
  admin: { email: string; password: string; name: string },
): Promise<AdminCredentials> => {
  await services.runtime.runPromise(Directory.use((d) => d.ensureOrganization(DEFAULT_ORGANIZATION)));
  const user = await ensurePasswordUser(services.auth, admin);
  await services.runtime.runPromise(Directory.use((d) => d.ensureStaff(DEFAULT_ORGANIZATION.id, user.id, "admin", "Administrator")));
  return { email: admin.email, password: admin.password, created: user.created };
};

/** A password for a first admin nobody configured: 16 characters of base64url (96 random bits). */
export const generatePassword = (): string => randomBytes(12).toString("base64url");

/**
 * The first admin as the operator configured it (see `ServerEnv.admin`): created with
 * `admin.password`, or with a password generated here when none was set. Logs the creation
 * through the runtime's logger; the password is in that log only when it was generated here,
 * and only on the start that created the account (it is never stored in the clear, so it
 * cannot be shown again). A password from the environment is never logged.
 * Resolves to `{email, created, generated}`; rejects on database errors.
 */
export const ensureConfiguredAdmin = async (
  services: { runtime: ApiRuntime; auth: Auth },
  admin: { readonly email: string; readonly password: string | undefined },
  generate: () => string = generatePassword,
): Promise<{ email: string; created: boolean; generated: boolean }> => {
  const password = admin.password ?? generate();
  const generated = admin.password === undefined;
  const result = await ensureFirstAdmin(services, { email: admin.email, password, name: "Admin" });
  if (result.created && generated) {
    await logTo(services.runtime, "Warn", `created admin ${result.email} with generated password ${password} (shown once; change it)`);
  } else if (result.created) {
    await logTo(services.runtime, "Info", `created admin ${result.email} with the password from GUILDHALL_ADMIN_PASSWORD`);
  }
  return { email: result.email, created: result.created, generated: generated && result.created };
};

/** An organization to create: its id, name and slug (unique). */
export interface OrganizationSeed {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
}

/** A guild to link to an organization (the default one unless `organization` says), with the members who are staff. */
export interface DemoGuild {
  /** The organization the guild is linked to, created if new. Default: {@link DEFAULT_ORGANIZATION}. */
  readonly organization?: OrganizationSeed;
  readonly guildId: string;
  readonly name: string;
  /** Staff with Discord ids (linked) and, with `discordId: null`, staff who never linked. */
  readonly staff: ReadonlyArray<{ readonly discordId: string | null; readonly name: string; readonly handle: string }>;
}

/**
 * Links `guild` to its organization (the default one unless `guild.organization` names
 * another, created if new) and creates an app user + staff row for each of its staff (emails
 * `<handle>@demo.guildhall.invalid`, no password: they do not sign in). This seeding (and the
 * install flow) is the only way a guild gets linked: the bot's heartbeat never links one.
 * Idempotent. Rejects on database errors, and with `DiscordIdTaken` when a new staff member's
 * Discord id already belongs to another user.
 */
export const seedDemoGuild = async (services: { runtime: ApiRuntime }, guild: DemoGuild): Promise<void> => {
  const organization = guild.organization ?? DEFAULT_ORGANIZATION;
  await services.runtime.runPromise(
    Effect.gen(function* () {
      const directory = yield* Directory;
      yield* directory.ensureOrganization(organization);
      yield* directory.ensureGuild(organization.id, { id: guild.guildId, name: guild.name, icon: null });
      for (const member of guild.staff) {
        const email = `${member.handle.toLowerCase().replace(/[^a-z0-9._-]/g, "")}@demo.guildhall.invalid`;
        const id = yield* directory.ensureUser({ name: member.name, email, discordId: member.discordId });
        yield* directory.ensureStaff(organization.id, id, "staff", "Moderator");
      }
    }),
  );
};

/**
 * Makes the password user `admin` (created unless one with its email exists; an existing
 * password is left unchanged) an admin of `organization`, creating the organization if new:
 * how the demo admin comes to belong to a second organization. Idempotent. Rejects on database errors.
 */
export const ensureOrganizationAdmin = async (
  services: { runtime: ApiRuntime; auth: Auth },
  organization: OrganizationSeed,
  admin: { email: string; password: string; name: string },
): Promise<void> => {
  await services.runtime.runPromise(Directory.use((d) => d.ensureOrganization(organization)));
  const user = await ensurePasswordUser(services.auth, admin);
  await services.runtime.runPromise(Directory.use((d) => d.ensureStaff(organization.id, user.id, "admin", "Administrator")));
};

/** A demo group: its name, the role it maps to (a snowflake) and its members' Discord ids (users already linked). */
export interface DemoRoleGroup {
  readonly name: string;
  readonly roleId: string;
  readonly discordIds: ReadonlyArray<string>;
}

/**
 * Seeds the demo's role reconciliation: each group with its linked users and a mapping to its
 * role in `guildId` (app authority, preview-only), so a newcomer sees a real plan on the Roles
 * page at once. Idempotent: a group that exists is left as it is. Rejects on database errors.
 */
export const seedDemoRoles = async (
  services: { runtime: ApiRuntime },
  guildId: string,
  groups: ReadonlyArray<DemoRoleGroup>,
): Promise<void> => {
  await services.runtime.runPromise(
    Effect.gen(function* () {
      const directory = yield* Directory;
      const groupService = yield* Groups;
      const reconciler = yield* Reconciler;
      const existing = new Set((yield* groupService.list(DEFAULT_ORGANIZATION.id)).map((g) => g.name));
      const userIds = new Map((yield* directory.staffOf(DEFAULT_ORGANIZATION.id)).map((s) => [s.discordId, s.userId]));
      for (const group of groups) {
        if (existing.has(group.name)) continue;
        const created = yield* groupService.create(DEFAULT_ORGANIZATION.id, { name: group.name });
        const members = group.discordIds.flatMap((id) => {
          const userId = userIds.get(id);
          return userId ? [userId] : [];
        });
        yield* groupService.setMembers(DEFAULT_ORGANIZATION.id, created.id, members);
        yield* reconciler.createMapping(DEFAULT_ORGANIZATION.id, {
          guildId,
          groupId: created.id,
          roleId: group.roleId,
          authority: "app",
          onManualRemoval: "restore",
        });
      }
    }),
  );
};

/** A demo group members join by picking its role in the demo's role menu: `authority` `discord` or `both`. */
export interface DemoMenuGroup {
  readonly name: string;
  readonly roleId: string;
  readonly authority: "discord" | "both";
}

/**
 * Seeds the demo's self-service roles in `guildId`: each group (created unless one with its
 * name exists) mapped to its role with its authority (preview-only, like every new mapping), a
 * role menu offering those roles posted in `channelId`, and a never-expiring invite link created
 * there. The emulator starts afresh at each `npm start`, so the menus and the link kept from the
 * last run point at nothing: they are replaced. Rejects on database errors and on the Discord
 * port's refusals (RoleMenuDiscordFailed, ChannelPermissionMissing...).
 */
export const seedDemoRoleMenu = async (
  services: { runtime: ApiRuntime },
  guildId: string,
  channelId: string,
  groups: ReadonlyArray<DemoMenuGroup>,
): Promise<void> => {
  await services.runtime.runPromise(
    Effect.gen(function* () {
      const groupService = yield* Groups;
      const reconciler = yield* Reconciler;
      const menus = yield* RoleMenus;
      const invites = yield* GuildInvites;
      const organizationId = DEFAULT_ORGANIZATION.id;
      const existing = new Map((yield* groupService.list(organizationId)).map((g) => [g.name, g.id]));
      const mapped = new Set((yield* reconciler.mappings(organizationId, guildId)).map((m) => `${m.groupId}:${m.roleId}`));
      for (const group of groups) {
        const groupId = existing.get(group.name) ?? (yield* groupService.create(organizationId, { name: group.name })).id;
        if (mapped.has(`${groupId}:${group.roleId}`)) continue;
        yield* reconciler.createMapping(organizationId, {
          guildId,
          groupId,
          roleId: group.roleId,
          authority: group.authority,
          onManualRemoval: "restore",
        });
      }
      for (const old of yield* menus.list(organizationId, guildId)) yield* menus.remove(organizationId, old.id);
      yield* menus.post(organizationId, guildId, { channelId, title: "Pick your roles", roleIds: groups.map((g) => g.roleId) }, null);
      yield* invites.create(organizationId, guildId, channelId);
    }),
  );
};

/** The name of the webhook `npm start` seeds on the emulator. */
export const DEMO_WEBHOOK_NAME = "Demo notices";

/**
 * Gives the default organization one channel webhook named {@link DEMO_WEBHOOK_NAME} at `url`
 * (the emulator's, made afresh at each `npm start`: the one kept from the last run points at a
 * webhook that no longer exists, so it is replaced) receiving every domain event kind, so
 * deliveries show on the Notifications page. Rejects on database errors and with
 * InvalidWebhookUrl for a URL the server does not accept.
 */
export const seedDemoWebhook = async (services: { runtime: ApiRuntime }, url: string): Promise<void> => {
  await services.runtime.runPromise(
    Effect.gen(function* () {
      const webhooks = yield* Webhooks;
      for (const old of yield* webhooks.list(DEFAULT_ORGANIZATION.id)) {
        if (old.name === DEMO_WEBHOOK_NAME) yield* webhooks.remove(DEFAULT_ORGANIZATION.id, old.id);
      }
      yield* webhooks.create({
        organizationId: DEFAULT_ORGANIZATION.id,
        name: DEMO_WEBHOOK_NAME,
        url,
        kinds: DOMAIN_EVENT_KINDS,
        createdBy: null,
      });
    }),
  );
};
