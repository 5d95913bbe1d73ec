import type { APIChannel, APIGuildMember, APIMessage, RESTPostAPIInteractionCallbackWithResponseResult } from "discord-api-types/v10";
import { GatewayIntentBits as I, PermissionFlagsBits } from "discord-api-types/v10";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, InteractionRecord, SeededGuild } from "../src/index";
import { EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { asCommand, RawGateway, responseValidator, sleep } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;
let control: EmulatorControl;
const open: RawGateway[] = [];

const RESPONSE_WINDOW_MS = 400;
const TOKEN_TTL_MS = 1_500;

beforeAll(async () => {
  emulator = await startEmulator({ interactionResponseWindowMs: RESPONSE_WINDOW_MS, interactionTokenTtlMs: TOKEN_TTL_MS });
  guild = emulator.seedGuild({ seed: 77, members: 200, staff: 5 });
  control = new EmulatorControl(emulator.url);
  const res = await api("PUT", `/applications/${emulator.applicationId}/guilds/${guild.guildId}/commands`, [
    {
      name: "sync",
      description: "Mirror members",
      default_member_permissions: String(PermissionFlagsBits.ManageGuild),
      options: [
        { type: 5, name: "full", description: "Everything", required: true },
        { type: 6, name: "member", description: "Just one" },
      ],
    },
    {
      name: "roles",
      description: "Role tools",
      options: [
        { type: 1, name: "show", description: "Show a role", options: [{ type: 8, name: "role", description: "Which", required: true }] },
      ],
    },
    {
      name: "pick",
      description: "Pick",
      options: [
        {
          type: 3,
          name: "color",
          description: "c",
          choices: [
            { name: "Red", value: "red" },
            { name: "Blue", value: "blue" },
          ],
        },
      ],
    },
  ]);
  expect(res.status).toBe(200);
});
afterEach(() => {
  for (const gw of open.splice(0)) gw.close();
});
afterAll(() => emulator.close());

/** A REST call (as the bot unless `auth` is false); `body` is the parsed JSON answer, typed by the caller (unchecked). */
async function api<T = unknown>(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = `Bot ${emulator.token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

async function bot(intents: number = I.Guilds): Promise<RawGateway> {
  const gw = await RawGateway.connect(emulator.gatewayUrl);
  open.push(gw);
  await gw.identify(emulator.token, intents);
  return gw;
}

function expectSpec(specPath: string, method: string, status: number, body: unknown): void {
  const validate = responseValidator(specPath, method, status);
  if (!validate(body)) throw new Error(`${method} ${specPath} does not match the spec: ${JSON.stringify(validate.errors, null, 1)}`);
}

const admin = () => guild.admins[1]!;
/** A member without the Staff or Admin role (found in the first test). */
let plainId = "";

describe("seeded permissions", () => {
  it("Admin role (MANAGE_GUILD) for the first two non-bot members, owner is the first member", () => {
    expect(guild.admins).toHaveLength(2);
    expect(guild.ownerId).toBe(guild.admins[0]);
    expect(guild.roles.find((r) => r.id === guild.adminRoleId)?.name).toBe("Admin");
    for (const id of guild.admins) expect(emulator.member(guild.guildId, id)?.roles).toContain(guild.adminRoleId);
    const staffOnly = guild.staff.find((s) => !guild.admins.includes(s.userId))!;
    expect(emulator.member(guild.guildId, staffOnly.userId)?.roles).not.toContain(guild.adminRoleId);
  });
});

describe("INTERACTION_CREATE for a slash command", () => {
  it("goes to the application's sessions without any intent, with Discord's interaction shape", async () => {
    const gw = await bot(0);
    // A non-admin, non-staff, non-bot member for later tests.
    plainId = (await api<APIGuildMember[]>("GET", `/guilds/${guild.guildId}/members?limit=100`)).body.find(
      (m) => !m.user.bot && !m.roles.includes(guild.staffRoleId) && !m.roles.includes(guild.adminRoleId),
    )!.user.id;
    const id = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true, member: plainId });
    const frame = await gw.dispatch("INTERACTION_CREATE");
    const d = asCommand(frame.d);
    const commandId = emulator.commands(guild.guildId).find((c) => c.name === "sync")!.id;
    expect(d).toMatchObject({
      id,
      application_id: emulator.applicationId,
      type: 2,
      version: 1,
      guild_id: guild.guildId,
      guild: { id: guild.guildId, features: [], locale: "en-US" },
      guild_locale: "en-US",
      locale: "en-US",
      context: 0,
      entitlements: [],
      authorizing_integration_owners: { "0": guild.guildId },
      data: {
        id: commandId,
        name: "sync",
        type: 1,
        guild_id: guild.guildId,
        options: [
          { name: "full", type: 5, value: true },
          { name: "member", type: 6, value: plainId },
        ],
      },
      member: { user: { id: admin() }, roles: expect.arrayContaining([guild.adminRoleId]) },
    });
    expect(d.token).toMatch(/^[A-Za-z0-9_-]{60,}$/);
    expect(d.channel_id).toBe(d.channel?.id);
    expect(d.channel?.name).toBe("general");
    expect(d.data.resolved?.users?.[plainId]?.id).toBe(plainId);
    expect(d.data.resolved?.members?.[plainId]).toBeDefined();
    expect(d.data.resolved?.members?.[plainId]).not.toHaveProperty("user");
    const perms = BigInt(d.member.permissions);
    expect(perms & PermissionFlagsBits.ManageGuild).toBe(PermissionFlagsBits.ManageGuild);
    expect(perms & PermissionFlagsBits.Administrator).toBe(0n);
    expect(typeof d.app_permissions).toBe("string");
    expect(emulator.interaction(id)).toMatchObject({
      id,
      type: 2,
      user_id: admin(),
      command: "sync",
      options: { full: true, member: plainId },
      acknowledged: null,
      original: null,
      followups: [],
    });
  });

  it("computes permissions from @everyone and roles; the owner has all; subcommands and role options resolve", async () => {
    const gw = await bot(0);
    emulator.invokeCommand(guild.guildId, plainId, "roles show", { role: guild.staffRoleId });
    const d = asCommand((await gw.dispatch("INTERACTION_CREATE")).d);
    expect(BigInt(d.member.permissions) & PermissionFlagsBits.ManageGuild).toBe(0n);
    expect(BigInt(d.member.permissions) & PermissionFlagsBits.SendMessages).toBe(PermissionFlagsBits.SendMessages);
    expect(d.data.options).toEqual([{ type: 1, name: "show", options: [{ name: "role", type: 8, value: guild.staffRoleId }] }]);
    expect(d.data.resolved?.roles?.[guild.staffRoleId]?.name).toBe("Staff");
    emulator.invokeCommand(guild.guildId, guild.ownerId, "roles show", { role: guild.adminRoleId });
    const owner = (await gw.dispatch("INTERACTION_CREATE", (x) => x.member.user.id === guild.ownerId)).d;
    expect(BigInt(owner.member.permissions) & PermissionFlagsBits.Administrator).toBe(PermissionFlagsBits.Administrator);
  });

  it("rejects unknown commands, members, options and missing permissions, naming the field", () => {
    const cases: Array<[() => unknown, number, RegExp]> = [
      [() => emulator.invokeCommand(guild.guildId, admin(), "nope"), 400, /command \/nope/],
      [() => emulator.invokeCommand(guild.guildId, "123456789012345678", "sync", { full: true }), 400, /userId/],
      [() => emulator.invokeCommand(guild.guildId, admin(), "sync", {}), 400, /options\.full is required/],
      [() => emulator.invokeCommand(guild.guildId, admin(), "sync", { full: "yes" }), 400, /options\.full must be a boolean/],
      [() => emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true, extra: 1 }), 400, /options\.extra/],
      [() => emulator.invokeCommand(guild.guildId, admin(), "pick", { color: "green" }), 400, /options\.color must be one of/],
      [() => emulator.invokeCommand(guild.guildId, admin(), "roles"), 400, /needs a subcommand: show/],
      [() => emulator.invokeCommand(guild.guildId, plainId, "sync", { full: true }), 403, /default_member_permissions/],
      [() => emulator.invokeCommand("123456789012345678", admin(), "sync"), 404, /Unknown Guild/],
    ];
    for (const [act, status, message] of cases) {
      let caught: { status?: number; message?: string } | undefined;
      try {
        act();
      } catch (err) {
        caught = err as { status?: number; message?: string };
      }
      expect(caught?.status, String(message)).toBe(status);
      expect(caught?.message).toMatch(message);
    }
    expect(emulator.invokeCommand(guild.guildId, plainId, "sync", { full: false }, { ignoreCommandPermissions: true })).toMatch(/^[0-9]+$/);
  });
});

describe("responding", () => {
  const callback = <T = unknown>(d: { id: string; token: string }, body: unknown, query = "") =>
    api<T>("POST", `/interactions/${d.id}/${d.token}/callback${query}`, body, false);

  it("type 4: 204, recorded; a second callback is 400 / 40060; a wrong token is 404 / 10062", async () => {
    const gw = await bot(0);
    const id = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const d = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === id)).d;
    expect(await api("POST", `/interactions/${id}/wrong-token/callback`, { type: 4, data: { content: "x" } }, false)).toEqual({
      status: 404,
      body: { message: "Unknown interaction", code: 10062 },
    });
    const first = await callback(d, { type: 4, data: { content: "Synced 199 members", flags: 64 } });
    expect(first.status).toBe(204);
    const again = await callback(d, { type: 4, data: { content: "again" } });
    expect(again).toEqual({ status: 400, body: { message: "Interaction has already been acknowledged.", code: 40060 } });
    const record = emulator.interaction(id);
    expect(record.acknowledged?.type).toBe(4);
    expect(record.original).toMatchObject({
      content: "Synced 199 members",
      flags: 64,
      edits: 0,
      deleted: false,
      type: 20,
      webhook_id: emulator.applicationId,
    });
    expect(record.original?.interaction_metadata).toMatchObject({ id, type: 2, user: { id: admin() }, name: "sync" });
    const original = await api<APIMessage>("GET", `/webhooks/${emulator.applicationId}/${d.token}/messages/@original`, undefined, false);
    expectSpec("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "get", 200, original.body);
    expect(original.body.id).toBe(record.original?.id);
  });

  it("a first callback after the response window is 404 / 10062; an empty message is 50006; bad types are 50035", async () => {
    const gw = await bot(0);
    const late = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const lateD = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === late)).d;
    const early = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const earlyD = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === early)).d;
    expect((await callback(earlyD, { type: 4, data: { content: "" } })).body).toEqual({
      message: "Cannot send an empty message",
      code: 50006,
    });
    expect((await callback(earlyD, { type: 7, data: { content: "x" } })).body).toMatchObject({
      code: 50035,
      errors: { type: { _errors: [{ code: "BASE_TYPE_CHOICES" }] } },
    });
    expect((await callback(earlyD, { type: 4, data: { content: "x".repeat(2001) } })).body).toMatchObject({
      code: 50035,
      errors: { content: {} },
    });
    await sleep(RESPONSE_WINDOW_MS + 50);
    expect(await callback(lateD, { type: 4, data: { content: "too late" } })).toEqual({
      status: 404,
      body: { message: "Unknown interaction", code: 10062 },
    });
    expect(emulator.interaction(late).acknowledged).toBeNull();
  });

  it("type 5 (ephemeral), then edit @original, a follow-up, and with_response", async () => {
    const gw = await bot(0);
    const id = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const d = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === id)).d;
    const deferred = await callback<RESTPostAPIInteractionCallbackWithResponseResult>(
      d,
      { type: 5, data: { flags: 64 } },
      "?with_response=true",
    );
    expect(deferred.status).toBe(200);
    expectSpec("/interactions/{interaction_id}/{interaction_token}/callback", "post", 200, deferred.body);
    expect(deferred.body.interaction).toMatchObject({ id, type: 2, response_message_loading: true, response_message_ephemeral: true });
    let record = emulator.interaction(id);
    expect(record.original).toMatchObject({ content: "", flags: 64 | 128, edits: 0 });

    const hook = `/webhooks/${emulator.applicationId}/${d.token}`;
    const edited = await api(
      "PATCH",
      `${hook}/messages/@original`,
      { content: "Synced: 3 joined, 1 left", embeds: [{ title: "Summary" }] },
      false,
    );
    expect(edited.status).toBe(200);
    expectSpec("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "patch", 200, edited.body);
    expect(edited.body).toMatchObject({ content: "Synced: 3 joined, 1 left", flags: 64, embeds: [{ title: "Summary" }] });
    const followup = await api<APIMessage>("POST", hook, { content: "Details follow", flags: 64 }, false);
    expect(followup.status).toBe(200);
    expectSpec("/webhooks/{webhook_id}/{webhook_token}", "post", 200, followup.body);
    const followupEdit = await api<APIMessage>("PATCH", `${hook}/messages/${followup.body.id}`, { content: "Details" }, false);
    expect(followupEdit.body.content).toBe("Details");

    record = emulator.interaction(id);
    expect(record.acknowledged).toEqual({ type: 5, at: expect.any(Number) });
    expect(record.original).toMatchObject({ content: "Synced: 3 joined, 1 left", edits: 1 });
    expect(record.followups).toHaveLength(1);
    expect(record.followups[0]).toMatchObject({ id: followup.body.id, content: "Details", flags: 64, edits: 1 });

    expect((await api("DELETE", `${hook}/messages/@original`, undefined, false)).status).toBe(204);
    expect(emulator.interaction(id).original?.deleted).toBe(true);
    expect((await api("GET", `${hook}/messages/@original`, undefined, false)).body).toEqual({ message: "Unknown Message", code: 10008 });
  });

  it("a follow-up right after a defer edits the loading message (Discord's legacy behaviour)", async () => {
    const gw = await bot(0);
    const id = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const d = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === id)).d;
    await callback(d, { type: 5 });
    const res = await api<APIMessage>("POST", `/webhooks/${emulator.applicationId}/${d.token}`, { content: "Done" }, false);
    const record = emulator.interaction(id);
    expect(res.body.id).toBe(record.original?.id);
    expect(record.original).toMatchObject({ content: "Done", flags: 0 });
    expect(record.followups).toEqual([]);
  });

  it("webhook tokens: unknown 404 / 10015, not yet acknowledged 404 / 10015, expired 401 / 50027", async () => {
    const gw = await bot(0);
    expect((await api("POST", `/webhooks/${emulator.applicationId}/not-a-token`, { content: "x" }, false)).body).toEqual({
      message: "Unknown Webhook",
      code: 10015,
    });
    const id = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const d = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === id)).d;
    expect((await api("POST", `/webhooks/${emulator.applicationId}/${d.token}`, { content: "x" }, false)).status).toBe(404);
    await callback(d, { type: 4, data: { content: "ok" } });
    await sleep(TOKEN_TTL_MS + 50);
    expect(await api("PATCH", `/webhooks/${emulator.applicationId}/${d.token}/messages/@original`, { content: "late" }, false)).toEqual({
      status: 401,
      body: { message: "Invalid Webhook Token", code: 50027 },
    });
  });
});

describe("buttons", () => {
  const row = (customId: string, extra: Record<string, unknown> = {}) => ({
    type: 1,
    components: [{ type: 2, style: 1, label: "Join", custom_id: customId, ...extra }],
  });

  it("click a button on a reply: type 3 with the message; UPDATE_MESSAGE edits it; DEFERRED_UPDATE then @original edits it", async () => {
    const gw = await bot(0);
    const id = emulator.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const d = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === id)).d;
    await api(
      "POST",
      `/interactions/${d.id}/${d.token}/callback`,
      { type: 4, data: { content: "Sign up?", components: [row("signup:1"), row("leave:1", { disabled: true })] } },
      false,
    );
    const messageId = emulator.interaction(id).original!.id;

    const click = emulator.clickButton(guild.guildId, plainId, messageId, "signup:1");
    const c = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === click)).d;
    expect(c).toMatchObject({
      type: 3,
      data: { custom_id: "signup:1", component_type: 2 },
      message: { id: messageId, content: "Sign up?" },
      member: { user: { id: plainId } },
    });
    expect(
      (await api("POST", `/interactions/${c.id}/${c.token}/callback`, { type: 7, data: { content: "1 signed up" } }, false)).status,
    ).toBe(204);
    const afterClick = emulator.interaction(click);
    expect(afterClick).toMatchObject({ type: 3, custom_id: "signup:1", message_id: messageId, command: null, acknowledged: { type: 7 } });
    expect(afterClick.original).toMatchObject({ id: messageId, content: "1 signed up", edits: 1 });
    expect(afterClick.original?.edited_timestamp).not.toBeNull();

    const second = emulator.clickButton(guild.guildId, admin(), messageId, "signup:1");
    const s = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === second)).d;
    await api("POST", `/interactions/${s.id}/${s.token}/callback`, { type: 6 }, false);
    await api("PATCH", `/webhooks/${emulator.applicationId}/${s.token}/messages/@original`, { content: "2 signed up" }, false);
    expect(emulator.interaction(second).original).toMatchObject({ id: messageId, content: "2 signed up", edits: 2 });

    expect(() => emulator.clickButton(guild.guildId, plainId, messageId, "nope")).toThrow(/customId "nope"/);
    expect(() => emulator.clickButton(guild.guildId, plainId, messageId, "leave:1")).toThrow(/disabled/);
    expect(() => emulator.clickButton(guild.guildId, plainId, "123456789012345678", "signup:1")).toThrow(/messageId/);
  });

  it("clicks work on messages the bot posted with POST /channels/{id}/messages", async () => {
    const gw = await bot(0);
    const general = (await api<APIChannel[]>("GET", `/guilds/${guild.guildId}/channels`)).body.find((ch) => ch.name === "general")!;
    const posted = await api<APIMessage>("POST", `/channels/${general.id}/messages`, {
      content: "Event tonight",
      components: [row("rsvp:9")],
    });
    expect(posted.status).toBe(200);
    expectSpec("/channels/{channel_id}/messages", "post", 200, posted.body);
    const click = emulator.clickButton(guild.guildId, plainId, posted.body.id, "rsvp:9");
    const c = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === click)).d;
    expect(c.channel_id).toBe(general.id);
    await api("POST", `/interactions/${c.id}/${c.token}/callback`, { type: 4, data: { content: "You're in", flags: 64 } }, false);
    expect(emulator.interaction(click).original).toMatchObject({ content: "You're in", flags: 64 });
    expect((await api<APIMessage>("GET", `/channels/${general.id}/messages/${posted.body.id}`)).body.content).toBe("Event tonight");
  });
});

describe("control API", () => {
  it("POST /_emulator/guilds/:g/interactions, GET /_emulator/interactions/:id, waitForInteraction", async () => {
    const gw = await bot(0);
    const id = await control.invokeCommand(guild.guildId, admin(), "sync", { full: true });
    const d = (await gw.dispatch("INTERACTION_CREATE", (x) => x.id === id)).d;
    const waiting = control.waitForInteraction(id, (r) => r.original?.content.includes("Synced") ?? false, 3_000);
    const local = emulator.waitForInteraction(id, (r) => r.original?.content.includes("Synced") ?? false, 3_000);
    await api("POST", `/interactions/${d.id}/${d.token}/callback`, { type: 5 }, false);
    await api("PATCH", `/webhooks/${emulator.applicationId}/${d.token}/messages/@original`, { content: "Synced 199" }, false);
    const [remote, same] = await Promise.all([waiting, local]);
    expect(remote.original?.content).toBe("Synced 199");
    expect(same).toEqual(remote);
    expect(await control.interaction(id)).toEqual(emulator.interaction(id) as InteractionRecord);

    await expect(emulator.waitForInteraction(id, (r) => r.followups.length > 0, 100)).rejects.toThrow(
      /timed out after 100 ms.*"followups":\[\]/,
    );
    const errors: Array<[() => Promise<unknown>, number, RegExp]> = [
      [() => control.invokeCommand(guild.guildId, admin(), "missing"), 400, /command/],
      [() => control.invokeCommand(guild.guildId, "123456789012345678", "sync", { full: true }), 400, /userId/],
      [() => control.invokeCommand(guild.guildId, plainId, "sync", { full: true }), 403, /default_member_permissions/],
      [() => control.clickButton(guild.guildId, admin(), "123456789012345678", "x"), 400, /messageId/],
      [() => control.interaction("123"), 404, /Unknown interaction/],
    ];
    for (const [act, status, message] of errors) {
      const err = await act().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EmulatorControlError);
      expect((err as EmulatorControlError).status).toBe(status);
      expect((err as EmulatorControlError).message).toMatch(message);
    }
  });
});
