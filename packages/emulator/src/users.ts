/**
 * The people who can sign in to the emulator's OAuth2 pages: every non-bot user a guild knows
 * (generated, added, or departed) and the application's owner. Users are found by snowflake across
 * guilds; a user's guilds are those they are a member of now.
 * https://discord.com/developers/docs/resources/user#user-object
 */
import type { APIUser } from "discord-api-types/v10";
import { PermissionFlagsBits } from "discord-api-types/v10";
import type { GuildState } from "./guild";
import { userObject } from "./payloads";
import { isSnowflake } from "./snowflake";

/** A user as GET /users/@me answers a bearer token (with `email` and `verified` only under the `email` scope). */
export type OAuthUser = APIUser & { email?: string | null; verified?: boolean };

/** What the directory reads. */
export interface UsersContext {
  /** Every guild the emulator holds, the bot's or not. */
  guilds(): Iterable<GuildState>;
  /** The application's owner (a user outside every guild). */
  readonly owner: APIUser;
}

/** How many staff, and how many other members, of each guild the sign-in picker offers. */
const SUGGESTED_PER_KIND = 3;

/** Looks users up across guilds. */
export class Users {
  constructor(private readonly ctx: UsersContext) {}

  /**
   * The user with this id with the private fields of GET /users/@me (`mfa_enabled`, `locale`,
   * `premium_type`, `email`, `verified`), or undefined for an unknown id or a bot. The email is made up:
   * `<username>+<id>@example.com` (unique, and in a domain reserved for examples).
   */
  find(userId: string): OAuthUser | undefined {
    if (!isSnowflake(userId)) return undefined;
    let user: APIUser | undefined;
    if (userId === this.ctx.owner.id) user = this.ctx.owner;
    else {
      for (const guild of this.ctx.guilds()) {
        const record = guild.userRecord(userId);
        if (record) {
          if (record.bot) return undefined;
          user = userObject(record);
          break;
        }
      }
    }
    if (!user) return undefined;
    return {
      ...user,
      mfa_enabled: false,
      locale: "en-US" as APIUser["locale"],
      premium_type: 0,
      email: `${user.username}+${user.id}@example.com`,
      verified: true,
    };
  }

  /** The guilds `userId` is a member of now, in seeding order (the bot's or not). */
  guildsOf(userId: string): GuildState[] {
    return [...this.ctx.guilds()].filter((guild) => guild.hasMember(userId));
  }

  /** True when `userId` may add a bot to `guild`: a member with MANAGE_GUILD (ADMINISTRATOR and ownership include it). */
  canManage(guild: GuildState, userId: string): boolean {
    return hasPermission(guild, userId, PermissionFlagsBits.ManageGuild);
  }

  /**
   * Users worth offering on the sign-in picker: the application owner, then each guild's owner and
   * seeded admins, then a few of its staff (the demo links them to app accounts by Discord id) and
   * a few members who are not staff (no app account: Sign in with Discord creates one), at most
   * `limit`, without repeats.
   */
  suggestions(limit = 50): OAuthUser[] {
    const ids: string[] = [this.ctx.owner.id];
    for (const guild of this.ctx.guilds()) {
      ids.push(guild.ownerId, ...guild.admins().filter((id) => guild.hasMember(id)));
      const staff = guild.staff().map((s) => s.userId);
      ids.push(...staff.slice(0, SUGGESTED_PER_KIND));
      const taken = new Set([guild.ownerId, ...guild.admins(), ...staff]);
      const others = guild.list(0n, 50).filter((m) => !m.bot && !taken.has(m.userId));
      ids.push(...others.slice(0, SUGGESTED_PER_KIND).map((m) => m.userId));
    }
    const out: OAuthUser[] = [];
    for (const id of new Set(ids)) {
      const user = this.find(id);
      if (user) out.push(user);
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** True when the member holds `permission` at guild level (see GuildState.permissions). */
export function hasPermission(guild: GuildState, userId: string, permission: bigint): boolean {
  const bits = guild.permissions(userId);
  return bits !== undefined && (BigInt(bits) & permission) === permission;
}
