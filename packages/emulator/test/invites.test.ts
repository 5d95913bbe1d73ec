import type { Invite, TextChannel } from "discord.js";
import { Client, Events, GatewayIntentBits as I } from "discord.js";
import { ChannelType, RESTJSONErrorCodes as Codes } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { AuditAction, EmulatorControl, startEmulator } from "../src/index";
import { responseValidator, withNumericInnerCodes } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;
let general: string;
let category: string;

async function call<T = unknown>(method: string, path: string, body?: unknown, reason?: string): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bot ${emulator.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (reason !== undefined) headers["x-audit-log-reason"] = encodeURIComponent(reason);
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
}

function expectSpec(path: string, method: string, status: number, body: unknown): void {
  const validate = responseValidator(path, method, status);
  if (!validate(withNumericInnerCodes(body)))
    throw new Error(`${method} ${path} ${status} does not match the spec: ${JSON.stringify(validate.errors, null, 1)}`);
}

interface InviteBody {
  code: string;
  expires_at: string | null;
  max_age: number;
  max_uses: number;
  uses: number;
  temporary: boolean;
  channel: { id: string };
  guild: { id: string };
}

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 41, members: 30, staff: 1 });
  const channels = (await call<Array<{ id: string; name: string; type: number }>>("GET", `/guilds/${guild.guildId}/channels`)).body;
  general = channels.find((c) => c.name === "general")!.id;
  category = channels.find((c) => c.type === ChannelType.GuildCategory)!.id;
});
afterAll(() => emulator.close());

describe("POST /channels/{c}/invites", () => {
  it("max_age 0 never expires: a code, https://discord.gg/<code>, the spec's shape, an audit entry and the control API's record", async () => {
    const res = await call<InviteBody>(
      "POST",
      `/channels/${general}/invites`,
      { max_age: 0, max_uses: 0, unique: true },
      "Invite link for members not in the guild",
    );
    expect(res.status).toBe(200);
    expectSpec("/channels/{channel_id}/invites", "post", 200, res.body);
    expect(res.body).toMatchObject({
      max_age: 0,
      max_uses: 0,
      uses: 0,
      temporary: false,
      expires_at: null,
      channel: { id: general },
      guild: { id: guild.guildId },
    });
    expect(res.body.code).toMatch(/^[A-Za-z0-9]{6,16}$/);
    const record = emulator.invites(guild.guildId).find((i) => i.code === res.body.code);
    expect(record).toMatchObject({
      url: `https://discord.gg/${res.body.code}`,
      maxAge: 0,
      expiresAt: null,
      expired: false,
      inviterId: emulator.applicationId,
    });
    expect(emulator.auditLog(guild.guildId, { actionType: AuditAction.InviteCreate })).toEqual([
      expect.objectContaining({ targetId: res.body.code, reason: "Invite link for members not in the guild" }),
    ]);
  });

  it("defaults to 24 hours; without unique the same settings answer the same invite; unique makes a new one", async () => {
    const first = await call<InviteBody>("POST", `/channels/${general}/invites`, {});
    expect(first.body.max_age).toBe(86_400);
    expect(Date.parse(first.body.expires_at!) - Date.now()).toBeGreaterThan(86_000_000);
    const again = await call<InviteBody>("POST", `/channels/${general}/invites`, { max_age: 86_400 });
    expect(again.body.code).toBe(first.body.code);
    const fresh = await call<InviteBody>("POST", `/channels/${general}/invites`, { unique: true });
    expect(fresh.body.code).not.toBe(first.body.code);
  });

  it("errors: 10003 unknown channel, 50024 a category, 50035 naming max_age or max_uses, 50013 without CREATE_INSTANT_INVITE", async () => {
    const unknown = await call("POST", "/channels/100000000000000001/invites", {});
    expect(unknown).toMatchObject({ status: 404, body: { code: Codes.UnknownChannel } });
    expectSpec("/channels/{channel_id}/invites", "post", 404, unknown.body);
    expect(await call("POST", `/channels/${category}/invites`, {})).toMatchObject({
      status: 400,
      body: { code: Codes.CannotExecuteActionOnThisChannelType },
    });
    const age = await call<{ errors: unknown }>("POST", `/channels/${general}/invites`, { max_age: 604_801 });
    expect(age).toMatchObject({ status: 400, body: { code: Codes.InvalidFormBodyOrContentType } });
    expect(age.body.errors).toHaveProperty("max_age");
    expectSpec("/channels/{channel_id}/invites", "post", 400, age.body);
    const uses = await call<{ errors: unknown }>("POST", `/channels/${general}/invites`, { max_uses: 101 });
    expect(uses.body.errors).toHaveProperty("max_uses");

    const locked = emulator.seedGuild({ seed: 42, members: 10, staff: 1 });
    emulator.editRole(locked.guildId, locked.guildId, { permissions: "0" });
    emulator.editRole(locked.guildId, locked.botRoleId, { permissions: "0" });
    const channel = (await call<Array<{ id: string; name: string }>>("GET", `/guilds/${locked.guildId}/channels`)).body.find(
      (c) => c.name === "general",
    )!;
    const denied = await call("POST", `/channels/${channel.id}/invites`, { max_age: 0 });
    expect(denied).toMatchObject({ status: 403, body: { code: Codes.MissingPermissions } });
    expect(emulator.invites(locked.guildId)).toEqual([]);
  });
});

