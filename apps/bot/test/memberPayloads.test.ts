/**
 * Member payload shapes that Discord's docs allow, or that a faulty peer sends, through the
 * emulator, the real bot and a real server:
 * - a GUILD_MEMBER_UPDATE that leaves a field out keeps the stored value (absent: unchanged),
 *   one that sends it as null clears it, for every optional field of the event;
 * - a full sync whose chunk or page holds a member without `user` ends incomplete, naming
 *   the member, and marks nobody left (on main it dropped the member and marked them left);
 * - @everyone (the guild's own id) never lands in a member's roles, live or chunked.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { GuildhallClient } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { Events } from "discord.js";
import { GatewayDispatchEvents, type GatewayDispatchPayload } from "discord-api-types/v10";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";
import { startServerFor } from "./helpers";

/** A member as the server stored it (times as ISO-8601), or null. */
interface Stored {
  username: string;
  globalName: string | null;
  nick: string | null;
  avatar: string | null;
  roleIds: string[];
  joinedAt: string | null;
  isBot: boolean;
  pending: boolean;
  premiumSince: string | null;
  communicationDisabledUntil: string | null;
  dateLeft: string | null;
}

const iso = (value: unknown): string | null => (value === null ? null : new Date(value as string).toISOString());

/** Reads one stored member straight from the server's database (checks only). */
const storedMember = async (server: RunningServer, guildId: string, userId: string): Promise<Stored | null> => {
  const rows = await server.runtime.runPromise(
    Database.use((database) =>
      database.use("test", (db) =>
        executeRows<Record<string, unknown>>(db, sql`select * from guild_members where guild_id = ${guildId} and user_id = ${userId}`),
      ),
    ),
  );
  const row = rows[0];
  if (!row) return null;
  return {
    username: row.username as string,
    globalName: row.global_name as string | null,
    nick: row.nick as string | null,
    avatar: row.avatar as string | null,
    roleIds: [...(row.role_ids as string[])].sort(),
    joinedAt: iso(row.joined_at),
    isBot: row.is_bot as boolean,
    pending: row.pending as boolean,
    premiumSince: iso(row.premium_since),
    communicationDisabledUntil: iso(row.communication_disabled_until),
    dateLeft: iso(row.date_left),
  };
};

/** Ended stays written for the guild: one per member marked left. */
const historyRows = async (server: RunningServer, guildId: string): Promise<number> => {
  const [row] = await server.runtime.runPromise(
    Database.use((database) =>
      database.use("test", (db) =>
        executeRows<{ n: number }>(db, sql`select count(*)::int as n from guild_membership_history where guild_id = ${guildId}`),
      ),
    ),
  );
  return Number(row?.n ?? 0);
};

const ROLE_A = "500000000000000001";
const ROLE_B = "500000000000000002";

