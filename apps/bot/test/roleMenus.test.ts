/**
 * A role menu over the gateway: the emulator delivers the member's pick as INTERACTION_CREATE to
 * the real bot (no interactions endpoint set), which answers from the same handler registry as the
 * server's HTTP endpoint, the choice made by the server (`roleMenus.choose`): an ephemeral reply,
 * the role on Discord, the group following, one audit entry.
 */
import { createClient, type GuildhallClient, signIn } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "@guildhall/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBot, startBot } from "../src";

const ADMIN = { email: "admin@menus-bot.invalid", password: "menus-bot-password", name: "Admin" };

describe("a role menu pick over the gateway, answered by the bot", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let bot: RunningBot;
  let admin: GuildhallClient;

  beforeAll(async () => {
    emulator = await startEmulator({ memberRequestWindowMs: 0 });
    guild = emulator.seedGuild({ seed: 91, members: 20, staff: 2, name: "Menus Guild" });
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      webDist: "/nonexistent",
      firstSightSync: false,
      discord: { token: emulator.token, api: emulator.apiUrl },
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        await seedDemoGuild(services, {
          guildId: guild.guildId,
          name: guild.name,
          staff: guild.staff.map((s) => ({ discordId: s.userId, name: s.globalName ?? s.username, handle: s.username })),
        });
      },
    });
    admin = createClient({ url: server.url, cookie: await signIn(server.url, ADMIN) });
    bot = await startBot({ token: emulator.token, apiUrl: emulator.apiUrl, serverUrl: server.url, botKey: server.botKey, log: () => {} });
  }, 120_000);
  afterAll(async () => {
    admin?.close();
    await bot?.close().catch(() => {});
    await server?.close();
    await emulator?.close();
  });

  it("the bot answers ephemerally within 3 s; the role is given, the group follows, one audit entry", async () => {
    const picker = guild.staff[0]!.userId;
    const roleId = emulator.createRole(guild.guildId, { name: "Painter" }).id;
    const group = await admin.trpc.groups.create.mutate({ name: "Painters" });
    await admin.trpc.roles.createMapping.mutate({ groupId: group.id, roleId, authority: "discord" });
    const general = (await admin.trpc.roleMenus.channels.query({})).find((c) => c.name === "general")!;
    const menu = await admin.trpc.roleMenus.post.mutate({ channelId: general.id, title: "Crafts", roleIds: [roleId] });

    const id = emulator.clickSelect(guild.guildId, picker, menu.messageId, `rolemenu:${menu.id}`, [roleId]);
    const record = await emulator.waitForInteraction(id, (r) => r.original !== null && r.original.content !== "", 30_000);
    expect(record.delivery).toMatchObject({ via: "gateway" });
    expect(record.acknowledged!.at - record.created_at).toBeLessThan(3_000);
    expect(record.original).toMatchObject({ flags: 64, content: expect.stringContaining("You now have @Painter") });
    expect(emulator.member(guild.guildId, picker)!.roles).toContain(roleId);
    expect((await admin.trpc.groups.members.query({ groupId: group.id })).map((m) => m.discordId)).toEqual([picker]);
    const audit = await admin.trpc.roles.audit.query({ userId: picker });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      outcome: "applied",
      actorKind: "user",
      actorId: `discord:${picker}`,
      rolesAfter: expect.arrayContaining([roleId]),
    });
  }, 60_000);
});
