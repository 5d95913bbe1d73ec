/**
 * The server under fuzz: a real server (PGlite in memory, or a fresh Postgres database) with
 * the six callers the walk plays, a seeded guild with members and a finished member sync, the
 * known-value pools seeded with its ids, and the invariant checks wired to its database.
 */
import { createClient, ensurePasswordUser, signIn } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { type InvariantOptions, Pools } from "@guildhall/fuzz";
import { QUEUES } from "@guildhall/jobs";
import { Directory, type MemberSnapshot } from "@guildhall/sync";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { DEFAULT_ORGANIZATION, type RunningServer } from "../../src";
import { ADMIN, GUILD_ID, STAFF, startTestServer } from "../helpers";

/**
 * Who calls: nobody signed in, a staff member without the admin role, an admin, the bot (its
 * key), and another app with an API token of the organization, `read` (`readToken`) or
 * `read_write` (`writeToken`): sent as `Authorization: Bearer` over HTTP, as the connectionParam
 * `token` over WebSocket, as `createClient({ url, token })` does.
 */
export const ROLES = ["anonymous", "staff", "admin", "bot", "readToken", "writeToken"] as const;
export type Role = (typeof ROLES)[number];

/** A signed-in staff member who is not an admin. */
export const STAFF_USER = { email: "staff@fuzz.invalid", password: "staff fuzz password", name: "Fuzz Staff" };

/** What a caller of a role sends: headers on every request and upgrade, and the WebSocket connectionParams. */
export interface Credentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly connectionParams: Readonly<Record<string, string>> | null;
}

export interface FuzzTarget {
  readonly server: RunningServer;
  readonly kind: "pglite" | "postgres";
  readonly credentials: Readonly<Record<Role, Credentials>>;
  readonly pools: Pools;
  readonly invariants: InvariantOptions;
  readonly close: () => Promise<void>;
}

/** Members of the seeded guild: the linked staff and a few more, so comparisons and exports have rows. */
const seedMembers = (): Array<MemberSnapshot> => [
  ...STAFF.flatMap((s) => (s.discordId ? [s.discordId] : [])).map((userId) => member(userId, `staff-${userId.slice(-2)}`)),
  ...Array.from({ length: 12 }, (_, i) => member(`82000000000000${String(1000 + i)}`, `member-${i}`)),
];

const member = (userId: string, username: string): MemberSnapshot => ({
  userId,
  username,
  globalName: null,
  nick: null,
  avatar: null,
  roleIds: ["830000000000000001"],
  joinedAt: "2024-01-15T10:00:00.000Z",
  isBot: false,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
});

/**
 * Starts the server (on Postgres when `databaseUrl` is given: a database of its own, created
 * here and dropped by `close`), signs in the staff member and the admin, and seeds members, a
 * role and a completed member sync through the bot's own procedures.
 */
export const startFuzzTarget = async (options: { postgresUrl?: string | undefined; pools?: Pools } = {}): Promise<FuzzTarget> => {
  let dropDatabase = async () => {};
  let databaseUrl: string | undefined;
  if (options.postgresUrl) {
    const name = `guildhall_fuzz_${process.pid}_${Date.now()}`;
    const admin = postgres(options.postgresUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    databaseUrl = options.postgresUrl.replace(/\/[^/]*$/, `/${name}`);
    dropDatabase = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const server = await startTestServer({ databaseUrl });
  const staffUser = await ensurePasswordUser(server.auth, STAFF_USER);
  await server.runtime.runPromise(Directory.use((d) => d.ensureStaff(DEFAULT_ORGANIZATION.id, staffUser.id, "staff", "Moderator")));
  const adminId = (await ensurePasswordUser(server.auth, ADMIN)).id;

  // What a browser sends: the session cookie, and the app's own Origin.
  const origin = `http://localhost:${server.port}`;
  const cookieOf = async (credentials: { email: string; password: string }) => ({
    headers: { cookie: await signIn(server.url, credentials), origin },
    connectionParams: null,
  });
  const admin = await cookieOf(ADMIN);
  // The API tokens, made as the SPA makes them (the admin's tokens.create); never revoked by the
  // walk: their ids are in no pool.
  const tokenOf = async (scope: "read" | "read_write"): Promise<Credentials> => {
    const client = createClient({ url: server.url, cookie: admin.headers.cookie });
    try {
      const { token } = await client.trpc.tokens.create.mutate({ name: `fuzz ${scope}`, scope });
      return { headers: { authorization: `Bearer ${token}` }, connectionParams: { token } };
    } finally {
      client.close();
    }
  };
  const credentials: Record<Role, Credentials> = {
    anonymous: { headers: {}, connectionParams: null },
    staff: await cookieOf(STAFF_USER),
    admin,
    bot: { headers: { "x-guildhall-bot-key": server.botKey }, connectionParams: { botKey: server.botKey } },
    readToken: await tokenOf("read"),
    writeToken: await tokenOf("read_write"),
  };

  const bot = createClient({ url: server.url, botKey: server.botKey });
  try {
    const members = seedMembers();
    const run = await bot.trpc.bot.syncBegin.mutate({
      guildId: GUILD_ID,
      trigger: "api",
      source: "rest",
      requestedBy: null,
      roles: [{ id: "830000000000000001", name: "Member", color: 0x3498db, position: 1, managed: false, permissions: "0" }],
    });
    await bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 0, chunkCount: 1, members });
    await bot.trpc.bot.syncComplete.mutate({ runId: run.id });
  } finally {
    bot.close();
  }

  const query: InvariantOptions["sql"] = (text) =>
    server.runtime.runPromise(Database.use((database) => database.use("fuzz.invariants", (db) => executeRows(db, sql.raw(text)))));
  const pools = options.pools ?? new Pools();
  pools.remember("guildId", GUILD_ID);
  pools.remember("roleId", "830000000000000001");
  pools.remember("userId", ...seedMembers().map((m) => m.userId), staffUser.id, adminId);
  return {
    server,
    kind: databaseUrl ? "postgres" : "pglite",
    credentials,
    pools,
    invariants: {
      sql: query,
      botQueues: QUEUES.filter((q) => q.consumer === "bot").map((q) => q.name),
      kind: databaseUrl ? "postgres" : "pglite",
    },
    close: async () => {
      await server.close();
      await dropDatabase();
    },
  };
};
