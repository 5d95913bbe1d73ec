/**
 * Role menus and invite links end to end, through the server and the Discord emulator: an admin
 * posts a role menu (a Components V2 message) in a channel; an emulated member picks and unpicks
 * roles in it, delivered signed to the server's interactions endpoint; they get the role, their
 * group membership follows, one audit entry per change; a role at or above the bot's highest is
 * refused with the reason in the ephemeral reply. Invites: created with no expiry in a channel
 * where the bot may, or pasted; shown for linked users the plan blocks as "not in guild".
 */
import { createClient, type GuildhallClient } from "@guildhall/api";
import { Database, schema } from "@guildhall/db";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "../src";
import { ADMIN, codeOf, signIn } from "./helpers";

const PICKER = "870000000000000001";
const ABSENT = "870000000000000002";
const V2 = 1 << 15;

describe("role menus through the emulator and the interactions endpoint", () => {
  let emulator: Emulator;
  let seeded: SeededGuild;
  let server: RunningServer;
  let admin: GuildhallClient;
  let general: string;
  const role = { artist: "", streamer: "", host: "" };
  const group = { artists: "", streamers: "", hosts: "" };
  let menuId = "";
  let messageId = "";

  const rest = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${emulator.apiUrl}/v10${path}`, { headers: { authorization: `Bot ${emulator.token}` } })).json()) as T;

  /** The member picks `values` in the menu; resolves to the interaction's record once its reply is there. */
  const pick = async (values: string[]) => {
    const id = emulator.clickSelect(seeded.guildId, PICKER, messageId, `rolemenu:${menuId}`, values);
    return emulator.waitForInteraction(id, (r) => r.original !== null && r.original.content !== "");
  };
  const groupMembers = async (groupId: string) => (await admin.trpc.groups.members.query({ groupId })).map((m) => m.discordId);
  const auditOfPicker = () => admin.trpc.roles.audit.query({ userId: PICKER });

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    seeded = emulator.seedGuild({ seed: 77, members: 10, name: "Menu Guild" });
    emulator.addMember(seeded.guildId, { userId: PICKER, username: "picker", globalName: "Pia Picker", roles: [] });
    role.artist = emulator.createRole(seeded.guildId, { name: "Artist" }).id;
    role.streamer = emulator.createRole(seeded.guildId, { name: "Streamer" }).id;
    role.host = emulator.createRole(seeded.guildId, { name: "Host" }).id;
    general = (await rest<Array<{ id: string; name: string }>>(`/guilds/${seeded.guildId}/channels`)).find((c) => c.name === "general")!.id;
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      botKey: "test-bot-key-0123456789abcdef",
      webDist: "/nonexistent",
      firstSightSync: false,
      discord: { token: emulator.token, api: emulator.apiUrl },
      // Interaction follow-ups (editing a deferred reply) go to the emulator too.
      discordApiUrl: emulator.apiUrl,
      discordPublicKey: emulator.publicKey,
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        await seedDemoGuild(services, {
          guildId: seeded.guildId,
          name: "Menu Guild",
          staff: [
            { discordId: PICKER, name: "Pia Picker", handle: "pia" },
            { discordId: ABSENT, name: "Abe Absent", handle: "abe" },
          ],
        });
      },
    });
    admin = createClient({ url: server.url, cookie: await signIn(server) });
    const verdict = await emulator.setInteractionsEndpoint(`${server.url}/api/interactions`);
    expect(verdict.ok).toBe(true);

    group.artists = (await admin.trpc.groups.create.mutate({ name: "Artists" })).id;
    group.streamers = (await admin.trpc.groups.create.mutate({ name: "Streamers" })).id;
    group.hosts = (await admin.trpc.groups.create.mutate({ name: "Hosts" })).id;
    await admin.trpc.roles.createMapping.mutate({ groupId: group.artists, roleId: role.artist, authority: "discord" });
    await admin.trpc.roles.createMapping.mutate({ groupId: group.streamers, roleId: role.streamer, authority: "both" });
    await admin.trpc.roles.createMapping.mutate({ groupId: group.hosts, roleId: role.host, authority: "app" });
  }, 120_000);
  afterAll(async () => {
    admin?.close();
    await server?.close();
    await emulator?.close();
  });

  it("offers only roles mapped to discord/both groups, and refuses the others when posting", async () => {
    const offered = await admin.trpc.roleMenus.selfAssignable.query({});
    expect(offered.map((r) => r.roleId).sort()).toEqual([role.artist, role.streamer].sort());
    expect(offered.find((r) => r.roleId === role.artist)).toMatchObject({
      name: "Artist",
      problem: null,
      groups: [{ groupId: group.artists, groupName: "Artists", authority: "discord" }],
    });
    await expect(
      admin.trpc.roleMenus.post.mutate({ channelId: general, title: "Roles", roleIds: [role.artist, role.host] }),
    ).rejects.toSatisfy((e) => codeOf(e) === "BAD_REQUEST" && /not mapped to a group whose authority is discord or both/.test(String(e)));
    await expect(admin.trpc.roleMenus.post.mutate({ channelId: seeded.guildId, title: "Roles", roleIds: [role.artist] })).rejects.toSatisfy(
      (e) => codeOf(e) === "NOT_FOUND",
    );
    expect(await admin.trpc.roleMenus.list.query({})).toEqual([]);
  });

  it("posts a Components V2 message with a multi-select of the roles, and records it", async () => {
    const menu = await admin.trpc.roleMenus.post.mutate({
      channelId: general,
      title: "Pick your roles",
      roleIds: [role.artist, role.streamer],
    });
    menuId = menu.id;
    messageId = menu.messageId;
    expect(menu).toMatchObject({ guildId: seeded.guildId, channelId: general, roleIds: [role.artist, role.streamer] });
    expect(await admin.trpc.roleMenus.list.query({})).toEqual([menu]);
    const message = await rest<{ flags: number; components: Array<{ type: number; components: Array<Record<string, unknown>> }> }>(
      `/channels/${general}/messages/${messageId}`,
    );
    expect(message.flags & V2).toBe(V2);
    expect(message.components[0]!.type).toBe(17);
    const row = message.components[0]!.components.find((c) => c.type === 1) as { components: Array<Record<string, unknown>> };
    expect(row.components[0]).toMatchObject({
      type: 3,
      custom_id: `rolemenu:${menuId}`,
      min_values: 0,
      max_values: 2,
      options: [
        { label: "Artist", value: role.artist },
        { label: "Streamer", value: role.streamer },
      ],
    });
  });

  it("a member picks a role: an ephemeral reply within 3 s, the role on Discord, the group follows, one audit entry", async () => {
    const record = await pick([role.artist]);
    expect(record.delivery).toMatchObject({ via: "http", status: 200 });
    expect(record.acknowledged!.at - record.created_at).toBeLessThan(3_000);
    expect(record.original?.flags).toBe(64);
    expect(record.original?.content).toContain("You now have @Artist");
    expect(record.original?.content).toContain("Joined the group(s) Artists");
    expect(emulator.member(seeded.guildId, PICKER)!.roles).toEqual([role.artist]);
    expect(emulator.auditLog(seeded.guildId, { targetId: PICKER }).at(-1)?.reason).toContain(`Guildhall role menu ${menuId}`);
    expect(await groupMembers(group.artists)).toEqual([PICKER]);
    const audit = await auditOfPicker();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorKind: "user",
      actorId: `discord:${PICKER}`,
      outcome: "applied",
      rolesBefore: [],
      rolesAfter: [role.artist],
      discordStatus: 200,
    });
  });

  it("picking a both-authority role too, then unpicking both: roles and groups follow, one entry per change", async () => {
    const both = await pick([role.artist, role.streamer]);
    expect(both.original?.content).toContain("You now have @Streamer");
    expect(emulator.member(seeded.guildId, PICKER)!.roles.sort()).toEqual([role.artist, role.streamer].sort());
    expect(await groupMembers(group.streamers)).toEqual([PICKER]);

    const none = await pick([]);
    expect(none.original?.content).toMatch(/Removed @(Artist, @Streamer|Streamer, @Artist)/);
    expect(emulator.member(seeded.guildId, PICKER)!.roles).toEqual([]);
    expect(await groupMembers(group.artists)).toEqual([]);
    expect(await groupMembers(group.streamers)).toEqual([]);
    const audit = await auditOfPicker();
    expect(audit.map((a) => a.outcome)).toEqual(["applied", "applied", "applied"]);
    expect(audit[0]).toMatchObject({ rolesBefore: expect.arrayContaining([role.artist, role.streamer]), rolesAfter: [] });

    // The same choice again changes nothing and writes nothing.
    const again = await pick([]);
    expect(again.original?.content).toMatch(/nothing changed/);
    expect(await auditOfPicker()).toHaveLength(3);
  });

  it("a role at or above the bot's highest role is refused with the reason, and the refusal is audited", async () => {
    const position = emulator.roles(seeded.guildId).find((r) => r.id === role.streamer)!.position;
    emulator.editRole(seeded.guildId, role.streamer, { position: 250 });
    try {
      const record = await pick([role.streamer]);
      expect(record.original?.flags).toBe(64);
      expect(record.original?.content).toContain("Not changed: @Streamer: the role is at or above the bot's highest role");
      expect(emulator.member(seeded.guildId, PICKER)!.roles).toEqual([]);
      expect(await groupMembers(group.streamers)).toEqual([]);
      const [refusal] = await auditOfPicker();
      expect(refusal).toMatchObject({ outcome: "blocked", rolesAfter: [`+${role.streamer}`], actorId: `discord:${PICKER}` });
      expect(refusal!.reason).toContain("at or above the bot's highest role");
      // The admin sees the problem before posting another menu with it.
      const offered = await admin.trpc.roleMenus.selfAssignable.query({});
      expect(offered.find((r) => r.roleId === role.streamer)?.problem).toMatch(/at or above the bot's highest role/);
    } finally {
      emulator.editRole(seeded.guildId, role.streamer, { position });
    }
  });

  it("a role deleted on Discord after the menu was posted is refused with the reason", async () => {
    const gone = emulator.createRole(seeded.guildId, { name: "Gone" }).id;
    const goners = await admin.trpc.groups.create.mutate({ name: "Goners" });
    await admin.trpc.roles.createMapping.mutate({ groupId: goners.id, roleId: gone, authority: "discord" });
    const menu = await admin.trpc.roleMenus.post.mutate({ channelId: general, title: "Soon gone", roleIds: [gone] });
    emulator.deleteRole(seeded.guildId, gone);
    const id = emulator.clickSelect(seeded.guildId, PICKER, menu.messageId, `rolemenu:${menu.id}`, [gone]);
    const record = await emulator.waitForInteraction(id, (r) => r.original !== null && r.original.content !== "");
    expect(record.original?.content).toContain("the mapped role was deleted");
    expect(await groupMembers(goners.id)).toEqual([]);
    const [refusal] = await auditOfPicker();
    expect(refusal).toMatchObject({ outcome: "blocked", rolesAfter: [`+${gone}`] });
    await admin.trpc.roleMenus.remove.mutate({ menuId: menu.id });
  });

  it("a change that waits for Discord's rate limit is answered within 3 s by an ephemeral deferral, then the reply edits it", async () => {
    emulator.setRateLimits({ memberRoles: { limit: 1, windowMs: 4_000 } });
    emulator.resetRateLimits();
    try {
      expect((await pick([role.artist])).original?.content).toContain("You now have @Artist");
      const record = await emulator.waitForInteraction(
        emulator.clickSelect(seeded.guildId, PICKER, messageId, `rolemenu:${menuId}`, []),
        (r) => r.original !== null && r.original.content !== "",
        15_000,
      );
      expect(record.acknowledged).toMatchObject({ type: 5 });
      expect(record.acknowledged!.at - record.created_at).toBeLessThan(3_000);
      expect(record.original).toMatchObject({ flags: 64, content: expect.stringContaining("Removed @Artist") });
      expect(emulator.member(seeded.guildId, PICKER)!.roles).toEqual([]);
    } finally {
      emulator.setRateLimits({ memberRoles: { limit: 10, windowMs: 10_000 } });
      emulator.resetRateLimits();
    }
  }, 30_000);

  it("a member flagged for flapping is left alone, their own picks included, with the reason", async () => {
    const flag = (flaggedAt: Date | null) =>
      server.runtime.runPromise(
        Database.use(({ db }) =>
          Effect.promise(() =>
            db
              .insert(schema.roleMemberStates)
              .values({ guildId: seeded.guildId, userId: PICKER, flaggedAt })
              .onConflictDoUpdate({ target: [schema.roleMemberStates.guildId, schema.roleMemberStates.userId], set: { flaggedAt } }),
          ),
        ),
      );
    await flag(new Date());
    try {
      const record = await pick([role.artist]);
      expect(record.original?.content).toContain("Not changed: @Artist: the member's roles flapped");
      expect(emulator.member(seeded.guildId, PICKER)!.roles).toEqual([]);
      expect((await auditOfPicker())[0]).toMatchObject({ outcome: "blocked", rolesAfter: [`+${role.artist}`] });
    } finally {
      await flag(null);
    }
  });

  it("a removed menu answers its member with a notice and changes nothing", async () => {
    const extra = await admin.trpc.roleMenus.post.mutate({ channelId: general, title: "", roleIds: [role.artist] });
    await admin.trpc.roleMenus.remove.mutate({ menuId: extra.id });
    await expect(admin.trpc.roleMenus.remove.mutate({ menuId: extra.id })).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");
    expect((await admin.trpc.roleMenus.list.query({})).map((m) => m.id)).toEqual([menuId]);
    const before = (await auditOfPicker()).length;
    // Its message is gone on Discord: the emulator refuses a click on it, like Discord.
    expect(() => emulator.clickSelect(seeded.guildId, PICKER, extra.messageId, `rolemenu:${extra.id}`, [role.artist])).toThrow();
    expect((await auditOfPicker()).length).toBe(before);
  });
});

describe("the guild's invite link", () => {
  let emulator: Emulator;
  let seeded: SeededGuild;
  let server: RunningServer;
  let admin: GuildhallClient;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    seeded = emulator.seedGuild({ seed: 78, members: 5, name: "Invite Guild" });
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      botKey: "test-bot-key-0123456789abcdef",
      webDist: "/nonexistent",
      firstSightSync: false,
      discord: { token: emulator.token, api: emulator.apiUrl },
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        await seedDemoGuild(services, {
          guildId: seeded.guildId,
          name: "Invite Guild",
          staff: [{ discordId: ABSENT, name: "Abe Absent", handle: "abe" }],
        });
      },
    });
    admin = createClient({ url: server.url, cookie: await signIn(server) });
  }, 120_000);
  afterAll(async () => {
    admin?.close();
    await server?.close();
    await emulator?.close();
  });

  it("the plan blocks a linked user who is not in the guild with the reason 'not in guild'", async () => {
    const hosts = await admin.trpc.groups.create.mutate({ name: "Hosts" });
    const absent = (await admin.trpc.members.searchUsers.query({ query: "Abe", limit: 5 })).find((u) => u.discordId === ABSENT)!;
    await admin.trpc.groups.addUsers.mutate({ groupId: hosts.id, userIds: [absent.id] });
    const roleId = emulator.createRole(seeded.guildId, { name: "Host" }).id;
    await admin.trpc.roles.createMapping.mutate({ groupId: hosts.id, roleId, authority: "app" });
    const preview = await admin.trpc.roles.preview.query({});
    expect(preview.blocked).toContainEqual(expect.objectContaining({ userId: ABSENT, reason: "not-in-guild", sentence: "not in guild" }));
  });

  it("creates a permanent invite in a channel where the bot may, through the Discord port; the same one again", async () => {
    expect(await admin.trpc.roleMenus.invite.query({})).toBeNull();
    const channels = await admin.trpc.roleMenus.channels.query({});
    const general = channels.find((c) => c.name === "general")!;
    expect(general).toMatchObject({ canPost: true, canInvite: true });
    const invite = await admin.trpc.roleMenus.createInvite.mutate({ channelId: general.id });
    expect(invite).toMatchObject({ guildId: seeded.guildId, channelId: general.id, source: "created" });
    expect(invite.url).toBe(`https://discord.gg/${invite.code}`);
    expect(emulator.invites(seeded.guildId)).toEqual([
      expect.objectContaining({ code: invite.code, maxAge: 0, maxUses: 0, expiresAt: null, channelId: general.id }),
    ]);
    // Not unique: Discord answers the live invite with the same settings.
    expect((await admin.trpc.roleMenus.createInvite.mutate({ channelId: general.id })).code).toBe(invite.code);
    expect(emulator.invites(seeded.guildId)).toHaveLength(1);
    expect(await admin.trpc.roleMenus.invite.query({})).toMatchObject({ code: invite.code, source: "created" });
  });

  it("refuses a channel where the bot lacks Create Instant Invite, naming the permission", async () => {
    // The bot's role and @everyone without Create Instant Invite (1 << 0).
    const everyone = emulator.roles(seeded.guildId).find((r) => r.id === seeded.guildId)!.permissions;
    emulator.editRole(seeded.guildId, seeded.guildId, { permissions: String(BigInt(everyone) & ~1n) });
    emulator.editRole(seeded.guildId, seeded.botRoleId, { permissions: String((1n << 10n) | (1n << 11n) | (1n << 28n)) });
    try {
      const general = (await admin.trpc.roleMenus.channels.query({})).find((c) => c.name === "general")!;
      expect(general).toMatchObject({ canPost: true, canInvite: false });
      await expect(admin.trpc.roleMenus.createInvite.mutate({ channelId: general.id })).rejects.toSatisfy(
        (e) => codeOf(e) === "PRECONDITION_FAILED" && /Create Instant Invite/.test(String(e)),
      );
    } finally {
      emulator.editRole(seeded.guildId, seeded.botRoleId, { permissions: String(1n << 3n) });
      emulator.editRole(seeded.guildId, seeded.guildId, { permissions: everyone });
    }
  });

  it("takes a pasted link or code, refuses anything else, and clears", async () => {
    expect(await admin.trpc.roleMenus.setInvite.mutate({ link: "https://discord.com/invite/Abc-123" })).toMatchObject({
      code: "Abc-123",
      url: "https://discord.gg/Abc-123",
      source: "pasted",
      channelId: null,
    });
    expect((await admin.trpc.roleMenus.setInvite.mutate({ link: " discord.gg/xyz789 " }))?.code).toBe("xyz789");
    for (const bad of ["https://evil.example/invite/abc", "javascript:alert(1)", "a b"])
      await expect(admin.trpc.roleMenus.setInvite.mutate({ link: bad })).rejects.toSatisfy((e) => codeOf(e) === "BAD_REQUEST");
    expect(await admin.trpc.roleMenus.setInvite.mutate({ link: null })).toBeNull();
    expect(await admin.trpc.roleMenus.invite.query({})).toBeNull();
  });
});
