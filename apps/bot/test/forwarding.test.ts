/**
 * Forwarding under faults, through the emulator, the real bot and a real server: one update the
 * server refuses never stops the rest, and a shutdown with the server gone is bounded and loses
 * nothing (the spool keeps it for the next start).
 *
 * The refused update: the server's database is given a CHECK constraint that refuses one
 * nickname, so the server answers the member event that carries it with a 500, exactly as
 * Postgres refused a NUL before the boundary cleaned it, while every other update lands.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type GuildhallClient } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DeadLetter, PresenceForwarder, type RunningBot, type SpoolEntry, spoolPath, startBot, takeSpool, writeSpool } from "../src";
import { startServerFor } from "./helpers";

const POISON = "Refused Nick";

/** Runs `query` on the server's own database (test set-up and checks only). */
const query = <Row extends Record<string, unknown>>(server: RunningServer, statement: ReturnType<typeof sql>) =>
  server.runtime.runPromise(Database.use((database) => database.use("test", (db) => executeRows<Row>(db, statement))));

/** The stored nick of each of `userIds` in `guildId` (absent: no row). */
const nicksOf = async (server: RunningServer, guildId: string, userIds: ReadonlyArray<string>) => {
  const rows = await query<{ user_id: string; nick: string | null }>(
    server,
    sql`select user_id, nick from guild_members where guild_id = ${guildId} and user_id in ${sql.raw(`('${userIds.join("','")}')`)}`,
  );
  return new Map(rows.map((r) => [r.user_id, r.nick]));
};

/** The first `count` members of the guild that are not bots, through the emulator's REST API (List Guild Members, paged). */
const memberIdsOf = async (emulator: Emulator, guild: SeededGuild, count: number): Promise<Array<string>> => {
  const ids: Array<string> = [];
  let after = "0";
  while (ids.length < count) {
    const response = await fetch(`${emulator.apiUrl}/v10/guilds/${guild.guildId}/members?limit=1000&after=${after}`, {
      headers: { authorization: `Bot ${emulator.token}` },
    });
    const members = (await response.json()) as Array<{ user: { id: string; bot?: boolean } }>;
    if (members.length === 0) break;
    ids.push(...members.filter((m) => !m.user.bot).map((m) => m.user.id));
    after = members.at(-1)!.user.id;
  }
  return ids.slice(0, count);
};