describe("GUILD_MEMBER_UPDATE: an absent field is unchanged, a null one is cleared", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: RunningBot;
  let userId: string;
  let userAvatar: string | null;
  /** The member as Discord would describe it now (the event's member fields), and what the server should hold. */
  let truth: Record<string, unknown>;
  let expected: Stored;

  /**
   * Sends a GUILD_MEMBER_UPDATE carrying `truth` with `changes` applied, minus the keys in
   * `omit`, and waits until the server holds `expected` with `next` applied (so every event must
   * change something the server shows, or this could pass before the event lands).
   */
  const sendAndExpect = async (changes: Record<string, unknown>, omit: string[], next: Partial<Stored>) => {
    truth = { ...truth, ...changes };
    expected = { ...expected, ...next };
    emulator.sendMemberUpdate(guild.guildId, userId, { set: truth, omit });
    await vi.waitFor(
      async () => {
        await bot.drainMemberEvents();
        expect(await storedMember(server, guild.guildId, userId)).toEqual(expected);
      },
      { timeout: 10_000, interval: 50 },
    );
  };

  beforeAll(async () => {
    emulator = await startEmulator({ memberRequestWindowMs: 0 });
    guild = emulator.seedGuild({ seed: 31, members: 40, staff: 3, name: "Payload Guild" });
    ({ server, staff } = await startServerFor(guild));
    bot = await startBot({ token: emulator.token, apiUrl: emulator.apiUrl, serverUrl: server.url, botKey: server.botKey, log: () => {} });
    const synced = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
    expect(synced.status).toBe("completed");
    userId = guild.staff[0]!.userId;
    userAvatar = emulator.member(guild.guildId, userId)!.avatar;
    expected = (await storedMember(server, guild.guildId, userId))!;
    truth = {};
    // Every stored field gets a value of its own first, so that a wrongful null shows.
    await sendAndExpect(
      {
        nick: "Keeper",
        avatar: "b".repeat(32),
        roles: [ROLE_A],
        joined_at: "2021-05-05T05:05:05.000Z",
        premium_since: "2022-06-06T06:06:06.000Z",
        pending: true,
        communication_disabled_until: "2030-07-07T07:07:07.000Z",
      },
      [],
      {
        nick: "Keeper",
        avatar: "b".repeat(32),
        roleIds: [ROLE_A],
        joinedAt: "2021-05-05T05:05:05.000Z",
        premiumSince: "2022-06-06T06:06:06.000Z",
        pending: true,
        communicationDisabledUntil: "2030-07-07T07:07:07.000Z",
      },
    );
  }, 120_000);

  afterAll(async () => {
    staff?.close();
    await bot?.close().catch(() => {});
    await server?.close();
    await emulator?.close();
  });

  it("the reported payload: only {guild_id, roles, user} keeps the nickname and the join date", async () => {
    const keys = [
      "nick",
      "avatar",
      "banner",
      "joined_at",
      "premium_since",
      "deaf",
      "mute",
      "flags",
      "pending",
      "communication_disabled_until",
    ];
    await sendAndExpect({ roles: [ROLE_B] }, keys, { roleIds: [ROLE_B] });
    expect(expected).toMatchObject({ nick: "Keeper", joinedAt: "2021-05-05T05:05:05.000Z" });
  });

  // Every optional field of GUILD_MEMBER_UPDATE (nick?, premium_since?, deaf?, mute?, pending?,
  // communication_disabled_until?, flags?, avatar_decoration_data?), and the nullable ones a faulty
  // peer leaves out too (avatar, banner, joined_at): left out, each keeps what was stored while
  // the roles the same event carries change.
  const OPTIONAL = [
    "nick",
    "premium_since",
    "deaf",
    "mute",
    "pending",
    "communication_disabled_until",
    "flags",
    "avatar_decoration_data",
    "avatar",
    "banner",
    "joined_at",
  ];
  for (const [i, key] of OPTIONAL.entries()) {
    it(`${key} left out: unchanged`, async () => {
      const roles = i % 2 === 0 ? [ROLE_A] : [ROLE_A, ROLE_B];
      await sendAndExpect({ roles }, [key], { roleIds: roles });
    });
  }

  it("roles left out (a faulty peer): unchanged, while the nick the event carries changes", async () => {
    await sendAndExpect({ nick: "Marker" }, ["roles"], { nick: "Marker" });
    expect(expected.roleIds.length).toBeGreaterThan(0);
  });

  it("user fields left out (a partial user): the username, global name and bot flag stay", async () => {
    await sendAndExpect({ user: { id: userId }, nick: "Partial User" }, [], { nick: "Partial User" });
    expect(expected.username.length).toBeGreaterThan(0);
  });

  it("a present null clears: nick, premium_since, communication_disabled_until, joined_at", async () => {
    await sendAndExpect({ nick: null }, [], { nick: null });
    await sendAndExpect({ premium_since: null }, [], { premiumSince: null });
    await sendAndExpect({ communication_disabled_until: null }, [], { communicationDisabledUntil: null });
    await sendAndExpect({ joined_at: null }, [], { joinedAt: null });
    await sendAndExpect({ pending: false }, [], { pending: false });
  });

  it("a present null avatar clears the guild avatar: the user's own shows again", async () => {
    await sendAndExpect({ avatar: null, user: emulatorUser() }, [], { avatar: userAvatar });
  });

  it("@everyone (the guild's id) in the event's roles is dropped", async () => {
    await sendAndExpect({ roles: [guild.guildId, ROLE_B] }, [], { roleIds: [ROLE_B] });
  });

  /** The member's full user object as the emulator describes it. */
  const emulatorUser = () => {
    const record = emulator.member(guild.guildId, userId)!;
    return { id: record.userId, username: record.username, global_name: record.globalName, avatar: record.avatar };
  };
});

