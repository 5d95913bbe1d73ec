import { Database, type DatabaseError, executeRows, schema } from "@guildhall/db";
import { and, desc, eq, isNull, type SQL, sql } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { Snowflake } from "./model";
import { IsoDate, pgText } from "./storable";

/**
 * The four ways a Discord member and an app account can relate:
 * - `guild_only`: in the guild, no app account with their Discord id;
 * - `linked`: in the guild, with an app account;
 * - `left`: left the guild, but has an app account;
 * - `no_guild_record`: an app account with a Discord id the guild has never seen (an account of the
 *   guild's organization, or of none: another organization's staff are left out).
 */
export const ComparisonCategory = Schema.Literals(["guild_only", "linked", "left", "no_guild_record"]);
export type ComparisonCategory = typeof ComparisonCategory.Type;

/**
 * Filters and paging for a comparison list; `page` starts at 1.
 * - `search`: at most 100 characters, cleaned like the names it is matched against (./storable's
 *   PgText: a NUL dropped, a lone surrogate replaced), so text pasted from Discord finds the
 *   member whose stored name was cleaned the same way;
 * - `joinedAfter` (inclusive) / `joinedBefore` (exclusive): calendar dates `YYYY-MM-DD`
 *   (./storable's IsoDate; `2024-02-30` is refused, naming the field).
 */
export const ComparisonQuery = Schema.Struct({
  category: ComparisonCategory,
  search: Schema.optional(pgText(100)),
  roleId: Schema.optional(Snowflake),
  isBot: Schema.optional(Schema.Boolean),
  joinedAfter: Schema.optional(IsoDate),
  joinedBefore: Schema.optional(IsoDate),
  page: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100_000 }))),
  pageSize: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 }))),
});
export type ComparisonQuery = typeof ComparisonQuery.Type;

/** One line of a comparison list: the member (null for `no_guild_record`) and the app user (null for `guild_only`). */
export interface ComparisonRow {
  readonly discordId: string;
  readonly member: {
    readonly username: string;
    readonly globalName: string | null;
    readonly nick: string | null;
    readonly avatar: string | null;
    readonly roleIds: ReadonlyArray<string>;
    readonly joinedAt: string | null;
    readonly isBot: boolean;
    readonly dateLeft: string | null;
  } | null;
  readonly user: { readonly id: string; readonly name: string; readonly email: string } | null;
}

/** A role of the guild, for the comparison's role filter. `id` is the role's snowflake; `color` an RGB integer (0: none). */
export interface GuildRole {
  readonly id: string;
  readonly name: string;
  readonly color: number;
}

export interface ComparisonCounts {
  readonly guild_only: number;
  readonly linked: number;
  readonly left: number;
  readonly no_guild_record: number;
}

/** A page of one category, with every category's (unfiltered) count and this list's filtered total. */
export interface ComparisonPage {
  readonly counts: ComparisonCounts;
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly rows: ReadonlyArray<ComparisonRow>;
}

type RawRow = {
  discord_id: string;
  username: string | null;
  global_name: string | null;
  nick: string | null;
  avatar: string | null;
  role_ids: string[] | string | null;
  joined_at: string | Date | null;
  is_bot: boolean | null;
  date_left: string | Date | null;
  user_id: string | null;
  user_name: string | null;
  user_email: string | null;
};

const iso = (value: string | Date | null) => (value === null ? null : new Date(value).toISOString());
const roleIdsOf = (value: string[] | string | null): string[] =>
  value === null
    ? []
    : Array.isArray(value)
      ? value
      : value
          .replace(/^\{|\}$/g, "")
          .split(",")
          .filter(Boolean);

const toRow = (r: RawRow): ComparisonRow => ({
  discordId: r.discord_id,
  member:
    r.username === null
      ? null
      : {
          username: r.username,
          globalName: r.global_name,
          nick: r.nick,
          avatar: r.avatar,
          roleIds: roleIdsOf(r.role_ids),
          joinedAt: iso(r.joined_at),
          isBot: r.is_bot ?? false,
          dateLeft: iso(r.date_left),
        },
  user: r.user_id === null ? null : { id: r.user_id, name: r.user_name ?? "", email: r.user_email ?? "" },
});

