/**
 * Hostile input to the member sync entry points: the legacy endpoint and the bot's sync
 * procedures. Nothing may get a 5xx, and nothing may leave a run open: after every case a
 * fresh sync of the guild can start. Property tests are bounded (a fixed number of cases).
 */
import type { GuildhallClient } from "@guildhall/api";
import { packMembers } from "@guildhall/api/pack";
import { TRPCClientError } from "@trpc/client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src";
import { botClient, codeOf, GUILD_ID, staffClient, startTestServer } from "./helpers";

/** Cases per property: enough to meet every kind of hostile value, few enough for a few seconds. */
const CASES = 25;

const snowflake = fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }).map(String);
const badSnowflake = fc.constantFrom("0", "007", "99999999999999999999", "abc", "1\u0000", "", " 1");
const hostileText = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\uD800",
    "x\uDFFF",
    '","x',
    "\\",
    '{"}',
    "NULL",
    "'; drop table guild_members;--",
    "x".repeat(100_000),
  ),
);
const impossibleDate = fc.constantFrom(
  "2024-13-45T99:99:99Z",
  "2024-02-30T00:00:00Z",
  "0000-00-00",
  '2024-01-01T","x',
  "2024-01-01T00:00:00Z junk",
  "2024-01-01 junk';--",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59-14:00",
);
const realDate = fc
  .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString());
const hostileDate = fc.oneof(impossibleDate, realDate, fc.constant(null), fc.string({ maxLength: 30 }));
const hugeNumber = fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1e15, 1e308, -0, 0.5, Number.MAX_SAFE_INTEGER);
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}), hugeNumber);
/** Usually a value of the right kind, sometimes a hostile one, sometimes the wrong type. */
const mostly = <A>(good: fc.Arbitrary<A>, bad: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: bad });

const roleList = fc.array(fc.oneof(snowflake, fc.constant(GUILD_ID)), { maxLength: 4 });

/** Members in the legacy endpoint's form. */
const legacyMember = fc.record({
  id: mostly(snowflake, fc.oneof(badSnowflake, wrongType)),
  username: mostly(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), fc.oneof(hostileText, wrongType)),
  display_name: mostly(fc.option(fc.string({ unit: "binary", maxLength: 30 })), fc.oneof(hostileText, wrongType)),
  nickname: mostly(fc.option(hostileText), wrongType),
  avatar: mostly(fc.option(fc.string({ maxLength: 40 })), wrongType),
  roles: mostly(roleList, fc.oneof(fc.array(badSnowflake, { minLength: 1, maxLength: 2 }), wrongType)),
  joined_at: mostly(fc.oneof(realDate, fc.constant(null)), hostileDate),
  is_bot: mostly(fc.boolean(), wrongType),
});
/** Legacy members whose every value is storable once cleaned, however nasty (NUL, surrogates, quotes, far dates, @everyone). */
const nastyText = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
  fc.constantFrom('","x', "\\", '{"}', "NULL", "a\u0000b", "x\uDFFF"),
);
const storableLegacyMember = fc.record({
  id: snowflake,
  username: nastyText,
  display_name: fc.option(nastyText),
  nickname: fc.option(nastyText),
  avatar: fc.option(nastyText),
  roles: roleList,
  joined_at: fc.oneof(realDate, fc.constant(null)),
  is_bot: fc.boolean(),
});
const legacyBody = fc.oneof(
  { weight: 2, arbitrary: fc.record({ members: fc.array(storableLegacyMember, { maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ members: fc.array(legacyMember, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.oneof(wrongType, fc.record({ members: wrongType }), fc.json()) },
);

/** Members in MemberSnapshot form (the `members` field of bot.syncChunk, and the packed tuples). */
const snapshotMember = fc.record({
  userId: mostly(snowflake, fc.oneof(badSnowflake, wrongType)),
  username: mostly(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), fc.oneof(hostileText, wrongType)),
  globalName: mostly(fc.option(fc.string({ unit: "binary", maxLength: 30 })), fc.oneof(hostileText, wrongType)),
  nick: mostly(fc.option(hostileText), wrongType),
  avatar: mostly(fc.option(fc.string({ maxLength: 40 })), wrongType),
  roleIds: mostly(roleList, fc.oneof(fc.array(badSnowflake, { minLength: 1, maxLength: 2 }), wrongType)),
  joinedAt: mostly(fc.oneof(realDate, fc.constant(null)), hostileDate),
  isBot: mostly(fc.boolean(), wrongType),
  pending: mostly(fc.boolean(), wrongType),
  premiumSince: mostly(fc.oneof(realDate, fc.constant(null)), hostileDate),
  communicationDisabledUntil: mostly(fc.oneof(realDate, fc.constant(null)), hostileDate),
});
const storableSnapshotMember = fc.record({
  userId: snowflake,
  username: nastyText,
  globalName: fc.option(nastyText),
  nick: fc.option(nastyText),
  avatar: fc.option(nastyText),
  roleIds: roleList,
  joinedAt: fc.option(realDate),
  isBot: fc.boolean(),
  pending: fc.boolean(),
  premiumSince: fc.option(realDate),
  communicationDisabledUntil: fc.option(realDate),
});
/** A chunk's members: all storable, or mixed with hostile ones. */
const chunkMembers = fc.oneof(fc.array(storableSnapshotMember, { maxLength: 6 }), fc.array(snapshotMember, { maxLength: 6 }));
const chunkNumbers = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ chunkIndex: 0, chunkCount: 1 as number | null }) },
  {
    weight: 1,
    arbitrary: fc.record({
      chunkIndex: fc.oneof(fc.integer(), hugeNumber),
      chunkCount: fc.oneof(fc.integer(), hugeNumber, fc.constant(null)),
    }),
  },
);

