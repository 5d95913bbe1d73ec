import type { ClientOptions, GuildMember, Presence } from "discord.js";
import { Client, Events, GatewayIntentBits as I } from "discord.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { guildSpec, MemberGenerator } from "../src/generator";
import type { Emulator, SeededGuild } from "../src/index";
import { startEmulator } from "../src/index";
import { RawGateway } from "./helpers";

const ONLINE_RATIO = 0.3;
let emulator: Emulator;
let guild: SeededGuild;
const clients: Client[] = [];

function client(intents: number, options: Partial<ClientOptions> = {}): Client {
  const c = new Client({ intents, rest: { api: emulator.apiUrl, cdn: emulator.cdnUrl }, ...options });
  clients.push(c);
  return c;
}

async function login(c: Client, token = emulator.token): Promise<Client<true>> {
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(token);
  await ready;
  return c as Client<true>;
}

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 2024, members: 5000, staff: 25, onlineRatio: ONLINE_RATIO });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
});
afterAll(() => emulator.close());

describe("discord.js Client", () => {
  it("connects, is ready with the seeded guild, and fetches all 5,000 members over the gateway", async () => {
    const c = await login(client(I.Guilds | I.GuildMembers | I.GuildPresences));
    expect(c.user.id).toBe(emulator.applicationId);
    const cached = c.guilds.cache.get(guild.guildId);
    expect(cached?.name).toBe(guild.name);
    expect(cached?.memberCount).toBe(5000);
    expect(cached?.roles.cache.find((r) => r.name === "Staff")?.id).toBe(guild.staffRoleId);

    const members = await cached!.members.fetch();
    expect(members.size).toBe(5000);

    // Compare with the emulator's own generator, member by member.
    const spec = guildSpec({ seed: 2024, guildId: guild.guildId, members: 5000, staff: 25, onlineRatio: ONLINE_RATIO, now: guild.now });
    const generator = new MemberGenerator(spec);
    for (let i = 0; i < spec.generatedCount; i++) {
      const expected = generator.member(i);
      const m = members.get(expected.userId) as GuildMember;
      expect(m, expected.userId).toBeDefined();
      expect(m.user.username).toBe(expected.username);
      expect(m.user.globalName).toBe(expected.globalName);
      expect(m.user.bot).toBe(expected.bot);
      expect(m.nickname).toBe(expected.nick);
      expect(m.user.avatar).toBe(expected.avatar);
      expect(m.joinedTimestamp).toBe(Date.parse(expected.joinedAt));
      expect([...m.roles.cache.keys()].filter((id) => id !== guild.guildId).sort()).toEqual([...expected.roles].sort());
    }
    expect(members.get(emulator.applicationId)?.user.bot).toBe(true);
  });

  it("rejects login with a bad token (REST 401), and the gateway closes a bad IDENTIFY with 4004", async () => {
    await expect(client(I.Guilds).login("not-the-token")).rejects.toThrow(/token/i);
    const raw = await RawGateway.connect(emulator.gatewayUrl);
    raw.send(2, { token: "not-the-token", intents: I.Guilds, properties: {} });
    expect((await raw.closed).code).toBe(4004);
  });

  it("fails with 4014 when a privileged intent is not allowed", async () => {
    const strict = await startEmulator({ allowedPrivilegedIntents: I.GuildMembers });
    try {
      const c = new Client({ intents: I.Guilds | I.GuildPresences, rest: { api: strict.apiUrl } });
      clients.push(c);
      const closes: number[] = [];
      c.on(Events.ShardDisconnect, (event) => closes.push(event.code));
      await expect(c.login(strict.token)).rejects.toThrow(/disallowed intents/i);
      expect(closes).toContain(4014);
    } finally {
      await strict.close();
    }
  });

  it("gets no PRESENCE_UPDATE without GUILD_PRESENCES and no member events without GUILD_MEMBERS", async () => {
    const noPresences = await login(client(I.Guilds | I.GuildMembers));
    const noMembers = await login(client(I.Guilds | I.GuildPresences));
    const seen = new Map<Client, string[]>([
      [noPresences, []],
      [noMembers, []],
    ]);
    for (const [c, list] of seen) c.on(Events.Raw, (packet: { t: string | null }) => packet.t && list.push(packet.t));

    const staff = guild.staff[0]!.userId;
    const memberAdded = new Promise((resolve) => noPresences.once(Events.GuildMemberAdd, resolve));
    const presence = new Promise((resolve) => noMembers.once(Events.PresenceUpdate, resolve));
    emulator.setPresence(guild.guildId, staff, { status: "dnd", customStatus: "Streaming later" });
    const added = emulator.addMember(guild.guildId, { username: "sentinel_member" });
    emulator.setPresence(guild.guildId, staff, { status: "online" }); // sentinel for noMembers
    await Promise.all([memberAdded, presence]);
    // Per-session order is preserved, so what is missing now never comes.
    expect(seen.get(noPresences)).not.toContain("PRESENCE_UPDATE");
    expect(seen.get(noMembers)!.filter((t) => t.startsWith("GUILD_MEMBER_"))).toEqual([]);
    emulator.removeMember(guild.guildId, added.userId);
  });

  it("resumes after dropConnections() with the same session and keeps receiving presence updates", async () => {
    const c = await login(client(I.Guilds | I.GuildMembers | I.GuildPresences));
    const before = emulator.sessions().filter((s) => s.connected);
    expect(before).toHaveLength(1);
    const sessionId = before[0]!.sessionId;

    const resumed = new Promise<void>((resolve) => c.once(Events.ShardResume, () => resolve()));
    const staff = guild.staff.map((s) => s.userId);
    const updates: Presence[] = [];
    c.on(Events.PresenceUpdate, (_old, now) => updates.push(now));

    emulator.dropConnections();
    // Missed while disconnected: replayed on RESUME.
    emulator.setPresence(guild.guildId, staff[1]!, { status: "idle", activities: [{ name: "Factorio", type: 0 }] });
    await resumed;
    const after = emulator.sessions();
    expect(after.map((s) => s.sessionId)).toEqual([sessionId]);
    expect(after[0]!.connected).toBe(true);

    const live = new Promise<Presence>((resolve) =>
      c.on(Events.PresenceUpdate, (_old, now) => now.userId === staff[2] && now.status === "dnd" && resolve(now)),
    );
    emulator.setPresence(guild.guildId, staff[2]!, {
      status: "dnd",
      customStatus: "In a meeting",
      clientStatus: { desktop: "dnd", mobile: "dnd" },
    });
    const presence = await live;
    expect(presence.activities.find((a) => a.type === 4)?.state).toBe("In a meeting");
    expect(presence.clientStatus).toEqual({ desktop: "dnd", mobile: "dnd" });
    const replayed = updates.find((p) => p.userId === staff[1]);
    expect(replayed?.status).toBe("idle");
    expect(replayed?.activities[0]?.name).toBe("Factorio");
  });
});