describe("forwarding through the emulator into a real server, under faults", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  let stateDir: string;
  const bots: Array<RunningBot> = [];
  const servers: Array<RunningServer> = [];
  const logs: Array<string> = [];

  const connectBot = async (to: RunningServer) => {
    const bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      cdnUrl: emulator.cdnUrl,
      serverUrl: to.url,
      botKey: to.botKey,
      stateDir,
      heartbeatMs: 1_000,
      log: (line) => logs.push(line),
    });
    bots.push(bot);
    return bot;
  };

  beforeAll(async () => {
    stateDir = join(await mkdtemp(join(tmpdir(), "guildhall-bot-")), "state");
    emulator = await startEmulator();
    guild = emulator.seedGuild({ seed: 8, members: 1_200, staff: 4, name: "Forwarding Guild" });
    ({ server, staff } = await startServerFor(guild));
    servers.push(server);
    await query(
      server,
      sql.raw(`alter table guild_members add constraint test_refuses_one_nick check (nick is distinct from '${POISON}')`),
    );
  }, 120_000);

  afterAll(async () => {
    staff?.close();
    for (const bot of bots) await bot.close().catch(() => {});
    for (const s of servers) await s.close().catch(() => {});
    await emulator?.close();
    await rm(join(stateDir, ".."), { recursive: true, force: true });
  });

  it("one refused member update among 1,000: 999 land, 1 is dead-lettered (bot and bot.status), and later updates arrive at once", async () => {
    const bot = await connectBot(server);
    const ids = await memberIdsOf(emulator, guild, 1_000);
    expect(ids).toHaveLength(1_000);
    const poisoned = ids[500]!;
    const received = bot.stats().memberEvents.received;
    for (const [i, userId] of ids.entries()) {
      emulator.updateMember(guild.guildId, userId, { nick: userId === poisoned ? POISON : `Member ${i}` });
    }

    await vi.waitFor(
      async () => {
        expect(bot.stats().memberEvents.received - received).toBe(1_000);
        await bot.drainMemberEvents();
        expect(bot.stats().memberEvents.pending).toBe(0);
      },
      { timeout: 60_000, interval: 100 },
    );
    const nicks = await nicksOf(server, guild.guildId, ids);
    const landed = ids.filter((userId, i) => nicks.get(userId) === `Member ${i}`);
    expect(landed).toHaveLength(999);
    expect(landed).not.toContain(poisoned);
    expect(nicks.get(poisoned)).not.toBe(POISON);

    const letters = bot.deadLetters();
    expect(letters.total).toBe(1);
    expect(letters.recent[0]).toMatchObject({
      kind: "memberEvent",
      key: `${guild.guildId}:${poisoned}`,
      code: "INTERNAL_SERVER_ERROR",
      attempts: 3,
    });
    expect(letters.recent[0]!.item).toContain(POISON);
    // Reported to the server, which shows it on bot.status.
    await vi.waitFor(
      async () => {
        const status = await staff.trpc.bot.status.query();
        expect(status.deadLetters.total).toBe(1);
        // Recorded by the server's worker as a dead job of bot.dead-letters, with the server's error.
        expect(status.deadLetters.recent[0]?.summary).toContain(`member update of user ${poisoned}`);
        expect(status.deadLetters.recent[0]?.error).toContain("INTERNAL_SERVER_ERROR");
      },
      { timeout: 10_000, interval: 100 },
    );

    // Afterwards: a member update and a presence change arrive within the usual latency.
    const later = ids[0]!;
    const staffer = guild.staff[0]!;
    const sentAt = Date.now();
    emulator.updateMember(guild.guildId, later, { nick: "After The Refusal" });
    emulator.setPresence(guild.guildId, staffer.userId, { status: "dnd", customStatus: "after the refusal", activities: [] });
    await vi.waitFor(
      async () => {
        expect((await nicksOf(server, guild.guildId, [later])).get(later)).toBe("After The Refusal");
        const roster = await staff.trpc.roster.list.query({});
        expect(roster.entries.find((e) => e.discordId === staffer.userId)?.presence?.customStatus).toBe("after the refusal");
      },
      { timeout: 2_000, interval: 20 },
    );
    expect(Date.now() - sentAt).toBeLessThan(2_000);
  }, 120_000);

  it("one presence update the server refuses among 1,000 (observedAt beyond 9999): 999 land, 1 is dead-lettered naming the field and kept on the Jobs page", async () => {
    const reporter = createClient({ url: server.url, botKey: server.botKey });
    const pusher = createClient({ url: server.url, botKey: server.botKey });
    const tag = `batch-${Date.now()}`;
    const letters: Array<DeadLetter> = [];
    const forwarder = new PresenceForwarder({
      push: (updates, signal) => pusher.trpc.bot.pushPresences.mutate({ updates: [...updates] }, { signal }),
      maxBatch: 1_000,
      onDeadLetter: (letter) => {
        letters.push(letter);
        void reporter.trpc.bot.reportDeadLetter.mutate({ letters: [letter] });
      },
    });
    try {
      const ids = await memberIdsOf(emulator, guild, 1_000);
      const poisoned = ids[700]!;
      const now = Date.now();
      for (const [i, userId] of ids.entries()) {
        forwarder.add({
          guildId: guild.guildId,
          userId,
          status: "online",
          customStatus: `${tag} ${i}`,
          activities: [],
          clientStatus: {},
          observedAt: userId === poisoned ? 1e15 : now,
        });
      }
      await forwarder.drain();
      const [landed] = await query<{ n: number | string }>(
        server,
        sql`select count(*) as n from presence_samples where guild_id = ${guild.guildId} and custom_status like ${`${tag} %`}`,
      );
      expect(Number(landed?.n)).toBe(999);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ kind: "presence", key: `${guild.guildId}:${poisoned}`, code: "BAD_REQUEST", attempts: 1 });
      expect(letters[0]!.error).toContain("updates.0.observedAt");
      // At most 1 + ceil(log2 1000) + 2 pushes.
      expect(forwarder.pushes).toBeLessThanOrEqual(13);

      // What follows lands at once.
      const sentAt = Date.now();
      forwarder.add({
        guildId: guild.guildId,
        userId: ids[0]!,
        status: "dnd",
        customStatus: `${tag} after`,
        activities: [],
        clientStatus: {},
        observedAt: sentAt,
      });
      await forwarder.drain();
      expect(Date.now() - sentAt).toBeLessThan(1_000);

      // Kept by the server as a dead job, which the Jobs page lists.
      await vi.waitFor(
        async () => {
          const dead = await staff.trpc.jobs.list.query({ queue: "bot.dead-letters", state: "dead" });
          const job = dead.jobs.find((j) => j.summary.includes(`user ${poisoned}`));
          expect(job?.lastError).toContain("updates.0.observedAt");
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      await forwarder.stop(1_000);
      reporter.close();
      pusher.close();
    }
  }, 120_000);

  it("with the server stopped, close() returns within ~10 s, the undelivered updates are in the spool, and a restarted bot delivers them", async () => {
    const bot = bots.at(-1)!;
    await server.close();
    const ids = await memberIdsOf(emulator, guild, 50);
    const received = bot.stats().memberEvents.received;
    for (const [i, userId] of ids.entries()) emulator.updateMember(guild.guildId, userId, { nick: `Kept ${i}` });
    await vi.waitFor(() => expect(bot.stats().memberEvents.received - received).toBe(50), { timeout: 10_000, interval: 20 });

    const started = Date.now();
    const report = await bot.close();
    const took = Date.now() - started;
    expect(took).toBeLessThan(12_000);
    expect(report.spoolPath).toBe(spoolPath(stateDir));
    expect(report.abandoned).toBe(0);
    expect((await stat(spoolPath(stateDir))).mode & 0o777).toBe(0o600);
    const lines = (await readFile(spoolPath(stateDir), "utf8")).trimEnd().split("\n");
    const kept = lines.map((line) => JSON.parse(line) as SpoolEntry).filter((e) => e.queue === "memberEvent");
    expect(kept.map((e) => (e.item as { member: { nick: string } }).member.nick)).toEqual(ids.map((_, i) => `Kept ${i}`));
    expect(report.undelivered).toBe(lines.length);

    // A new server (a fresh database, the guild linked) and a new bot with the same state directory.
    const next = await startServerFor(guild);
    servers.push(next.server);
    next.staff.close();
    await connectBot(next.server);
    await vi.waitFor(
      async () => {
        const nicks = await nicksOf(next.server, guild.guildId, ids);
        expect(ids.map((id) => nicks.get(id))).toEqual(ids.map((_, i) => `Kept ${i}`));
      },
      { timeout: 15_000, interval: 100 },
    );
    await expect(stat(spoolPath(stateDir))).rejects.toMatchObject({ code: "ENOENT" });
    expect(logs.some((line) => line.includes(`replaying ${lines.length} update(s) kept at the last shutdown`))).toBe(true);
  }, 120_000);

  it("when the spool cannot be written either, close() dead-letters what is undelivered (counted, with no server code)", async () => {
    const gone = servers[0]!;
    const blocked = join(stateDir, "..", "not-a-directory");
    await writeFile(blocked, "a file where the state directory should be");
    const bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      serverUrl: gone.url,
      botKey: gone.botKey,
      stateDir: join(blocked, "state"),
      shutdownDrainMs: 500,
      log: (line) => logs.push(line),
    });
    bots.push(bot);
    const ids = await memberIdsOf(emulator, guild, 5);
    const received = bot.stats().memberEvents.received;
    for (const userId of ids) emulator.updateMember(guild.guildId, userId, { nick: "Nowhere To Go" });
    await vi.waitFor(() => expect(bot.stats().memberEvents.received - received).toBe(5), { timeout: 10_000, interval: 20 });

    const report = await bot.close();
    expect(report.spoolPath).toBeNull();
    expect(report.abandoned).toBe(report.undelivered);
    const letters = bot.deadLetters();
    expect(letters.byKind.memberEvent).toBe(5);
    expect(letters.recent.filter((l) => l.kind === "memberEvent").map((l) => l.key)).toEqual(ids.map((id) => `${guild.guildId}:${id}`));
    expect(letters.recent.every((l) => l.code === null && l.attempts === 0 && /spool could not be written/.test(l.error))).toBe(true);
  }, 60_000);

  it("bot.reportDeadLetter takes only the bot, and refuses a NUL or a lone surrogate with BAD_REQUEST naming the field", async () => {
    const live = servers.at(-1)!;
    const letter = {
      kind: "presence",
      key: `${guild.guildId}:1`,
      summary: "presence of user 1",
      item: "{}",
      code: "BAD_REQUEST",
      error: "refused",
      attempts: 1,
      at: Date.now(),
    };
    const asBot = createClient({ url: live.url, botKey: live.botKey });
    const anonymous = createClient({ url: live.url });
    try {
      await expect(anonymous.trpc.bot.reportDeadLetter.mutate({ letters: [letter] })).rejects.toMatchObject({
        data: { code: "UNAUTHORIZED" },
      });
      for (const [field, value] of [
        ["summary", "evil\u0000"],
        ["error", "lone \ud800"],
      ] as const) {
        await expect(asBot.trpc.bot.reportDeadLetter.mutate({ letters: [{ ...letter, [field]: value }] })).rejects.toMatchObject({
          data: { code: "BAD_REQUEST" },
          message: expect.stringContaining(`letters.0.${field}`),
        });
      }
      expect(await asBot.trpc.bot.reportDeadLetter.mutate({ letters: [letter, letter] })).toEqual({ recorded: 2 });
    } finally {
      asBot.close();
      anonymous.close();
    }
  });

  it("the bot process, stuck on an unreachable server, exits 0 within ~10 s of SIGTERM and keeps its queue in the spool", async () => {
    // A server that is gone: its port answers nothing. What the process has queued is a spool
    // from a previous run, which it replays before it connects to the gateway.
    const gone = servers[0]!;
    const dir = join(stateDir, "..", "process");
    const entries: Array<SpoolEntry> = guild.staff.map((s, i) => ({
      queue: "presence",
      item: {
        guildId: guild.guildId,
        userId: s.userId,
        status: "online",
        customStatus: `queued ${i}`,
        activities: [],
        clientStatus: {},
        observedAt: Date.now(),
      },
    }));
    await writeSpool(dir, entries);
    const connected = () => emulator.sessions().filter((s) => s.connected).length;
    const connectedBefore = connected();
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: {
        ...process.env,
        DISCORD_TOKEN: emulator.token,
        DISCORD_API_URL: emulator.apiUrl,
        DISCORD_CDN_URL: emulator.cdnUrl,
        GUILDHALL_BOT_KEY: gone.botKey,
        GUILDHALL_SERVER_URL: gone.url,
        GUILDHALL_BOT_STATE_DIR: dir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += String(chunk)));
    child.stderr?.on("data", (chunk) => (output += String(chunk)));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      // Its gateway session exists: the spool was replayed before login, and the signal handler is installed.
      await vi.waitFor(() => expect(connected()).toBeGreaterThan(connectedBefore), {
        timeout: 60_000,
        interval: 50,
      });
      const signalledAt = Date.now();
      child.kill("SIGTERM");
      const { code, signal } = await exited;
      const took = Date.now() - signalledAt;
      expect({ code, signal }, output).toEqual({ code: 0, signal: null });
      expect(took).toBeLessThan(15_000);
      expect((await stat(spoolPath(dir))).mode & 0o777).toBe(0o600);
      // The replayed queue first, in order; then what the gateway brought meanwhile (presences too).
      const kept = await takeSpool(dir);
      expect(kept.unreadable).toBe(0);
      expect(kept.entries.slice(0, entries.length)).toEqual(entries);
      expect(kept.entries.every((e) => e.queue === "presence")).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 120_000);
});
