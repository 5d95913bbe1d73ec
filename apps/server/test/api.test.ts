import { createClient, ensurePasswordUser, type GuildhallClient, type RosterEvent } from "@guildhall/api";
import { Directory } from "@guildhall/sync";
import type { TRPCClientError } from "@trpc/client";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ORGANIZATION, type RunningServer } from "../src";
import { botClient, codeOf, GUILD_ID, presence, STAFF, signIn, staffClient, startTestServer, waitFor } from "./helpers";

const ADA = STAFF[0]!.discordId!;
const GRACE = STAFF[1]!.discordId!;

/** Every presence change in `events`, in order. */
const changesOf = (events: ReadonlyArray<RosterEvent>) => events.flatMap((e) => (e.type === "presences" ? e.changes : []));

/**
 * A subscription's `onStarted` callback, and a promise that resolves when the server has
 * acknowledged the subscription (tRPC's `started` message): wait on it instead of sleeping.
 */
const whenStarted = () => {
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
  });
  return { onStarted, started };
};

describe("server", () => {
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: GuildhallClient;

  beforeAll(async () => {
    server = await startTestServer();
    staff = await staffClient(server);
    bot = botClient(server);
  });
  afterAll(async () => {
    staff?.close();
    bot?.close();
    await server?.close();
  });

  it("answers /healthz with the database kind", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, database: "pglite" });
  });

  it("serves the public config the SPA needs, and nothing secret", async () => {
    const config = await (await fetch(`${server.url}/api/config`)).json();
    // The test server has a Discord OAuth2 client (one client for installs and sign-in), so Discord sign-in is offered.
    expect(config).toEqual({ discordCdnUrl: "https://cdn.discordapp.com", discordSignIn: true });
    expect(JSON.stringify(config)).not.toContain("test-client-secret");
  });

  it("refuses every procedure without a session: UNAUTHORIZED", async () => {
    const anonymous = botClient(server, "");
    try {
      await expect(anonymous.trpc.roster.list.query({})).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
      await expect(anonymous.trpc.bot.status.query()).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
      await expect(anonymous.trpc.session.me.query()).rejects.toSatisfy((e) => codeOf(e) === "UNAUTHORIZED");
    } finally {
      anonymous.close();
    }
  });

  it("refuses a wrong bot key, and a staff session is no bot key", async () => {
    const impostor = botClient(server, "not-the-bot-key-0123456789");
    try {
      await expect(impostor.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "online")] })).rejects.toSatisfy(
        (e) => codeOf(e) === "UNAUTHORIZED",
      );
      await expect(staff.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "online")] })).rejects.toSatisfy(
        (e) => codeOf(e) === "UNAUTHORIZED",
      );
    } finally {
      impostor.close();
    }
  });

  it("answers bad input with BAD_REQUEST naming the field", async () => {
    const bad = { ...presence(ADA, "online"), userId: "not-a-snowflake" };
    const error = await bot.trpc.bot.pushPresences.mutate({ updates: [presence(GRACE, "idle"), bad] }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe("BAD_REQUEST");
    expect((error as Error).message).toContain("updates.1.userId");
    expect((error as TRPCClientError<never>).data).toMatchObject({ issues: [{ path: "updates.1.userId" }] });

    const status = await bot.trpc.bot.pushPresences
      .mutate({ updates: [{ ...presence(ADA, "online"), status: "busy" as never }] })
      .catch((e: unknown) => e);
    expect(codeOf(status)).toBe("BAD_REQUEST");
    expect((status as Error).message).toContain("updates.0.status");

    const empty = await bot.trpc.bot.pushPresences.mutate({ updates: [] }).catch((e: unknown) => e);
    expect(codeOf(empty)).toBe("BAD_REQUEST");
    expect((empty as Error).message).toContain("updates");

    const guild = await staff.trpc.roster.list.query({ guildId: "12ab" }).catch((e: unknown) => e);
    expect(codeOf(guild)).toBe("BAD_REQUEST");
    expect((guild as Error).message).toContain("guildId");
  });

  it("lists the roster: linked staff with presence, unlinked staff as not linked", async () => {
    await bot.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "dnd", "In a meeting")] });
    const roster = await staff.trpc.roster.list.query({});
    expect(roster.guild).toEqual({ id: GUILD_ID, name: "Test Guild" });
    const byName = new Map(roster.entries.map((e) => [e.name, e]));
    expect(byName.get("Ada Lovelace")).toMatchObject({
      linked: true,
      discordId: ADA,
      presence: { status: "dnd", customStatus: "In a meeting" },
    });
    expect(byName.get("Nobody Linked")).toMatchObject({ linked: false, discordId: null, presence: null });
    expect(byName.get("Test Admin")).toMatchObject({ role: "admin", linked: false });
    const me = await staff.trpc.session.me.query();
    expect(me.staff?.role).toBe("admin");
  });

  it("roster.live delivers staff changes only, and resumes after the last tracked id", async () => {
    const { cursor } = await staff.trpc.roster.list.query({});
    const received: Array<{ id: string; event: RosterEvent }> = [];
    const firstStart = whenStarted();
    const first = staff.trpc.roster.live.subscribe(
      { cursor: String(cursor) },
      { onStarted: firstStart.onStarted, onData: ({ id, data }) => received.push({ id, event: data }) },
    );
    await firstStart.started;
    // Two batches: the first one alone, then a non-staff change (filtered out) with Grace's.
    await bot.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "online")] });
    await bot.trpc.bot.pushPresences.mutate({ updates: [presence("899999999999999999", "online"), presence(GRACE, "idle")] });
    await waitFor(() => (received.length >= 2 ? true : undefined), 5_000, "two batches");
    first.unsubscribe();
    expect(received.map((r) => changesOf([r.event]).map((c) => c.userId))).toEqual([[ADA], [GRACE]]);
    expect(received[0]!.id).toBe(String(changesOf([received[0]!.event])[0]!.id));

    // Missed while away: two changes. A client resuming from the first event's id gets the
    // second one again, then both missed changes, in order, nothing twice.
    await bot.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "offline"), presence(GRACE, "dnd", "Focus")] });
    const resumed: Array<{ id: string; event: RosterEvent }> = [];
    const second = staff.trpc.roster.live.subscribe(
      { cursor: String(cursor), lastEventId: received[0]!.id },
      { onData: ({ id, data }) => resumed.push({ id, event: data }) },
    );
    await waitFor(() => (changesOf(resumed.map((r) => r.event)).length >= 3 ? true : undefined), 5_000, "resumed events");
    // Nothing may come twice: a later change marks the end, and everything before it is checked.
    await bot.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "online", "marker")] });
    await waitFor(
      () => (changesOf(resumed.map((r) => r.event)).some((c) => c.customStatus === "marker") ? true : undefined),
      5_000,
      "the marker change",
    );
    second.unsubscribe();
    const replayed = changesOf(resumed.map((r) => r.event));
    expect(replayed.map((c) => [c.userId, c.status])).toEqual([
      [GRACE, "idle"],
      [ADA, "offline"],
      [GRACE, "dnd"],
      [ADA, "online"],
    ]);
    const ids = replayed.map((c) => c.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[0]).toBeGreaterThan(Number(received[0]!.id));
    expect(resumed.at(-1)!.id).toBe(String(ids.at(-1)));
  });

  it("queues a staff-triggered resync for the bot's command subscription", async () => {
    const commands: Array<{ kind: string; userIds: ReadonlyArray<string> }> = [];
    const start = whenStarted();
    const sub = bot.trpc.bot.commands.subscribe(
      {},
      {
        onStarted: start.onStarted,
        onData: ({ data }) => data.kind === "presence.resync" && commands.push({ kind: data.kind, userIds: data.payload.userIds }),
      },
    );
    await start.started;
    const result = await staff.trpc.roster.resync.mutate({});
    expect(result.userCount).toBe(2);
    await waitFor(() => (commands.some((c) => c.kind === "presence.resync") ? true : undefined), 5_000, "resync command");
    sub.unsubscribe();
    expect(commands.at(-1)?.userIds.toSorted()).toEqual([ADA, GRACE].toSorted());
  });

  it("reports the bot's health from its heartbeats", async () => {
    await bot.trpc.bot.heartbeat.mutate({
      shardId: 0,
      shardCount: 1,
      status: "Ready",
      connected: true,
      pingMs: 42,
      guilds: [{ id: GUILD_ID, name: "Test Guild", icon: null }],
      lastEventAt: Date.now(),
      startedAt: Date.now() - 5_000,
    });
    const status = await staff.trpc.bot.status.query();
    expect(status).toMatchObject({ isRunning: true, guildId: GUILD_ID, pingMs: 42 });
    expect(status.shards[0]).toMatchObject({ shardId: 0, status: "Ready" });
  });

  it("links a user's Discord id (admin only), answering CONFLICT for a taken id and NOT_FOUND for an unknown user", async () => {
    const me = await staff.trpc.session.me.query();
    const free = "820000000000000001";
    await expect(staff.trpc.members.setDiscordId.mutate({ userId: me.user.id, discordId: free })).resolves.toEqual({
      userId: me.user.id,
      discordId: free,
    });
    // Ada's id belongs to Ada.
    const taken = await staff.trpc.members.setDiscordId.mutate({ userId: me.user.id, discordId: ADA }).catch((e: unknown) => e);
    expect(codeOf(taken)).toBe("CONFLICT");
    expect((taken as Error).message).toBe("Another user is already linked to that Discord id.");
    const unknown = await staff.trpc.members.setDiscordId
      .mutate({ userId: "no-such-user", discordId: "820000000000000002" })
      .catch((e: unknown) => e);
    expect(codeOf(unknown)).toBe("NOT_FOUND");
    expect((unknown as Error).message).toBe("No such user.");
    await staff.trpc.members.setDiscordId.mutate({ userId: me.user.id, discordId: null });
    const roster = await staff.trpc.roster.list.query({});
    expect(roster.entries.find((e) => e.userId === me.user.id)).toMatchObject({ linked: false, discordId: null });
  });

  it("refuses admin procedures to staff without the admin role: FORBIDDEN", async () => {
    const moderator = { email: "moderator@test.invalid", password: "moderator password", name: "Moderator" };
    const { id } = await ensurePasswordUser(server.auth, moderator);
    await server.runtime.runPromise(Directory.use((d) => d.ensureStaff(DEFAULT_ORGANIZATION.id, id, "staff")));
    const client = createClient({ url: server.url, cookie: await signIn(server, moderator) });
    try {
      // Staff procedures still answer...
      await expect(client.trpc.members.settings.query({})).resolves.toMatchObject({ syncIntervalMinutes: null });
      // ...admin ones do not.
      const refused = await client.trpc.members.setDiscordId.mutate({ userId: id, discordId: null }).catch((e: unknown) => e);
      expect(codeOf(refused)).toBe("FORBIDDEN");
      expect((refused as Error).message).toBe("This needs the admin role.");
      const settings = await client.trpc.members.updateSettings
        .mutate({ syncIntervalMinutes: 60, syncAdminRoleId: null })
        .catch((e: unknown) => e);
      expect(codeOf(settings)).toBe("FORBIDDEN");
    } finally {
      client.close();
    }
  });

  it("signs in only with the right password", async () => {
    await expect(signIn(server, { email: "admin@test.invalid", password: "wrong password!", name: "" })).rejects.toThrow(/401/);
  });
});

