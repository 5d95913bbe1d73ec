import type { ButtonInteraction, ChatInputCommandInteraction, Interaction } from "discord.js";
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  Events,
  GatewayIntentBits as I,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { startEmulator } from "../src/index";

let emulator: Emulator;
let guild: SeededGuild;
let client: Client<true>;
let plainId: string;

/** The next interactionCreate the client emits for interaction `id`. */
function next<T extends Interaction>(id: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (interaction: Interaction) => {
      if (interaction.id !== id) return;
      client.off(Events.InteractionCreate, listener);
      resolve(interaction as T);
    };
    client.on(Events.InteractionCreate, listener);
  });
}

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 404, members: 300, staff: 4 });
  const c = new Client({ intents: [I.Guilds], rest: { api: emulator.apiUrl, cdn: emulator.cdnUrl } });
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(emulator.token);
  await ready;
  client = c as Client<true>;
  // A member who is neither staff nor admin nor a bot.
  const members = await client.guilds.cache.get(guild.guildId)!.members.list({ limit: 50 });
  plainId = members.find((m) => !m.user.bot && !m.roles.cache.has(guild.staffRoleId) && !m.roles.cache.has(guild.adminRoleId))!.id;
});
afterAll(async () => {
  await client?.destroy();
  await emulator.close();
});

describe("discord.js slash commands against the emulator", () => {
  it("registers guild commands with client.application.commands.set([...], guildId)", async () => {
    const sync = new SlashCommandBuilder()
      .setName("sync")
      .setDescription("Mirror the guild's members now")
      .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
      .addBooleanOption((o) => o.setName("full").setDescription("Re-read everyone").setRequired(true))
      .addUserOption((o) => o.setName("member").setDescription("Only this member"));
    const status = new SlashCommandBuilder().setName("status").setDescription("Show the last sync");
    const set = await client.application.commands.set([sync.toJSON(), status.toJSON()], guild.guildId);
    expect([...set.values()].map((c) => c.name).sort()).toEqual(["status", "sync"]);
    expect(set.find((c) => c.name === "sync")?.defaultMemberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(true);
    expect(emulator.commands(guild.guildId).map((c) => c.name)).toEqual(["sync", "status"]);
    const fetched = await client.application.commands.fetch({ guildId: guild.guildId });
    expect(fetched.size).toBe(2);
  });

  it("an admin's /sync: options, memberPermissions, deferReply({ephemeral}), editReply, followUp", async () => {
    const id = emulator.invokeCommand(guild.guildId, guild.admins[1]!, "sync", { full: true, member: plainId });
    const interaction = await next<ChatInputCommandInteraction>(id);
    expect(interaction.isChatInputCommand()).toBe(true);
    expect(interaction.commandName).toBe("sync");
    expect(interaction.options.getBoolean("full", true)).toBe(true);
    expect(interaction.options.getUser("member")?.id).toBe(plainId);
    expect(interaction.user.id).toBe(guild.admins[1]);
    expect(interaction.guildId).toBe(guild.guildId);
    expect(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(true);
    expect(interaction.memberPermissions?.has(PermissionFlagsBits.Administrator)).toBe(false);

    await interaction.deferReply({ ephemeral: true });
    expect(emulator.interaction(id)).toMatchObject({
      acknowledged: { type: 5 },
      original: { flags: MessageFlags.Ephemeral | MessageFlags.Loading },
    });
    const edited = await interaction.editReply("Synced 299 members");
    expect(edited.content).toBe("Synced 299 members");
    const followUp = await interaction.followUp({ content: "3 joined, 1 left", flags: MessageFlags.Ephemeral });
    expect(followUp.content).toBe("3 joined, 1 left");
    const fetched = await interaction.fetchReply();
    expect(fetched.id).toBe(edited.id);

    const record = await emulator.waitForInteraction(id, (r) => r.followups.length === 1);
    expect(record.original).toMatchObject({ content: "Synced 299 members", flags: MessageFlags.Ephemeral, edits: 1 });
    expect(record.followups[0]).toMatchObject({ content: "3 joined, 1 left", flags: MessageFlags.Ephemeral });
    await expect(interaction.reply("twice")).rejects.toThrow(/already been sent or deferred/);
  });

  it("a non-admin: memberPermissions lacks ManageGuild; reply() answers; a second raw callback is 40060", async () => {
    const id = emulator.invokeCommand(guild.guildId, plainId, "status");
    const interaction = await next<ChatInputCommandInteraction>(id);
    expect(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(false);
    expect(interaction.memberPermissions?.has(PermissionFlagsBits.SendMessages)).toBe(true);
    await interaction.reply({ content: "You need Manage Server", flags: MessageFlags.Ephemeral });
    expect(emulator.interaction(id)).toMatchObject({
      acknowledged: { type: 4 },
      original: { content: "You need Manage Server", flags: MessageFlags.Ephemeral },
    });
    const raw = await fetch(`${emulator.apiUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: 4, data: { content: "again" } }),
    });
    expect(await raw.json()).toEqual({ message: "Interaction has already been acknowledged.", code: 40060 });
  });

  it("buttons: reply with components, clickButton, ButtonInteraction.update() and deferUpdate()+editReply()", async () => {
    const id = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "status");
    const command = await next<ChatInputCommandInteraction>(id);
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId("signup:42").setLabel("Sign up").setStyle(ButtonStyle.Primary),
    );
    const reply = await command.reply({ content: "Event tonight", components: [row], withResponse: true });
    const messageId = reply.resource!.message!.id;
    expect(emulator.interaction(id).original?.id).toBe(messageId);

    const click = emulator.clickButton(guild.guildId, plainId, messageId, "signup:42");
    const button = await next<ButtonInteraction>(click);
    expect(button.isButton()).toBe(true);
    expect(button.customId).toBe("signup:42");
    expect(button.message.id).toBe(messageId);
    expect(button.user.id).toBe(plainId);
    await button.update({ content: "Event tonight (1 signed up)" });
    expect(emulator.interaction(click).original).toMatchObject({ id: messageId, content: "Event tonight (1 signed up)", edits: 1 });

    const again = emulator.clickButton(guild.guildId, guild.admins[1]!, messageId, "signup:42");
    const second = await next<ButtonInteraction>(again);
    await second.deferUpdate();
    await second.editReply({ content: "Event tonight (2 signed up)" });
    const record = await emulator.waitForInteraction(again, (r) => r.original?.content.includes("2 signed up") ?? false);
    expect(record).toMatchObject({ acknowledged: { type: 6 }, original: { id: messageId, edits: 2 } });
  });
});
