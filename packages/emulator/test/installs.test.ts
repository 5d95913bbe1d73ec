import type { Guild } from "discord.js";
import { Client, DiscordAPIError, Events, GatewayIntentBits as I, PermissionFlagsBits as P } from "discord.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { authorizeThroughPage, redirectParams } from "./authorize-page";

const REDIRECT = "http://127.0.0.1:9/callback";
let emulator: Emulator;
let kept: SeededGuild;
const clients: Client[] = [];

async function login(intents: number): Promise<Client<true>> {
  const c = new Client({ intents, rest: { api: emulator.apiUrl, cdn: emulator.cdnUrl } });
  clients.push(c);
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(emulator.token);
  await ready;
  return c as Client<true>;
}

/** Resolves with the next `event` guild whose id is `guildId`. */
function nextGuildEvent(c: Client, event: typeof Events.GuildCreate | typeof Events.GuildDelete, guildId: string): Promise<Guild> {
  return new Promise((resolve) => {
    const listener = (g: Guild) => {
      if (g.id !== guildId) return;
      c.off(event, listener);
      resolve(g);
    };
    c.on(event, listener);
  });
}

beforeAll(async () => {
  emulator = await startEmulator({ redirectUris: [REDIRECT] });
  kept = emulator.seedGuild({ seed: 51, members: 30, staff: 3 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
});
afterAll(() => emulator.close());

describe("the bot removed from and added to guilds", () => {
  it("removeBotFromGuild: a real discord.js client gets guildDelete (not an outage); REST then answers 10004 / 50001", async () => {
    const doomed = emulator.seedGuild({ seed: 52, members: 30, staff: 3 });
    const c = await login(I.Guilds | I.GuildMembers);
    expect(c.guilds.cache.has(doomed.guildId)).toBe(true);
    const deleted = nextGuildEvent(c, Events.GuildDelete, doomed.guildId);
    await new EmulatorControl(emulator.url).removeBotFromGuild(doomed.guildId);
    const gone = await deleted;
    expect(gone.available).toBe(true); // GUILD_DELETE without `unavailable`: removed, not an outage
    expect(c.guilds.cache.has(doomed.guildId)).toBe(false);
    expect(c.guilds.cache.has(kept.guildId)).toBe(true);
    expect(emulator.guild(doomed.guildId).botMember).toBe(false);

    const fetchGuild = await c.guilds.fetch(doomed.guildId).then(
      () => null,
      (e: unknown) => e,
    );
    expect(fetchGuild).toBeInstanceOf(DiscordAPIError);
    expect((fetchGuild as DiscordAPIError).code).toBe(10004);
    const member = await c.rest.get(`/guilds/${doomed.guildId}/members/${doomed.ownerId}`).then(
      () => null,
      (e: unknown) => e,
    );
    expect((member as DiscordAPIError).status).toBe(403);
    expect((member as DiscordAPIError).code).toBe(50001);
    const unknown = await c.rest.get("/guilds/123456789012345678/members/1").then(
      () => null,
      (e: unknown) => e,
    );
    expect((unknown as DiscordAPIError).code).toBe(10004);

    // Membership changes in that guild no longer reach the bot; a new session's READY does not list it.
    expect(() => emulator.invokeCommand(doomed.guildId, doomed.ownerId, "ping")).toThrow(/Unknown Guild/);
    const again = await login(I.Guilds);
    expect(again.guilds.cache.has(doomed.guildId)).toBe(false);
    await expect(new EmulatorControl(emulator.url).removeBotFromGuild(doomed.guildId)).rejects.toBeInstanceOf(EmulatorControlError);

    // Added back: guildCreate, with the bot's role carrying the given permissions.
    const created = nextGuildEvent(c, Events.GuildCreate, doomed.guildId);
    emulator.addBotToGuild(doomed.guildId, String(P.ManageRoles));
    const back = await created;
    expect(back.members.me?.permissions.bitfield).toBe(
      (await back.roles.fetch(back.roles.everyone.id))!.permissions.bitfield | P.ManageRoles,
    );
  });

  it("guild.leave() through discord.js sends GUILD_DELETE too", async () => {
    const left = emulator.seedGuild({ seed: 53, members: 10, staff: 1 });
    const c = await login(I.Guilds);
    const deleted = nextGuildEvent(c, Events.GuildDelete, left.guildId);
    await c.guilds.cache.get(left.guildId)!.leave();
    await deleted;
    expect(emulator.guild(left.guildId).botMember).toBe(false);
  });

  it("an install through the authorize page reaches a real discord.js client as guildCreate", async () => {
    const target = emulator.seedGuild({ seed: 54, members: 25, staff: 2, withBot: false });
    const c = await login(I.Guilds);
    expect(c.guilds.cache.has(target.guildId)).toBe(false);
    emulator.setOAuthUser(target.ownerId);
    const created = nextGuildEvent(c, Events.GuildCreate, target.guildId);
    const answer = await authorizeThroughPage(
      emulator.url,
      {
        client_id: emulator.applicationId,
        scope: "bot applications.commands",
        permissions: String(P.ManageRoles | P.ManageNicknames),
        response_type: "code",
        redirect_uri: REDIRECT,
        state: "s",
      },
      { guildId: target.guildId },
    );
    expect(redirectParams(answer.location).get("guild_id")).toBe(target.guildId);
    const guild = await created;
    expect(guild.members.me?.permissions.has(P.ManageRoles | P.ManageNicknames)).toBe(true);
    expect(guild.members.me?.permissions.has(P.Administrator)).toBe(false);
  });

  it("the bot-only flow without redirect_uri shows an Authorized page", async () => {
    const target = emulator.seedGuild({ seed: 55, members: 10, staff: 1, withBot: false });
    emulator.setOAuthUser(target.ownerId);
    const answer = await authorizeThroughPage(
      emulator.url,
      { client_id: emulator.applicationId, scope: "bot", permissions: "8" },
      { guildId: target.guildId },
    );
    expect(answer.status).toBe(200);
    expect(answer.html).toMatch(/has been added to/);
    expect(emulator.guild(target.guildId).botMember).toBe(true);
  });
});
