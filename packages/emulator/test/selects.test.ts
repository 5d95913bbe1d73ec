import type { KeyObject } from "node:crypto";
import { createPublicKey, verify } from "node:crypto";
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Interaction, RoleSelectMenuInteraction, StringSelectMenuInteraction } from "discord.js";
import { Client, Events, GatewayIntentBits as I, MessageFlags, PermissionFlagsBits } from "discord.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { responseValidator, withNumericInnerCodes } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;
let client: Client<true>;
let general: string;
/** Self-assignable roles of the menu, and the member who picks. */
let menuRoles: string[];
let picker: string;

const V2 = 1 << 15;

async function post<T = unknown>(path: string, body: unknown, method = "POST"): Promise<{ status: number; body: T }> {
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, {
    method,
    headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A role menu as Guildhall posts it: a container with a heading, a section with a button, a string select and a role select. */
function roleMenu(): Record<string, unknown> {
  return {
    flags: V2,
    components: [
      {
        type: 17,
        accent_color: 0x5865f2,
        components: [
          { type: 10, content: "## Pick your roles" },
          {
            type: 9,
            components: [{ type: 10, content: "Roles follow your groups in the app." }],
            accessory: { type: 2, style: 2, custom_id: "rolemenu:help", label: "How it works" },
          },
          {
            type: 1,
            components: [
              {
                type: 3,
                custom_id: "rolemenu:pick",
                placeholder: "Choose roles",
                min_values: 0,
                max_values: menuRoles.length,
                options: menuRoles.map((id, i) => ({ label: `Role ${i}`, value: id, description: "A group role" })),
              },
            ],
          },
          { type: 1, components: [{ type: 6, custom_id: "rolemenu:any", max_values: 2 }] },
        ],
      },
    ],
  };
}

/** Every interaction the discord.js client emitted, by id (control API calls may be answered after the client got it). */
const seen = new Map<string, Interaction>();

/** The interaction the discord.js client emitted (or emits) for interaction `id`. */
async function next<T extends Interaction>(id: string): Promise<T> {
  await vi.waitFor(() => expect(seen.has(id)).toBe(true), { timeout: 5_000, interval: 5 });
  return seen.get(id) as T;
}

function expectFormError(res: { status: number; body: unknown }, path: string[]): void {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: 50035 });
  let node = (res.body as { errors: Record<string, unknown> }).errors;
  for (const key of path) {
    expect(node, `errors.${path.join(".")}`).toHaveProperty(key);
    node = node[key] as Record<string, unknown>;
  }
  const validate = responseValidator("/channels/{channel_id}/messages", "post", 400);
  expect(validate(withNumericInnerCodes(res.body)), JSON.stringify(validate.errors)).toBe(true);
}

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 51, members: 40, staff: 2 });
  const c = new Client({ intents: [I.Guilds, I.GuildMembers], rest: { api: emulator.apiUrl, cdn: emulator.cdnUrl } });
  c.on(Events.InteractionCreate, (interaction) => seen.set(interaction.id, interaction));
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(emulator.token);
  await ready;
  client = c as Client<true>;
  general = client.guilds.cache.get(guild.guildId)!.channels.cache.find((ch) => ch.name === "general")!.id;
  menuRoles = guild.roles.filter((r) => ["Artist", "Developer", "Streamer"].includes(r.name)).map((r) => r.id);
  const members = await client.guilds.cache.get(guild.guildId)!.members.fetch();
  picker = members.find(
    (m) => !m.user.bot && m.id !== guild.ownerId && !guild.admins.includes(m.id) && !menuRoles.some((r) => m.roles.cache.has(r)),
  )!.id;
});
afterAll(async () => {
  await client?.destroy();
  await emulator?.close();
});

