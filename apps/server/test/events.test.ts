/**
 * The domain event stream and webhook notifications, end to end: a real server (PGlite) whose
 * Discord is the emulator, the bot's member events over tRPC, `events.live` over WebSocket.
 */
import { createClient, ensurePasswordUser, type GuildhallClient } from "@guildhall/api";
import { type Emulator, startEmulator } from "@guildhall/emulator";
import type { DomainEvent } from "@guildhall/sync";
import { Directory } from "@guildhall/sync";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "../src";
import { ADMIN, botClient, codeOf, GUILD_ID, STAFF, signIn, waitFor } from "./helpers";

type Live = { readonly type: "event"; readonly event: DomainEvent } | { readonly type: "reset" };

/** A GUILD_MEMBER_ADD as the bot forwards it. */
const joinOf = (userId: string, guildId = GUILD_ID) => ({
  type: "upsert" as const,
  guildId,
  member: {
    username: `user${userId.slice(-4)}`,
    globalName: null,
    nick: null,
    avatar: null,
    roleIds: [],
    joinedAt: new Date().toISOString(),
    isBot: false,
    pending: false,
    premiumSince: null,
    communicationDisabledUntil: null,
    userId,
  },
});

const userId = (n: number) => `87${String(n).padStart(16, "0")}`;

const whenStarted = () => {
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
  });
  return { onStarted, started };
};

/** Collects `events.live` of `client` into `into`; returns the subscription once the server acknowledged it. */
const follow = async (
  client: GuildhallClient,
  input: { cursor?: string; lastEventId?: string; kinds?: ReadonlyArray<DomainEvent["kind"]> },
  into: Array<{ id: string; data: Live }>,
) => {
  const { onStarted, started } = whenStarted();
  const sub = client.trpc.events.live.subscribe(input, { onStarted, onData: ({ id, data }) => into.push({ id, data }) });
  await started;
  return sub;
};

const eventsOf = (received: ReadonlyArray<{ data: Live }>) => received.flatMap((r) => (r.data.type === "event" ? [r.data.event] : []));

const OTHER_GUILD = "800000000000000002";
const OTHER_ADMIN = { email: "other@test.invalid", password: "another horse battery", name: "Other Admin" };