describe("reading and deleting invites", () => {
  it("GET /guilds/{g}/invites and /channels/{c}/invites list them with metadata; GET /invites/{code}; DELETE makes it unknown", async () => {
    const created = (await call<InviteBody>("POST", `/channels/${general}/invites`, { max_age: 3600, max_uses: 5, unique: true })).body;
    const list = await call<InviteBody[]>("GET", `/guilds/${guild.guildId}/invites`);
    expect(list.status).toBe(200);
    expectSpec("/guilds/{guild_id}/invites", "get", 200, list.body);
    expect(list.body.find((i) => i.code === created.code)).toMatchObject({ max_age: 3600, max_uses: 5, uses: 0 });
    const inChannel = await call<InviteBody[]>("GET", `/channels/${general}/invites`);
    expectSpec("/channels/{channel_id}/invites", "get", 200, inChannel.body);
    expect(inChannel.body.map((i) => i.code)).toContain(created.code);
    const one = await call<InviteBody & { approximate_member_count?: number }>("GET", `/invites/${created.code}?with_counts=true`);
    expectSpec("/invites/{code}", "get", 200, one.body);
    expect(one.body.approximate_member_count).toBe(30);
    expect(one.body).not.toHaveProperty("uses");

    expect((await call("DELETE", `/invites/${created.code}`, undefined, "Rotated")).status).toBe(200);
    expect(await call("GET", `/invites/${created.code}`)).toMatchObject({ status: 404, body: { code: Codes.UnknownInvite } });
    expect((await call<InviteBody[]>("GET", `/guilds/${guild.guildId}/invites`)).body.map((i) => i.code)).not.toContain(created.code);
    expect(emulator.invites(guild.guildId).find((i) => i.code === created.code)).toMatchObject({ deleted: true, expired: true });
    expect(emulator.auditLog(guild.guildId, { actionType: AuditAction.InviteDelete })).toEqual([
      expect.objectContaining({ targetId: created.code, reason: "Rotated" }),
    ]);
    expect(await new EmulatorControl(emulator.url).invites(guild.guildId)).toHaveLength(emulator.invites(guild.guildId).length);
  });

  it("discord.js: channel.createInvite({maxAge: 0}) gives a permanent https://discord.gg/ link and an inviteCreate event", async () => {
    const client = new Client({ intents: [I.Guilds, I.GuildInvites], rest: { api: emulator.apiUrl, cdn: emulator.cdnUrl } });
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(emulator.token);
    try {
      await ready;
      const seen = new Promise<Invite>((resolve) => client.once(Events.InviteCreate, resolve));
      const channel = client.channels.cache.get(general) as TextChannel;
      const invite = await channel.createInvite({ maxAge: 0, unique: true, reason: "Permanent invite" });
      expect(invite.url).toBe(`https://discord.gg/${invite.code}`);
      expect(invite.maxAge).toBe(0);
      expect(invite.expiresTimestamp).toBeNull();
      expect((await seen).code).toBe(invite.code);
    } finally {
      await client.destroy();
    }
  });
});