describe("Components V2 messages", () => {
  it("a container with text, a section, a string select and a role select: 200 in the spec's shape, the flag kept on edits", async () => {
    const res = await post<{ id: string; flags: number; components: Array<{ type: number; id: number }> }>(
      `/channels/${general}/messages`,
      roleMenu(),
    );
    expect(res.status).toBe(200);
    const validate = responseValidator("/channels/{channel_id}/messages", "post", 200);
    expect(validate(res.body), JSON.stringify(validate.errors)).toBe(true);
    expect(res.body.flags & V2).toBe(V2);
    expect(res.body.components[0]).toMatchObject({ type: 17, id: 1 });
    // Once set the flag stays, even when an edit sends other flags.
    const edited = await post<{ flags: number }>(`/channels/${general}/messages/${res.body.id}`, { flags: 0 }, "PATCH");
    expect(edited.status).toBe(200);
    expect(edited.body.flags & V2).toBe(V2);
    expectFormError(await post(`/channels/${general}/messages/${res.body.id}`, { content: "hi" }, "PATCH"), ["content"]);
  });

  it("refuses what Discord refuses, naming the field", async () => {
    const text = (content: string) => ({ type: 10, content });
    const menu = roleMenu();
    expectFormError(await post(`/channels/${general}/messages`, { ...menu, content: "Pick" }), ["content"]);
    expectFormError(await post(`/channels/${general}/messages`, { ...menu, embeds: [{ title: "x" }] }), ["embeds"]);
    const many = Array.from({ length: 41 }, (_, i) => text(`line ${i}`));
    expectFormError(await post(`/channels/${general}/messages`, { flags: V2, components: many }), ["components"]);
    const twoSelects = {
      type: 1,
      components: [
        { type: 6, custom_id: "a" },
        { type: 6, custom_id: "b" },
      ],
    };
    expectFormError(await post(`/channels/${general}/messages`, { flags: V2, components: [twoSelects] }), [
      "components",
      "0",
      "components",
    ]);
    const options = Array.from({ length: 26 }, (_, i) => ({ label: `o${i}`, value: `v${i}` }));
    const bigSelect = { type: 1, components: [{ type: 3, custom_id: "big", options }] };
    expectFormError(await post(`/channels/${general}/messages`, { flags: V2, components: [bigSelect] }), [
      "components",
      "0",
      "components",
      "0",
      "options",
    ]);
    const dupes = { type: 1, components: [{ type: 3, custom_id: "d", options: [options[0], options[0]] }] };
    expectFormError(await post(`/channels/${general}/messages`, { flags: V2, components: [dupes] }), [
      "components",
      "0",
      "components",
      "0",
      "options",
      "1",
      "value",
    ]);
    const bare = { type: 9, components: [text("no accessory")] };
    expectFormError(await post(`/channels/${general}/messages`, { flags: V2, components: [bare] }), ["components", "0", "accessory"]);
    const sameIds = {
      type: 1,
      components: [
        { type: 2, style: 1, custom_id: "same", label: "A" },
        { type: 2, style: 1, custom_id: "same", label: "B" },
      ],
    };
    expectFormError(await post(`/channels/${general}/messages`, { flags: V2, components: [sameIds] }), [
      "components",
      "0",
      "components",
      "1",
      "custom_id",
    ]);
    // Without the flag only action rows may sit at the top.
    expectFormError(await post(`/channels/${general}/messages`, { components: [text("legacy")] }), ["components", "0", "type"]);
  });
});