describe("domain events and webhooks", () => {
  let emulator: Emulator;
  let server: RunningServer;
  let admin: GuildhallClient;
  let other: GuildhallClient;
  let bot: GuildhallClient;
  let channelId: string;
  let emuGuildId: string;

  beforeAll(async () => {
    emulator = await startEmulator();
    const guild = emulator.seedGuild({ seed: 77, members: 10, staff: 2 });
    emuGuildId = guild.guildId;
    const channels = (await (
      await fetch(`${emulator.apiUrl}/v10/guilds/${guild.guildId}/channels`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json()) as Array<{ id: string; name: string; type: number }>;
    channelId = channels.find((c) => c.type === 0)!.id;
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      botKey: "test-bot-key-0123456789abcdef",
      webDist: "/nonexistent",
      discordApiUrl: emulator.apiUrl,
      jobs: { pollingIntervalSeconds: 0.5 },
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        await seedDemoGuild(services, { guildId: GUILD_ID, name: "Test Guild", staff: STAFF });
        // A second organization with its own guild and admin.
        const { id } = await ensurePasswordUser(services.auth, OTHER_ADMIN);
        await services.runtime.runPromise(
          Directory.use((d) =>
            d
              .ensureOrganization({ id: "other", name: "Other", slug: "other" })
              .pipe(
                Effect.andThen(d.ensureGuild("other", { id: OTHER_GUILD, name: "Other Guild", icon: null })),
                Effect.andThen(d.ensureStaff("other", id, "admin", "Administrator")),
              ),
          ),
        );
      },
    });
    admin = createClient({ url: server.url, cookie: await signIn(server) });
    other = createClient({ url: server.url, cookie: await signIn(server, OTHER_ADMIN) });
    bot = botClient(server);
  });
  afterAll(async () => {
    admin?.close();
    other?.close();
    bot?.close();
    await server?.close();
    await emulator?.close();
  });

  it("a subscriber that disconnects while 100 members join resumes with its last id: exactly those 100, in order; a webhook receives the same 100", async () => {
    const hook = emulator.createWebhook(emuGuildId, { channelId, name: "Notices" });
    const created = await admin.trpc.notifications.create.mutate({ name: "Joins", url: hook.webhook.url!, kinds: ["member.joined"] });
    expect(JSON.stringify(created)).not.toContain(hook.webhook.token!);
    expect(JSON.stringify(await admin.trpc.notifications.webhooks.query())).not.toContain(hook.webhook.token!);

    const { events: latest } = await admin.trpc.events.list.query({ limit: 1 });
    const first: Array<{ id: string; data: Live }> = [];
    const sub = await follow(admin, { cursor: String(latest[0]?.id ?? 0) }, first);
    await bot.trpc.bot.memberEvents.mutate({ events: [joinOf(userId(0))] });
    await waitFor(() => (first.length >= 1 ? true : undefined), 5_000, "the first join");
    // Disconnect: the subscription and its WebSocket are gone while 100 members join.
    sub.unsubscribe();
    admin.close();
    const lastId = first.at(-1)!.id;
    for (let i = 1; i <= 100; i += 10) {
      await bot.trpc.bot.memberEvents.mutate({ events: Array.from({ length: 10 }, (_, k) => joinOf(userId(i + k))) });
    }
    admin = createClient({ url: server.url, cookie: await signIn(server) });
    const resumed: Array<{ id: string; data: Live }> = [];
    const again = await follow(admin, { lastEventId: lastId }, resumed);
    await waitFor(() => (resumed.length >= 100 ? true : undefined), 10_000, "the 100 missed joins");
    // A marker after them: anything repeated or extra would show before it.
    await bot.trpc.bot.memberEvents.mutate({ events: [{ type: "remove", guildId: GUILD_ID, userId: userId(0) }] });
    await waitFor(() => (eventsOf(resumed).some((e) => e.kind === "member.left") ? true : undefined), 5_000, "the marker");
    again.unsubscribe();
    const missed = eventsOf(resumed).slice(0, -1);
    expect(missed.map((e) => (e.kind === "member.joined" ? e.payload.userId : e.kind))).toEqual(
      Array.from({ length: 100 }, (_, k) => userId(k + 1)),
    );
    const ids = missed.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[0]).toBeGreaterThan(Number(lastId));
    expect(resumed.map((r) => r.id).slice(0, 100)).toEqual(ids.map(String));

    // The webhook got the 101 joins (only the kind it chose), the same events, once each.
    const joinedIds = [Number(lastId), ...ids];
    await waitFor(() => (emulator.webhook(hook.webhook.id).messages.length >= 101 ? true : undefined), 60_000, "101 webhook messages");
    const messages = emulator.webhook(hook.webhook.id).messages;
    const footers = messages.map((m) => (m as { embeds?: Array<{ footer?: { text: string } }> }).embeds?.[0]?.footer?.text ?? "");
    expect(footers.map((f) => Number(/event (\d+)/.exec(f)?.[1]))).toEqual(joinedIds);
    const page = await admin.trpc.notifications.deliveries.query({ webhookId: created.id, limit: 100 });
    expect(page.deliveries.every((d) => d.status === "delivered")).toBe(true);
  }, 120_000);

  it("filters by kind", async () => {
    const { events: latest } = await admin.trpc.events.list.query({ limit: 1 });
    const left: Array<{ id: string; data: Live }> = [];
    const sub = await follow(admin, { cursor: String(latest[0]!.id), kinds: ["member.left"] }, left);
    await bot.trpc.bot.memberEvents.mutate({
      events: [joinOf(userId(500)), { type: "remove", guildId: GUILD_ID, userId: userId(500) }, joinOf(userId(501))],
    });
    await bot.trpc.bot.memberEvents.mutate({ events: [{ type: "remove", guildId: GUILD_ID, userId: userId(501) }] });
    await waitFor(() => (left.length >= 2 ? true : undefined), 5_000, "two leaves");
    sub.unsubscribe();
    expect(eventsOf(left).map((e) => [e.kind, (e.payload as { userId: string }).userId])).toEqual([
      ["member.left", userId(500)],
      ["member.left", userId(501)],
    ]);
    const listed = await admin.trpc.events.list.query({ kinds: ["member.left"], limit: 2 });
    expect(listed.events.map((e) => e.kind)).toEqual(["member.left", "member.left"]);
  });

  it("another organization's subscriber sees none of these events, and cannot touch its webhooks", async () => {
    const seen: Array<{ id: string; data: Live }> = [];
    const sub = await follow(other, { cursor: "0" }, seen);
    await bot.trpc.bot.memberEvents.mutate({ events: [joinOf(userId(600))] });
    await bot.trpc.bot.memberEvents.mutate({ events: [joinOf(userId(601), OTHER_GUILD)] });
    await waitFor(() => (seen.length >= 1 ? true : undefined), 5_000, "the other organization's join");
    // Its own join arrived after the first organization's: had that leaked, it would be here.
    sub.unsubscribe();
    expect(eventsOf(seen).map((e) => [e.organizationId, (e.payload as { userId: string }).userId])).toEqual([["other", userId(601)]]);
    expect((await other.trpc.events.list.query({})).events.every((e) => e.organizationId === "other")).toBe(true);
    expect(await other.trpc.notifications.webhooks.query()).toEqual([]);
    const [mine] = await admin.trpc.notifications.webhooks.query();
    const refused = await other.trpc.notifications.sendTest.mutate({ id: mine!.id }).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe("NOT_FOUND");
  });

  it("sends a test message, refuses URLs that are not Discord webhooks, and disables a webhook Discord says is unknown", async () => {
    const bad = await admin.trpc.notifications.create
      .mutate({ name: "x", url: "https://example.com/api/webhooks/1234567890123456789/abc", kinds: [] })
      .catch((e: unknown) => e);
    expect(codeOf(bad)).toBe("BAD_REQUEST");
    expect(String((bad as Error).message)).toMatch(/url/);

    const hook = emulator.createWebhook(emuGuildId, { channelId, name: "Doomed" });
    const created = await admin.trpc.notifications.create.mutate({ name: "Doomed", url: hook.webhook.url!, kinds: ["member.joined"] });
    const { deliveryId } = await admin.trpc.notifications.sendTest.mutate({ id: created.id });
    await waitFor(() => (emulator.webhook(hook.webhook.id).messages.length >= 1 ? true : undefined), 10_000, "the test message");

    emulator.deleteWebhook(hook.webhook.id);
    await bot.trpc.bot.memberEvents.mutate({ events: [joinOf(userId(700))] });
    const disabled = await (async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = (await admin.trpc.notifications.webhooks.query()).find((w) => w.id === created.id);
        if (found?.status === "disabled") return found;
        if (Date.now() > deadline) throw new Error("the webhook was not disabled");
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    expect(disabled.disabledReason).toMatch(/10015/);
    const { deliveries } = await admin.trpc.notifications.deliveries.query({ webhookId: created.id });
    expect(deliveries.find((d) => d.id === deliveryId)?.status).toBe("delivered");
    expect(deliveries.find((d) => d.kind === "member.joined")).toMatchObject({ status: "failed" });
    expect(deliveries.find((d) => d.kind === "member.joined")?.lastError).toMatch(/10015/);
    expect(JSON.stringify(deliveries)).not.toContain(hook.webhook.token!);
  }, 60_000);
});
