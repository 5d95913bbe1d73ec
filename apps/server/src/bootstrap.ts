import { type ApiRuntime, type Auth, ensurePasswordUser } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { Directory } from "@guildhall/sync";
import { eq } from "drizzle-orm";
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

/** A guild to link to the default organization, with the members who are staff. */
export interface DemoGuild {
  readonly guildId: string;
  readonly name: string;
  /** Staff with Discord ids (linked) and, with `discordId: null`, staff who never linked. */
  readonly staff: ReadonlyArray<{ readonly discordId: string | null; readonly name: string; readonly handle: string }>;
}

/**
 * Links `guild` to the default organization and creates an app user + staff row for each of
 * its staff (emails `<handle>@demo.guildhall.invalid`, no password: they do not sign in).
 * Idempotent. Rejects on database errors.
 */
export const seedDemoGuild = async (services: { runtime: ApiRuntime }, guild: DemoGuild): Promise<void> => {
  await services.runtime.runPromise(
    Effect.gen(function* () {
      const directory = yield* Directory;
      const { use } = yield* Database;
      yield* directory.ensureOrganization(DEFAULT_ORGANIZATION);
      yield* directory.ensureGuild(DEFAULT_ORGANIZATION.id, { id: guild.guildId, name: guild.name, icon: null });
      for (const member of guild.staff) {
        const email = `${member.handle.toLowerCase().replace(/[^a-z0-9._-]/g, "")}@demo.guildhall.invalid`;
        const id = yield* use("demo.user", async (db) => {
          // Insert-or-read, so that instances seeding at the same moment agree on one row.
          await db
            .insert(schema.users)
            .values({ id: crypto.randomUUID(), name: member.name, email, emailVerified: true, discordId: member.discordId })
            .onConflictDoNothing();
          const [row] = await db.select({ id: schema.users.id }).from(schema.users).where(eq(schema.users.email, email));
          return row!.id;
        });
        yield* directory.ensureStaff(DEFAULT_ORGANIZATION.id, id, "staff", "Moderator");
      }
    }),
  );
};
