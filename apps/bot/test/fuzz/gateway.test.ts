/**
 * The bot's gateway payload handling under fuzz: hostile PRESENCE_UPDATE, GUILD_MEMBER_ADD /
 * _UPDATE / _REMOVE and GUILD_MEMBERS_CHUNK payloads, derived from Discord's documented shapes
 * (./payloads.ts) with hostile values mixed in, delivered to the real bot (discord.js, in this
 * process) through the emulator's raw dispatch, the bot forwarding to a real server.
 *
 * After each case: no error escaped (a handler that throws is an unhandled rejection, which ends
 * a production process), the shard still connected, the bot's queues drained (nothing blocks
 * them), no 5xx from the server (no dead letter nor retry for a server error), nothing left open
 * on the server, /healthz 200. After each event type: a real presence change and a real member
 * change still arrive. Member sync chunks are also injected into a live sync, right behind a real
 * chunk (the emulator's `onMemberChunk` hook), and the sync must end (never left running).
 */
import type { GuildhallClient } from "@guildhall/api";
import { Database, executeRows } from "@guildhall/db";
import { type Emulator, type MemberChunkEvent, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { derive, EscapedErrors, heldNow, type InvariantOptions, inputOf, leaks, openState, Pools, show } from "@guildhall/fuzz";
import type { RunningServer } from "@guildhall/server";
import { Events, Status } from "discord.js";
import { sql } from "drizzle-orm";
import type { Schema } from "effect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../../src";
import { startServerFor } from "../helpers";
import { GuildMemberAdd, GuildMemberRemove, GuildMembersChunk, GuildMemberUpdate, PresenceUpdate } from "./payloads";

/** Cases per event type (each a batch of 1 to 3 payloads), and live member syncs with hostile chunks. */
const CASES = 25;
const SYNC_CASES = 5;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const LOG = process.env.FUZZ_LOG === "1";
/** Members of the fuzzed guild: 3 chunks, so a member sync takes long enough to inject into. */
const MEMBERS = 3_000;
/** An event type nobody handles, dispatched after a batch: when it arrives, the batch has been handled. */
const MARK = "GUILDHALL_FUZZ_MARK";

const EVENTS: ReadonlyArray<{ readonly t: string; readonly schema: Schema.Top }> = [
  { t: "PRESENCE_UPDATE", schema: PresenceUpdate },
  { t: "GUILD_MEMBER_ADD", schema: GuildMemberAdd },
  { t: "GUILD_MEMBER_UPDATE", schema: GuildMemberUpdate },
  { t: "GUILD_MEMBER_REMOVE", schema: GuildMemberRemove },
  { t: "GUILD_MEMBERS_CHUNK", schema: GuildMembersChunk },
];

class CaseFailure extends Error {
  constructor(readonly problems: ReadonlyArray<string>) {
    super(problems.join("; "));
  }
}

describe("gateway payloads under fuzz (emulator -> real bot -> real server)", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: RunningBot;
  let invariants: InvariantOptions;
  let escaped: EscapedErrors;
  const logs: Array<string> = [];
  const pools = new Pools();
  const startedAt = Date.now();
  let cases = 0;
  let payloads = 0;
  let sentMarks = 0;
  let seenMarks = 0;
  const refusedLetters = new Map<string, number>();
  /** Armed by a sync case: hostile chunks to send right behind the real chunk `afterIndex` of a sync. */
  let inject: { afterIndex: number; chunks: ReadonlyArray<unknown>; sent: boolean } | null = null;

  const onMemberChunk = (event: MemberChunkEvent) => {
    if (!inject || inject.sent || !event.nonce?.startsWith("gh-sync-") || event.chunkIndex !== inject.afterIndex) return;
    inject.sent = true;
    for (const chunk of inject.chunks) {
      const d = typeof chunk === "object" && chunk !== null && !Array.isArray(chunk) ? { ...chunk, nonce: event.nonce } : chunk;
      emulator.dispatchRaw(event.guildId, "GUILD_MEMBERS_CHUNK", d);
    }
  };

  beforeAll(async () => {
    escaped = new EscapedErrors();
    emulator = await startEmulator({ memberRequestWindowMs: 0, onMemberChunk: (event) => onMemberChunk(event) });
    guild = emulator.seedGuild({ seed: 8, members: MEMBERS, staff: 4, name: "Fuzz Guild" });
    ({ server, staff } = await startServerFor(guild));
    bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      cdnUrl: emulator.cdnUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      heartbeatMs: 60_000,
      log: (line) => logs.push(line),
    });
    bot.client.on(Events.Raw, (packet: { t?: string }) => {
      if (packet.t === MARK) seenMarks++;
    });
    const sqlOf: InvariantOptions["sql"] = (text) =>
      server.runtime.runPromise(Database.use((database) => database.use("fuzz.invariants", (db) => executeRows(db, sql.raw(text)))));
    invariants = { sql: sqlOf, botQueues: ["bot.members-sync", "bot.presence-resync"], kind: "pglite" };
    pools.remember("guildId", guild.guildId);
    pools.remember("roleId", guild.staffRoleId, ...guild.roles.map((r) => r.id));
    pools.remember("userId", ...guild.staff.map((s) => s.userId));
    // A first full sync, so members exist on the server (and the harvest has their ids).
    const first = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null });
    expect(first.status).toBe("completed");
  }, 180_000);

  afterAll(async () => {
    const refused = [...refusedLetters.entries()].map(([code, n]) => `${code} ${n}`).join(", ") || "none";
    console.log(
      `fuzz gateway: ${EVENTS.length} event types, ${cases} cases (${payloads} payloads) and ${SYNC_CASES} live syncs with hostile chunks ` +
        `in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; dead letters the server refused with 4xx: ${refused}`,
    );
    escaped?.stop();
    staff?.close();
    await bot?.close().catch(() => {});
    await server?.close();
    await emulator?.close();
  }, 60_000);

  /** Waits (bounded) for `what`; resolves to a problem line, or null. */
  const within = (ms: number, what: string, check: () => Promise<void> | void): Promise<string | null> =>
    vi.waitFor(check, { timeout: ms, interval: 20 }).then(
      () => null,
      (error: Error) => `${what} (after ${ms / 1000} s: ${error.message})`,
    );

  /** The checks after a case; `logFrom` is where this case's log lines start, `lettersBefore` the dead letter count before it. */
  const checkAfter = async (before: Awaited<ReturnType<typeof openState>>, logFrom: number, lettersBefore: number) => {
    const problems: Array<string> = [];
    const drained = await within(30_000, "the bot's queues never drained", async () => {
      await Promise.race([
        Promise.all([bot.drain(), bot.drainMemberEvents()]),
        new Promise((_, reject) => setTimeout(() => reject(new Error("still pending")), 1_000)),
      ]);
    });
    if (drained) problems.push(drained);
    problems.push(...escaped.take());
    const connected = await within(15_000, "the shard is no longer connected", () => {
      expect([...bot.client.ws.shards.values()].map((s) => Status[s.status])).toEqual(["Ready"]);
    });
    if (connected) problems.push(connected);
    const letters = bot.deadLetters();
    for (const letter of letters.recent.slice(Math.max(0, letters.recent.length - (letters.total - lettersBefore)))) {
      if (letter.code === "INTERNAL_SERVER_ERROR" || letter.code === null)
        problems.push(`dead letter for a server error: ${letter.summary}: ${letter.error}`);
      else refusedLetters.set(letter.code, (refusedLetters.get(letter.code) ?? 0) + 1);
    }
    const serverErrors = logs.slice(logFrom).filter((line) => /Internal error|INTERNAL_SERVER_ERROR/.test(line));
    if (serverErrors.length > 0) problems.push(`the server answered 5xx: ${serverErrors.slice(0, 3).join(" | ")}`);
    problems.push(...leaks(before, await openState(invariants), ""));
    const held = await within(5_000, "still held", async () => {
      const now = await heldNow(invariants);
      if (now.length > 0) throw new Error(now.join("; "));
    });
    if (held) problems.push(held);
    const health = await fetch(`${server.url}/healthz`).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    if (health !== 200) problems.push(`/healthz answered ${health}`);
    return problems;
  };

  const report = <Ts extends Array<unknown>>(what: string, details: fc.RunDetails<Ts>) => {
    if (!details.failed) return "";
    const error = details.errorInstance;
    return [
      `${what}: failed after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s)`,
      `  seed ${details.seed}, path "${details.counterexamplePath}" (rerun: FUZZ_SEED=${details.seed})`,
      `  payloads: ${details.counterexample ? show(details.counterexample) : "(none)"}`,
      `  ${error instanceof CaseFailure ? `problems: ${error.problems.join("; ")}` : `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`}`,
    ].join("\n");
  };

  /** Later good input: a real presence change and a real member change still reach the server. */
  const goodInputArrives = async (label: string): Promise<string | null> => {
    const [member] = guild.staff;
    const status = `fuzz-${label}-${Date.now()}`;
    emulator.setPresence(guild.guildId, member!.userId, { status: "dnd", customStatus: status });
    const presence = await within(20_000, `a real presence change no longer arrives after ${label}`, async () => {
      const roster = await staff.trpc.roster.list.query({ guildId: guild.guildId });
      const row = roster.entries.find((m) => m.discordId === member!.userId);
      expect(row?.presence?.customStatus).toBe(status);
    });
    const nick = `good-${Date.now() % 100_000}`;
    emulator.updateMember(guild.guildId, member!.userId, { nick });
    const update = await within(20_000, `a real member change no longer arrives after ${label}`, async () => {
      const rows = await invariants.sql(
        `select nick from guild_members where guild_id = '${guild.guildId}' and user_id = '${member!.userId}'`,
      );
      expect(rows[0]?.nick).toBe(nick);
    });
    return presence ?? update;
  };

  for (const event of EVENTS) {
    it(`${event.t}: ${CASES} batches of hostile payloads, then real changes still arrive`, { timeout: 600_000 }, async () => {
      const derived = derive(event.schema.ast, { pools });
      const details = await fc.check(
        fc.asyncProperty(fc.array(inputOf(derived), { minLength: 1, maxLength: 3 }), async (batch) => {
          cases++;
          payloads += batch.length;
          const before = await openState(invariants);
          const logFrom = logs.length;
          const lettersBefore = bot.deadLetters().total;
          for (const d of batch) emulator.dispatchRaw(guild.guildId, event.t, d);
          const mark = ++sentMarks;
          emulator.dispatchRaw(guild.guildId, MARK, { mark });
          const handled = await within(15_000, "the bot never got past the batch", () => expect(seenMarks).toBeGreaterThanOrEqual(mark));
          const problems = [...(handled ? [handled] : []), ...(await checkAfter(before, logFrom, lettersBefore))];
          if (LOG) console.log(`${event.t} ${show(batch).slice(0, 400)} -> ${problems.length === 0 ? "ok" : problems.join("; ")}`);
          if (problems.length > 0) throw new CaseFailure(problems);
        }),
        { numRuns: CASES, seed: SEED },
      );
      const failure = report(event.t, details);
      const stale = await goodInputArrives(event.t);
      expect([failure, stale].filter(Boolean).join("\n")).toBe("");
    });
  }

  it(`member sync: ${SYNC_CASES} live syncs with hostile chunks behind a real one, each sync ends and the next completes`, {
    timeout: 600_000,
  }, async () => {
    const derived = derive(GuildMembersChunk.ast, { pools });
    const details = await fc.check(
      fc.asyncProperty(fc.array(inputOf(derived), { minLength: 1, maxLength: 2 }), fc.nat({ max: 2 }), async (chunks, afterIndex) => {
        cases++;
        payloads += chunks.length;
        const before = await openState(invariants);
        const logFrom = logs.length;
        const lettersBefore = bot.deadLetters().total;
        inject = { afterIndex, chunks, sent: false };
        const ended = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null }).then(
          (run) => ({ run, error: null }),
          (error: unknown) => ({ run: null, error: error instanceof Error ? error.message : String(error) }),
        );
        const problems: Array<string> = [];
        if (!inject.sent) problems.push("the hostile chunks were never injected (the sync sent no such chunk)");
        inject = null;
        if (ended.error) problems.push(`the sync failed: ${ended.error}`);
        else if (ended.run?.status === "running") problems.push(`the sync returned a running run ${ended.run.id}`);
        problems.push(...(await checkAfter(before, logFrom, lettersBefore)));
        const running = await openState(invariants);
        if (running.runs.size > 0) problems.push(`runs left running: ${[...running.runs].join(", ")}`);
        if (LOG)
          console.log(`sync ${afterIndex} ${show(chunks).slice(0, 400)} -> ${ended.run?.status ?? ended.error}; ${problems.join("; ")}`);
        if (problems.length > 0) throw new CaseFailure(problems);
      }),
      { numRuns: SYNC_CASES, seed: SEED },
    );
    const failure = report("member sync chunks", details);
    const next = await bot.memberSync.run({ guildId: guild.guildId, trigger: "api", requestedBy: null }).then(
      (run) => (run.status === "completed" ? null : `a clean sync afterwards ended ${run.status}: ${run.reason}`),
      (error: Error) => `a clean sync afterwards failed: ${error.message}`,
    );
    expect([failure, next].filter(Boolean).join("\n")).toBe("");
  });
});