describe("choosing in a select", () => {
  it("over the gateway: discord.js gets a StringSelectMenuInteraction with the values, grants the roles, answers ephemerally", async () => {
    const message = (await post<{ id: string }>(`/channels/${general}/messages`, roleMenu())).body;
    const picked = [menuRoles[0]!, menuRoles[2]!];
    const id = emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:pick", picked);
    const interaction = await next<StringSelectMenuInteraction>(id);
    expect(interaction.isStringSelectMenu()).toBe(true);
    expect(interaction.customId).toBe("rolemenu:pick");
    expect(interaction.values).toEqual(picked);
    expect(interaction.message.id).toBe(message.id);
    // The seeded bot holds ADMINISTRATOR: the app has every permission, MANAGE_ROLES included.
    expect(interaction.appPermissions.has("ManageRoles")).toBe(true);
    const member = await interaction.guild!.members.fetch(interaction.user.id);
    await member.roles.add(interaction.values, "Role menu");
    await interaction.reply({ content: "Roles updated", flags: MessageFlags.Ephemeral });

    const record = await emulator.waitForInteraction(id, (r) => r.acknowledged !== null);
    expect(record).toMatchObject({
      type: 3,
      custom_id: "rolemenu:pick",
      values: picked,
      message_id: message.id,
      delivery: { via: "gateway" },
    });
    expect(record.acknowledged?.type).toBe(4);
    expect(record.acknowledged!.at - record.created_at).toBeLessThan(3_000);
    expect(record.original?.flags).toBe(MessageFlags.Ephemeral);
    for (const role of picked) expect(emulator.member(guild.guildId, picker)!.roles).toContain(role);
    expect(emulator.auditLog(guild.guildId, { targetId: picker })).toEqual([expect.objectContaining({ reason: "Role menu" })]);
  });

  it("a role select: resolved roles, and the interaction updates the message", async () => {
    const message = (await post<{ id: string }>(`/channels/${general}/messages`, roleMenu())).body;
    const id = emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:any", [menuRoles[1]!]);
    const interaction = await next<RoleSelectMenuInteraction>(id);
    expect(interaction.isRoleSelectMenu()).toBe(true);
    expect(interaction.values).toEqual([menuRoles[1]]);
    expect(interaction.roles.first()?.id).toBe(menuRoles[1]);
    await interaction.deferUpdate();
    const record = await emulator.waitForInteraction(id, (r) => r.acknowledged !== null);
    expect(record.acknowledged?.type).toBe(6);
    expect(record.original?.id).toBe(message.id);

    // app_permissions are the bot's own: without MANAGE_ROLES on its role the app sees it lacks it.
    emulator.editRole(guild.guildId, guild.botRoleId, { permissions: String(PermissionFlagsBits.ManageNicknames) });
    try {
      const again = await next<RoleSelectMenuInteraction>(
        emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:any", [menuRoles[1]!]),
      );
      expect(again.appPermissions.has("ManageRoles")).toBe(false);
      expect(again.appPermissions.has("ManageNicknames")).toBe(true);
      await again.deferUpdate();
    } finally {
      emulator.editRole(guild.guildId, guild.botRoleId, { permissions: String(PermissionFlagsBits.Administrator) });
    }
  });

  it("refuses choices the select does not offer, too many or too few, and ids that are not selects (400 naming the field)", async () => {
    const message = (await post<{ id: string }>(`/channels/${general}/messages`, roleMenu())).body;
    expect(() => emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:pick", ["not-a-role"])).toThrow(/values\[0\]/);
    expect(() => emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:any", menuRoles)).toThrow(/between 1 and 2/);
    expect(() => emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:any", [])).toThrow(/between 1 and 2/);
    expect(() => emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:any", ["100000000000000001"])).toThrow(/not a role/);
    expect(() => emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:any", [guild.guildId])).toThrow(/values\[0\]/);
    expect(() => emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:help", [])).toThrow(/not a select menu/);
    expect(() => emulator.clickSelect(guild.guildId, picker, "100000000000000002", "rolemenu:pick", [])).toThrow(/messageId/);
    const control = new EmulatorControl(emulator.url);
    await expect(control.clickSelect(guild.guildId, picker, message.id, "rolemenu:pick", ["nope"])).rejects.toBeInstanceOf(
      EmulatorControlError,
    );
    // An empty choice is allowed where min_values is 0 (unpicking everything), through the control API too.
    const unpick = await control.clickSelect(guild.guildId, picker, message.id, "rolemenu:pick", []);
    const interaction = await next<StringSelectMenuInteraction>(unpick);
    expect(interaction.values).toEqual([]);
    await interaction.deferUpdate();
  });
});

describe("choosing in a select, delivered to the interactions endpoint", () => {
  let server: Server;
  const received: Array<{ verified: boolean; body: Record<string, unknown> }> = [];

  beforeAll(async () => {
    const key: KeyObject = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(emulator.publicKey, "hex")]),
      format: "der",
      type: "spki",
    });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        let verified = false;
        try {
          verified = verify(
            null,
            Buffer.from(String(req.headers["x-signature-timestamp"]) + raw),
            key,
            Buffer.from(String(req.headers["x-signature-ed25519"]), "hex"),
          );
        } catch {
          verified = false;
        }
        res.setHeader("content-type", "application/json");
        if (!verified) {
          res.writeHead(401);
          res.end("{}");
          return;
        }
        const body = JSON.parse(raw) as Record<string, unknown> & { type: number; data?: { values?: string[] } };
        received.push({ verified, body });
        res.writeHead(200);
        res.end(
          JSON.stringify(
            body.type === 1 ? { type: 1 } : { type: 4, data: { content: `Picked ${body.data?.values?.length ?? 0}`, flags: 64 } },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const verdict = await emulator.setInteractionsEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}/interactions`);
    expect(verdict.ok).toBe(true);
  });
  afterAll(async () => {
    await emulator.setInteractionsEndpoint(null);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("the signed POST carries type 3 with data.values; the endpoint's answer is the response", async () => {
    const message = (await post<{ id: string }>(`/channels/${general}/messages`, roleMenu())).body;
    const id = emulator.clickSelect(guild.guildId, picker, message.id, "rolemenu:pick", [menuRoles[1]!]);
    const record = await emulator.waitForInteraction(id, (r) => r.original !== null);
    expect(record.original?.content).toBe("Picked 1");
    expect(record.delivery).toMatchObject({ via: "http", status: 200, error: null });
    const delivered = received.find((r) => r.body.id === id)!;
    expect(delivered.verified).toBe(true);
    expect(delivered.body).toMatchObject({
      type: 3,
      guild_id: guild.guildId,
      data: { custom_id: "rolemenu:pick", component_type: 3, values: [menuRoles[1]] },
      message: { id: message.id },
      member: { user: { id: picker } },
    });
  });
});