/** The HTTP status a tRPC call answered with (200 when it succeeded). */
const statusOf = async (call: Promise<unknown>): Promise<number> =>
  call.then(
    () => 200,
    (error: unknown) => {
      if (error instanceof TRPCClientError) return (error.data as { httpStatus?: number } | undefined)?.httpStatus ?? 500;
      throw error;
    },
  );

describe("member sync under hostile input", () => {
  let server: RunningServer;
  let bot: GuildhallClient;
  let staff: GuildhallClient;
  const post = (body: unknown) =>
    fetch(`${server.url}/api/dbot/sync_guild_members`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.botKey, "x-guild-id": GUILD_ID },
      body: JSON.stringify(body),
    });
  const begin = () => bot.trpc.bot.syncBegin.mutate({ guildId: GUILD_ID, trigger: "api", source: "gateway", requestedBy: null, roles: [] });
  /** Proves the guild has no run open: a fresh sync starts (and is ended again). */
  const freshSyncStarts = async () => {
    const run = await begin();
    await bot.trpc.bot.syncAbort.mutate({ runId: run.id, reason: "checked" });
  };
  const legacyMember = (n: number, overrides: Record<string, unknown> = {}) => ({
    id: String(730_000_000_000_000_000n + BigInt(n)),
    username: `member${n}`,
    display_name: null,
    nickname: null,
    avatar: null,
    roles: [],
    joined_at: "2025-03-01T12:00:00Z",
    is_bot: false,
    ...overrides,
  });

  beforeAll(async () => {
    server = await startTestServer();
    bot = botClient(server);
    staff = await staffClient(server);
  });
  afterAll(async () => {
    bot?.close();
    staff?.close();
    await server?.close();
  });

  it("legacy: an impossible joined_at is a 400 naming the field, and leaves no run open", async () => {
    for (const joinedAt of ['2024-01-01T","x', "2024-13-45T99:99:99Z", "2024-02-30T00:00:00Z", "0000-00-00", "2024-01-01T00:00:00Z junk"]) {
      const response = await post({ members: [legacyMember(1), legacyMember(2, { joined_at: joinedAt })] });
      expect(response.status, joinedAt).toBe(400);
      expect(((await response.json()) as { error: string }).error).toContain("members.1.joined_at");
      await freshSyncStarts();
    }
  });

  it("legacy: NUL and lone surrogates are cleaned, not stored and not refused; @everyone is dropped from roles", async () => {
    const response = await post({
      members: [legacyMember(1, { nickname: "evil\u0000nick", display_name: "half \uD83D", roles: [GUILD_ID, "500000000000000001"] })],
    });
    expect(response.status).toBe(200);
    const page = await staff.trpc.members.comparison.query({ category: "guild_only", search: "member1" });
    const row = page.rows.find((r) => r.discordId === legacyMember(1).id);
    expect(row?.member).toMatchObject({ nick: "evilnick", globalName: "half \uFFFD", roleIds: ["500000000000000001"] });
  });

  it("bot.syncBegin: ints beyond int32, NUL, a guild not linked and duplicate roles get 4xx or apply; none leaves a run open", async () => {
    const role = { id: "500000000000000001", name: "Role", color: 0, position: 1, managed: false, permissions: "0" };
    const tooBig = await statusOf(
      bot.trpc.bot.syncBegin.mutate({
        guildId: GUILD_ID,
        trigger: "api",
        source: "gateway",
        requestedBy: null,
        roles: [{ ...role, color: 2 ** 31 }],
      }),
    );
    expect(tooBig).toBe(400);
    const notLinked = await bot.trpc.bot.syncBegin
      .mutate({ guildId: "123456789012345678", trigger: "api", source: "gateway", requestedBy: null, roles: [] })
      .catch((e: unknown) => e);
    expect(codeOf(notLinked)).toBe("FORBIDDEN");
    const run = await bot.trpc.bot.syncBegin.mutate({
      guildId: GUILD_ID,
      trigger: "api",
      source: "gateway",
      requestedBy: "user\u0000",
      roles: [{ ...role, name: "nul\u0000name" }, role],
    });
    expect(run.requestedBy).toBe("user");
    await bot.trpc.bot.syncAbort.mutate({ runId: run.id, reason: "done\u0000" });
    await freshSyncStarts();
  });

  it("bot.syncChunk, syncComplete, syncAbort, memberEvents: hostile values get 400 naming the field", async () => {
    const run = await begin();
    const nulRun = await bot.trpc.bot.syncChunk
      .mutate({ runId: "run\u0000", chunkIndex: 0, chunkCount: 1, members: [] })
      .catch((e: unknown) => e);
    expect(codeOf(nulRun)).toBe("BAD_REQUEST");
    expect((nulRun as Error).message).toContain("runId");
    for (const call of [
      bot.trpc.bot.syncComplete.mutate({ runId: "run\u0000" }),
      bot.trpc.bot.syncAbort.mutate({ runId: "run\u0000", reason: "x" }),
      bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 1e15, chunkCount: 1, members: [] }),
    ]) {
      expect(await statusOf(call)).toBe(400);
    }
    const member = {
      userId: "740000000000000001",
      username: "m",
      globalName: null,
      nick: null,
      avatar: null,
      roleIds: [],
      joinedAt: "2024-13-45T99:99:99Z",
      isBot: false,
      pending: false,
      premiumSince: null,
      communicationDisabledUntil: null,
    };
    const badDate = await bot.trpc.bot.syncChunk
      .mutate({ runId: run.id, chunkIndex: 0, chunkCount: 1, members: [member] })
      .catch((e: unknown) => e);
    expect(codeOf(badDate)).toBe("BAD_REQUEST");
    expect((badDate as Error).message).toContain("members.0.joinedAt");
    const event = await bot.trpc.bot.memberEvents
      .mutate({ events: [{ type: "upsert", guildId: GUILD_ID, member }] })
      .catch((e: unknown) => e);
    expect((event as Error).message).toContain("events.0.member.joinedAt");
    const outcomes = await bot.trpc.bot.memberEvents.mutate({
      events: [{ type: "upsert", guildId: GUILD_ID, member: { ...member, nick: "n\u0000ick", joinedAt: null, roleIds: [GUILD_ID] } }],
    });
    expect(outcomes).toEqual(["created"]);
    const applied = await bot.trpc.bot.syncChunk.mutate({
      runId: run.id,
      chunkIndex: 0,
      chunkCount: 1,
      members: [{ ...member, nick: "n\u0000ick", joinedAt: null, roleIds: [] }],
    });
    expect(applied).toMatchObject({ applied: true, unchanged: 1 });
    await bot.trpc.bot.syncAbort.mutate({ runId: run.id, reason: "done" });
  });

  it("legacy body (property): no input gets a 5xx, and none leaves a run open", async () => {
    await fc.assert(
      fc.asyncProperty(legacyBody, async (body) => {
        const response = await post(body);
        expect(response.status, JSON.stringify(body).slice(0, 300)).toBeLessThan(500);
        await freshSyncStarts();
      }),
      { numRuns: CASES },
    );
  });

  it("bot.syncChunk with members (property): no input gets a 5xx, and none leaves a run open", async () => {
    await fc.assert(
      fc.asyncProperty(chunkMembers, chunkNumbers, async (members, numbers) => {
        const run = await begin();
        const status = await statusOf(bot.trpc.bot.syncChunk.mutate({ runId: run.id, ...numbers, members } as never));
        expect(status, JSON.stringify(members).slice(0, 300)).toBeLessThan(500);
        expect((await bot.trpc.bot.syncAbort.mutate({ runId: run.id, reason: "case over" })).status).toBe("incomplete");
      }),
      { numRuns: CASES },
    );
    await freshSyncStarts();
  });

  it("bot.syncChunk packed (property): no input gets a 5xx, and none leaves a run open", async () => {
    await fc.assert(
      fc.asyncProperty(chunkMembers, async (members) => {
        const run = await begin();
        const packed = (await packMembers(members as never)).toString("base64");
        const status = await statusOf(bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 0, chunkCount: 1, packed }));
        expect(status, JSON.stringify(members).slice(0, 300)).toBeLessThan(500);
        expect((await bot.trpc.bot.syncComplete.mutate({ runId: run.id })).status).not.toBe("running");
      }),
      { numRuns: CASES },
    );
    await freshSyncStarts();
  });
});