describe("two server instances on one Postgres", () => {
  const baseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `guildhall_server_test_${process.pid}_${Date.now()}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    await admin.unsafe(`create database ${dbName}`);
    const url = baseUrl.replace(/\/[^/]*$/, `/${dbName}`);
    // Started together on purpose: the migrations must not race.
    [a, b] = await Promise.all([startTestServer({ databaseUrl: url }), startTestServer({ databaseUrl: url })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  });

  it("a change pushed to one instance reaches subscribers of both (LISTEN/NOTIFY)", async () => {
    const viaA = await staffClient(a);
    const viaB = await staffClient(b);
    const bot = botClient(a);
    try {
      const { cursor } = await viaB.trpc.roster.list.query({});
      const seenA: string[] = [];
      const seenB: string[] = [];
      const startA = whenStarted();
      const startB = whenStarted();
      const subA = viaA.trpc.roster.live.subscribe(
        { cursor: String(cursor) },
        {
          onStarted: startA.onStarted,
          onData: ({ data }) => seenA.push(...changesOf([data]).map((c) => c.status)),
        },
      );
      const subB = viaB.trpc.roster.live.subscribe(
        { cursor: String(cursor) },
        {
          onStarted: startB.onStarted,
          onData: ({ data }) => seenB.push(...changesOf([data]).map((c) => c.status)),
        },
      );
      await Promise.all([startA.started, startB.started]);
      await bot.trpc.bot.pushPresences.mutate({ updates: [presence(ADA, "online"), presence(ADA, "idle")] });
      await waitFor(() => (seenA.length >= 2 && seenB.length >= 2 ? true : undefined), 5_000, "both instances");
      subA.unsubscribe();
      subB.unsubscribe();
      expect(seenA).toEqual(["online", "idle"]);
      expect(seenB).toEqual(["online", "idle"]);
    } finally {
      viaA.close();
      viaB.close();
      bot.close();
    }
  });
});