/** The FROM + WHERE of a category, with the filters that apply to it. */
const source = (guildId: string, query: ComparisonQuery): SQL => {
  const memberFilters: SQL[] = [];
  if (query.roleId) memberFilters.push(sql`${query.roleId} = any(m.role_ids)`);
  if (query.isBot !== undefined) memberFilters.push(sql`m.is_bot = ${query.isBot}`);
  // Days in UTC, whatever the session's time zone.
  if (query.joinedAfter) memberFilters.push(sql`m.joined_at >= (${query.joinedAfter}::date)::timestamp at time zone 'UTC'`);
  if (query.joinedBefore) memberFilters.push(sql`m.joined_at < (${query.joinedBefore}::date)::timestamp at time zone 'UTC'`);
  const like = query.search ? `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const memberSearch = like
    ? sql`(m.username ilike ${like} or m.global_name ilike ${like} or m.nick ilike ${like} or m.user_id like ${like} or u.name ilike ${like} or u.email ilike ${like})`
    : null;
  const and = (parts: SQL[]) => (parts.length === 0 ? sql`true` : sql.join(parts, sql` and `));
  switch (query.category) {
    case "guild_only":
      return sql`guild_members m left join users u on u.discord_id = m.user_id
                 where m.guild_id = ${guildId} and m.date_left is null and u.id is null
                 and ${and([...memberFilters, ...(memberSearch ? [memberSearch] : [])])}`;
    case "linked":
      return sql`guild_members m join users u on u.discord_id = m.user_id
                 where m.guild_id = ${guildId} and m.date_left is null
                 and ${and([...memberFilters, ...(memberSearch ? [memberSearch] : [])])}`;
    case "left":
      return sql`guild_members m join users u on u.discord_id = m.user_id
                 where m.guild_id = ${guildId} and m.date_left is not null
                 and ${and([...memberFilters, ...(memberSearch ? [memberSearch] : [])])}`;
    case "no_guild_record":
      // The accounts of this guild's organization, and those of no organization: another
      // organization's staff are none of this one's business.
      return sql`users u left join guild_members m on false
                 where u.discord_id is not null
                 and not exists (select 1 from guild_members g where g.guild_id = ${guildId} and g.user_id = u.discord_id)
                 and (exists (select 1 from staff s join guilds gg on gg.organization_id = s.organization_id
                              where gg.id = ${guildId} and s.user_id = u.id)
                      or not exists (select 1 from staff s where s.user_id = u.id))
                 and ${like ? sql`(u.name ilike ${like} or u.email ilike ${like} or u.discord_id like ${like})` : sql`true`}`;
  }
};

const SELECT = sql`coalesce(m.user_id, u.discord_id) as discord_id, m.username, m.global_name, m.nick, m.avatar, m.role_ids,
  m.joined_at, m.is_bot, m.date_left, u.id as user_id, u.name as user_name, u.email as user_email`;

/**
 * Discord members against app accounts, for one guild: the four categories, their counts,
 * filtered and paginated lists, and every row of a list for CSV export.
 */
export class Comparison extends Context.Service<
  Comparison,
  {
    /** One page (default 1, 50 per page) of `query.category`, ordered by username / name. */
    readonly page: (guildId: string, query: ComparisonQuery) => Effect.Effect<ComparisonPage, DatabaseError>;
    /** Every row of the category matching the filters, at most `limit` (for CSV export). */
    readonly all: (guildId: string, query: ComparisonQuery, limit: number) => Effect.Effect<ReadonlyArray<ComparisonRow>, DatabaseError>;
    /**
     * The guild's roles that still exist, highest position first (Discord's role order,
     * https://discord.com/developers/docs/topics/permissions#role-object), to filter members by.
     */
    readonly roles: (guildId: string) => Effect.Effect<ReadonlyArray<GuildRole>, DatabaseError>;
  }
>()("@guildhall/sync/Comparison") {
  static readonly layer = Layer.effect(
    Comparison,
    Effect.gen(function* () {
      const { use } = yield* Database;

      const counts = (guildId: string) =>
        use("comparison.counts", async (db) => {
          const [row] = await executeRows<Record<keyof ComparisonCounts, number | string>>(
            db,
            sql`select
                  (select count(*) from guild_members m where m.guild_id = ${guildId} and m.date_left is null
                     and not exists (select 1 from users u where u.discord_id = m.user_id)) as guild_only,
                  (select count(*) from guild_members m join users u on u.discord_id = m.user_id
                     where m.guild_id = ${guildId} and m.date_left is null) as linked,
                  (select count(*) from guild_members m join users u on u.discord_id = m.user_id
                     where m.guild_id = ${guildId} and m.date_left is not null) as "left",
                  (select count(*) from ${source(guildId, { category: "no_guild_record" })}) as no_guild_record`,
          );
          return {
            guild_only: Number(row?.guild_only ?? 0),
            linked: Number(row?.linked ?? 0),
            left: Number(row?.left ?? 0),
            no_guild_record: Number(row?.no_guild_record ?? 0),
          };
        });

      const list = (guildId: string, query: ComparisonQuery, limit: number, offset: number) =>
        use("comparison.list", (db) =>
          executeRows<RawRow>(
            db,
            sql`select ${SELECT} from ${source(guildId, query)}
                order by lower(coalesce(m.username, u.name)), coalesce(m.user_id, u.discord_id)
                limit ${limit} offset ${offset}`,
          ).then((rows) => rows.map(toRow)),
        );

      const page = Effect.fn("Comparison.page")(function* (guildId: string, query: ComparisonQuery) {
        const pageSize = query.pageSize ?? 50;
        const pageNumber = query.page ?? 1;
        const [allCounts, totalRows, rows] = yield* Effect.all(
          [
            counts(guildId),
            use("comparison.total", (db) =>
              executeRows<{ n: number | string }>(db, sql`select count(*) as n from ${source(guildId, query)}`),
            ),
            list(guildId, query, pageSize, (pageNumber - 1) * pageSize),
          ],
          { concurrency: 1 },
        );
        return { counts: allCounts, total: Number(totalRows[0]?.n ?? 0), page: pageNumber, pageSize, rows };
      });

      const all = Effect.fn("Comparison.all")(function* (guildId: string, query: ComparisonQuery, limit: number) {
        return yield* list(guildId, query, limit, 0);
      });

      const roles = Effect.fn("Comparison.roles")(function* (guildId: string) {
        const { guildRoles } = schema;
        return yield* use("comparison.roles", (db) =>
          db
            .select({ id: guildRoles.id, name: guildRoles.name, color: guildRoles.color })
            .from(guildRoles)
            .where(and(eq(guildRoles.guildId, guildId), isNull(guildRoles.dateDeleted)))
            .orderBy(desc(guildRoles.position)),
        );
      });

      return Comparison.of({ page, all, roles });
    }),
  );
}
