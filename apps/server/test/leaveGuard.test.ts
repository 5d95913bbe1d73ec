/**
 * The mass-leave guard over the API: a bot's complete snapshot that would mark too many members
 * left is held (`awaiting_confirmation`, live on members.progress); admins confirm or discard it
 * with members.confirmSync / members.discardSync, set its share with members.updateSettings;
 * everyone else is refused with typed errors.
 */
import { createClient, ensurePasswordUser, type GuildhallClient } from "@guildhall/api";
import { Directory } from "@guildhall/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src";
import { botClient, codeOf, GUILD_ID, signIn, staffClient, startTestServer, waitFor } from "./helpers";

type Run = Awaited<ReturnType<GuildhallClient["trpc"]["members"]["history"]["query"]>>[number];

const member = (n: number) => ({
  userId: String(730_000_000_000_000_000n + BigInt(n)),
  username: `guarded${n}`,
  globalName: null,
  nick: null,
  avatar: null,
  roleIds: [],
  joinedAt: "2024-05-01T00:00:00.000Z",
  isBot: false,
  pending: false,
  premiumSince: null,
  communicationDisabledUntil: null,
});
const members = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => member(from + i));

describe("the mass-leave guard over the API", () => {
  let server: RunningServer;
  let admin: GuildhallClient;
  let bot: GuildhallClient;
  let moderator: GuildhallClient;

  /** A whole snapshot of `snapshot` from the bot, in one chunk; returns the final run. */
  const snapshot = async (list: ReturnType<typeof members>) => {
    const run = await bot.trpc.bot.syncBegin.mutate({ guildId: GUILD_ID, trigger: "api", source: "gateway", requestedBy: null, roles: [] });
    await bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 0, chunkCount: 1, members: list });
    return bot.trpc.bot.syncComplete.mutate({ runId: run.id });
  };
  const leftCount = async () => (await admin.trpc.members.comparison.query({ category: "guild_only" })).counts;

  beforeAll(async () => {
    server = await startTestServer();
    admin = await staffClient(server);
    bot = botClient(server);
    const credentials = { email: "guard-moderator@test.invalid", password: "a moderator's password", name: "Mo Derator" };
    const user = await ensurePasswordUser(server.auth, credentials);
    await server.runtime.runPromise(Directory.use((d) => d.ensureStaff("default", user.id, "staff")));
    moderator = createClient({ url: server.url, cookie: await signIn(server, credentials) });
  });
  afterAll(async () => {
    admin?.close();
    bot?.close();
    moderator?.close();
    await server?.close();
  });

  it("settings: 10% by default, admins set 0 to 100, others are refused", async () => {
    expect(await admin.trpc.members.settings.query({})).toMatchObject({ leaveGuardPercent: 10, leaveGuardFloor: 10 });
    const saved = await admin.trpc.members.updateSettings.mutate({
      syncIntervalMinutes: null,
      syncAdminRoleId: null,
      leaveGuardPercent: 20,
    });
    expect(saved).toMatchObject({ leaveGuardPercent: 20, leaveGuardFloor: 10 });
    // Left out: unchanged.
    expect(await admin.trpc.members.updateSettings.mutate({ syncIntervalMinutes: 60, syncAdminRoleId: null })).toMatchObject({
      syncIntervalMinutes: 60,
      leaveGuardPercent: 20,
    });
    expect(await moderator.trpc.members.settings.query({})).toMatchObject({ syncIntervalMinutes: 60, leaveGuardPercent: 20 });
    for (const bad of [101, -1, 2.5]) {
      const error = await admin.trpc.members.updateSettings
        .mutate({ syncIntervalMinutes: null, syncAdminRoleId: null, leaveGuardPercent: bad })
        .catch((e: unknown) => e);
      expect(codeOf(error), String(bad)).toBe("BAD_REQUEST");
      expect((error as Error).message).toContain("leaveGuardPercent");
    }
    const refused = await moderator.trpc.members.updateSettings
      .mutate({ syncIntervalMinutes: null, syncAdminRoleId: null, leaveGuardPercent: 100 })
      .catch((e: unknown) => e);
    expect(codeOf(refused)).toBe("FORBIDDEN");
    await admin.trpc.members.updateSettings.mutate({ syncIntervalMinutes: null, syncAdminRoleId: null });
  });

  it("a held snapshot is live on members.progress; an admin confirms it, exactly once; others are refused", async () => {
    expect(await snapshot(members(0, 60))).toMatchObject({ status: "completed", created: 60 });
    const before = await leftCount();

    const events: Run[] = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const subscription = admin.trpc.members.progress.subscribe({}, { onStarted: () => started(), onData: ({ data }) => events.push(data) });
    await ready;

    const held = await snapshot(members(30, 60));
    expect(held).toMatchObject({ status: "awaiting_confirmation", markedLeft: 0, pendingLeft: 30, presentMembers: 60 });
    await waitFor(() => events.find((e) => e.id === held.id && e.status === "awaiting_confirmation"), 10_000, "the held run, live");
    expect(await leftCount()).toEqual(before);

    const forbidden = await moderator.trpc.members.confirmSync.mutate({ runId: held.id }).catch((e: unknown) => e);
    expect(codeOf(forbidden)).toBe("FORBIDDEN");
    const badId = await admin.trpc.members.confirmSync.mutate({ runId: "not-a-uuid" }).catch((e: unknown) => e);
    expect(codeOf(badId)).toBe("BAD_REQUEST");
    expect((badId as Error).message).toContain("runId");
    const unknown = await admin.trpc.members.confirmSync.mutate({ runId: crypto.randomUUID() }).catch((e: unknown) => e);
    expect(codeOf(unknown)).toBe("NOT_FOUND");

    const confirmed = await admin.trpc.members.confirmSync.mutate({ runId: held.id });
    expect(confirmed).toMatchObject({ id: held.id, status: "completed", markedLeft: 30 });
    await waitFor(() => events.find((e) => e.id === held.id && e.status === "completed"), 10_000, "the decision, live");
    subscription.unsubscribe();
    const after = await leftCount();
    expect(after.left).toBe(before.left);
    expect(after.guild_only).toBe(before.guild_only - 30);
    const twice = await admin.trpc.members.discardSync.mutate({ runId: held.id }).catch((e: unknown) => e);
    expect(codeOf(twice)).toBe("CONFLICT");
    expect((twice as Error).message).toContain("completed");
  });

  it("an admin discards one: nobody is marked left; the legacy endpoint's snapshot is held the same way", async () => {
    const before = await leftCount();
    const held = await snapshot(members(45, 60));
    expect(held).toMatchObject({ status: "awaiting_confirmation", pendingLeft: 15 });
    expect(await admin.trpc.members.discardSync.mutate({ runId: held.id })).toMatchObject({ status: "discarded", markedLeft: 0 });
    expect(await leftCount()).toEqual(before);

    const legacy = await fetch(`${server.url}/api/dbot/sync_guild_members`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.botKey, "x-guild-id": GUILD_ID },
      body: JSON.stringify({
        members: members(50, 60).map((m) => ({ id: m.userId, username: m.username, roles: [], joined_at: m.joinedAt, is_bot: false })),
      }),
    });
    expect(legacy.status).toBe(200);
    expect(await legacy.json()).toMatchObject({ marked_left: 0 });
    const [latest] = await admin.trpc.members.history.query({});
    expect(latest).toMatchObject({ source: "legacy", status: "awaiting_confirmation", pendingLeft: 20 });
  });
});