describe("a full sync with a member lacking `user` ends incomplete, naming the member; nobody is marked left", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  let proxy: Server;
  const bots: RunningBot[] = [];
  /** Which List Guild Members page index (from 0) the proxy strips `user` from, member 5 of it; null: none. */
  let stripPage: number | null = null;

  beforeAll(async () => {
    emulator = await startEmulator({ memberRequestWindowMs: 0 });
    guild = emulator.seedGuild({ seed: 32, members: 2_500, staff: 3, name: "Faulty Peer Guild" });
    ({ server, staff } = await startServerFor(guild));
    // A peer in front of the emulator's REST API that leaves `user` out of one member of a page.
    let page = 0;
    proxy = createServer(async (req, res) => {
      const body = await new Promise<Buffer>((resolve) => {
        const parts: Buffer[] = [];
        req.on("data", (part: Buffer) => parts.push(part));
        req.on("end", () => resolve(Buffer.concat(parts)));
      });
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && !["host", "content-length", "connection"].includes(name)) headers.set(name, value);
      }
      const upstream = await fetch(`${emulator.url}${req.url}`, {
        method: req.method,
        headers,
        body: body.length > 0 ? body : undefined,
      });
      let payload = Buffer.from(await upstream.arrayBuffer());
      if (req.method === "GET" && /\/guilds\/\d+\/members\?/.test(req.url ?? "") && upstream.ok) {
        const members = JSON.parse(payload.toString("utf8")) as Array<Record<string, unknown>>;
        if (/after=0(&|$)/.test(req.url ?? "")) page = 0;
        if (page === stripPage && members.length > 6) delete members[5]!.user;
        page++;
        payload = Buffer.from(JSON.stringify(members));
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name)) out[name] = value;
      });
      res.writeHead(upstream.status, { ...out, "content-length": String(payload.length) });
      res.end(payload);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  }, 120_000);

  afterAll(async () => {
    staff?.close();
    for (const bot of bots) await bot.close().catch(() => {});
    await new Promise((resolve) => proxy?.close(resolve));
    await server?.close();
    await emulator?.close();
  });

  const connectBot = async () => {
    const apiUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`;
    const bot = await startBot({ token: emulator.token, apiUrl, serverUrl: server.url, botKey: server.botKey, log: () => {} });
    bots.push(bot);
    return bot;
  };

  it("REST source: a page with a member without `user` aborts the run (page and index named); a clean page set completes", async () => {
    const bot = await connectBot();
    const first = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null, source: "rest" });
    expect(first).toMatchObject({ status: "completed", created: 2_500, markedLeft: 0 });

    stripPage = 1;
    const faulty = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null, source: "rest" });
    expect(faulty).toMatchObject({ status: "incomplete", markedLeft: 0 });
    expect(faulty.reason).toContain("List Guild Members page 1: member 5 has no user");
    const counts = (await staff.trpc.members.comparison.query({ category: "left" })).counts;
    expect(counts.left).toBe(0);
    expect(await historyRows(server, guild.guildId)).toBe(0);

    stripPage = null;
    const clean = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null, source: "rest" });
    expect(clean).toMatchObject({ status: "completed", markedLeft: 0, unchanged: 2_500 });
  }, 120_000);

  it("gateway source: a GUILD_MEMBERS_CHUNK member without `user` aborts the run (chunk and index named)", async () => {
    const bot = bots.at(-1)!;
    // The faulty peer: discord.js's own `raw` listeners run in order, so this one (first) edits
    // the packet before the bot's handler reads it, as if the gateway had sent it so.
    const strip = (packet: GatewayDispatchPayload) => {
      if (packet.t === GatewayDispatchEvents.GuildMembersChunk && packet.d.nonce?.startsWith("gh-sync-") && packet.d.chunk_index === 1) {
        delete (packet.d.members[3] as { user?: unknown }).user;
      }
    };
    bot.client.prependListener(Events.Raw, strip);
    try {
      const faulty = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
      expect(faulty).toMatchObject({ status: "incomplete", markedLeft: 0 });
      expect(faulty.reason).toContain("GUILD_MEMBERS_CHUNK 1 (of 3): member 3 has no user");
    } finally {
      bot.client.removeListener(Events.Raw, strip);
    }
    expect((await staff.trpc.members.comparison.query({ category: "left" })).counts.left).toBe(0);
    expect(await historyRows(server, guild.guildId)).toBe(0);
  }, 120_000);

  it("@everyone listed in a chunk member's roles is dropped on the way in", async () => {
    const bot = bots.at(-1)!;
    let target: string | null = null;
    const addEveryone = (packet: GatewayDispatchPayload) => {
      if (packet.t === GatewayDispatchEvents.GuildMembersChunk && packet.d.nonce?.startsWith("gh-sync-") && packet.d.chunk_index === 0) {
        const member = packet.d.members[7]!;
        target = member.user.id;
        member.roles = [guild.guildId, ...member.roles, ROLE_A];
      }
    };
    bot.client.prependListener(Events.Raw, addEveryone);
    try {
      const run = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
      expect(run.status).toBe("completed");
    } finally {
      bot.client.removeListener(Events.Raw, addEveryone);
    }
    const stored = await storedMember(server, guild.guildId, target!);
    expect(stored?.roleIds).toContain(ROLE_A);
    expect(stored?.roleIds).not.toContain(guild.guildId);
  }, 120_000);
});
