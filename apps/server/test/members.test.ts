import { deflateRawSync } from "node:zlib";
import type { GuildhallClient } from "@guildhall/api";
import { packMembers } from "@guildhall/api/pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src";
import { LEGACY_MAX_MEMBERS } from "../src/legacy";
import { botClient, codeOf, GUILD_ID, STAFF, staffClient, startTestServer } from "./helpers";

const legacyMember = (n: number, overrides: Record<string, unknown> = {}) => ({
  id: String(700_000_000_000_000_000n + BigInt(n)),
  username: `member${n}`,
  display_name: `Member ${n}`,
  nickname: n % 4 === 0 ? `nick${n}` : null,
  avatar: null,
  roles: [],
  joined_at: "2025-03-01T12:00:00Z",
  is_bot: false,
  ...overrides,
});

describe("member sync over the API", () => {
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: GuildhallClient;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/dbot/sync_guild_members`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.botKey, "x-guild-id": GUILD_ID, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

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

  describe("POST /api/dbot/sync_guild_members (the old contract)", () => {
    it("creates, updates and marks left, answering the old counts", async () => {
      const first = await post({ members: Array.from({ length: 50 }, (_, n) => legacyMember(n)) });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ created: 50, updated: 0, marked_left: 0 });
      const second = await post({
        members: [...Array.from({ length: 45 }, (_, n) => legacyMember(n, n < 3 ? { nickname: "renamed" } : {})), legacyMember(99)],
      });
      expect(await second.json()).toMatchObject({ created: 1, updated: 3, marked_left: 5, unchanged: 42 });
    });

    it("401 for a wrong or missing key", async () => {
      expect((await post({ members: [] }, { "x-api-key": "wrong-key-wrong-key-wrong" })).status).toBe(401);
      const noKey = await fetch(`${server.url}/api/dbot/sync_guild_members`, {
        method: "POST",
        headers: { "x-guild-id": GUILD_ID },
        body: "{}",
      });
      expect(noKey.status).toBe(401);
    });

    it("403 for a guild that is not linked, 400 naming X-Guild-Id when it is not a snowflake, 405 for another method", async () => {
      const response = await post({ members: [] }, { "x-guild-id": "123456789012345678" });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toContain("123456789012345678");
      for (const bad of ["abc", "0", "99999999999999999999", ""]) {
        const refused = await post({ members: [] }, { "x-guild-id": bad });
        expect(refused.status, bad).toBe(400);
        expect(((await refused.json()) as { error: string }).error).toContain("X-Guild-Id");
      }
      const get = await fetch(`${server.url}/api/dbot/sync_guild_members`, { headers: { "x-api-key": server.botKey } });
      expect(get.status).toBe(405);
    });

    it("400 for bad JSON and for a bad or missing field, naming it", async () => {
      const badJson = await post("{not json");
      expect(badJson.status).toBe(400);
      expect(((await badJson.json()) as { error: string }).error).toContain("not valid JSON");
      const missing = await post({ members: [legacyMember(1), { ...legacyMember(2), username: undefined }] });
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as { error: string }).error).toMatch(/members.*1.*username/s);
      const badId = await post({ members: [legacyMember(1, { id: "abc" })] });
      expect(((await badId.json()) as { error: string }).error).toMatch(/members.*0.*id/s);
      expect((await post({})).status).toBe(400);
    });

    it("413 for too many members, pointing at the chunked tRPC procedures", async () => {
      const response = await post({ members: Array.from({ length: LEGACY_MAX_MEMBERS + 1 }, (_, n) => legacyMember(n)) });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: string }).error).toContain("bot.syncChunk");
    });
  });

  describe("chunked sync, comparison and history", () => {
    it("streams chunks from the bot, refuses a second sync meanwhile, and reports counts", async () => {
      const run = await bot.trpc.bot.syncBegin.mutate({
        guildId: GUILD_ID,
        trigger: "api",
        source: "gateway",
        requestedBy: null,
        roles: [],
      });
      await expect(
        bot.trpc.bot.syncBegin.mutate({ guildId: GUILD_ID, trigger: "api", source: "gateway", requestedBy: null, roles: [] }),
      ).rejects.toSatisfy((e) => codeOf(e) === "CONFLICT");
      const members = Array.from({ length: 40 }, (_, n) => legacyMember(n)).map((m) => ({
        userId: m.id,
        username: m.username,
        globalName: m.display_name,
        nick: m.nickname,
        avatar: null,
        roleIds: [],
        joinedAt: m.joined_at,
        isBot: false,
        pending: false,
        premiumSince: null,
        communicationDisabledUntil: null,
      }));
      // Staff members with Discord ids become "linked" members.
      const linked = STAFF.filter((s) => s.discordId).map((s) => ({ ...members[0]!, userId: s.discordId!, username: s.handle }));
      await bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 0, chunkCount: 2, members: members.slice(0, 20) });
      await bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 1, chunkCount: 2, members: [...members.slice(20), ...linked] });
      const done = await bot.trpc.bot.syncComplete.mutate({ runId: run.id });
      expect(done).toMatchObject({ status: "completed", created: 2, markedLeft: 6, chunksReceived: 2 });

      const comparison = await staff.trpc.members.comparison.query({ category: "linked" });
      expect(comparison.counts).toMatchObject({ guild_only: 40, linked: 2, left: 0 });
      expect(comparison.rows.map((r) => r.discordId).sort()).toEqual(linked.map((m) => m.userId).sort());
      const csv = await staff.trpc.members.exportCsv.query({ category: "guild_only" });
      expect(csv.rows).toBe(40);
      expect(csv.csv.split("\r\n")[0]).toContain('"discord_id"');
      const history = await staff.trpc.members.history.query({});
      expect(history[0]).toMatchObject({ id: run.id, trigger: "api", status: "completed" });
    });

    it("rejects a bad chunk with BAD_REQUEST naming the field", async () => {
      const error = await bot.trpc.bot.syncChunk
        .mutate({ runId: crypto.randomUUID(), chunkIndex: 0, chunkCount: 1, members: [{ userId: "nope" } as never] })
        .catch((e: unknown) => e);
      expect(codeOf(error)).toBe("BAD_REQUEST");
      expect((error as Error).message).toContain("members.0");
    });

    it("takes packed chunks (base64 raw DEFLATE) and refuses ones that do not unpack to valid members", async () => {
      const snapshot = (n: number) => ({
        userId: String(710_000_000_000_000_000n + BigInt(n)),
        username: `packed${n}`,
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
      const run = await bot.trpc.bot.syncBegin.mutate({
        guildId: GUILD_ID,
        trigger: "api",
        source: "gateway",
        requestedBy: null,
        roles: [],
      });
      const packed = (await packMembers(Array.from({ length: 30 }, (_, n) => snapshot(n)))).toString("base64");
      const applied = await bot.trpc.bot.syncChunk.mutate({ runId: run.id, chunkIndex: 0, chunkCount: 2, packed });
      expect(applied).toMatchObject({ applied: true, created: 30 });

      const refused = async (input: { packed?: string; members?: never[] }, message: string) => {
        const error = await bot.trpc.bot.syncChunk
          .mutate({ runId: run.id, chunkIndex: 1, chunkCount: 2, ...input })
          .catch((e: unknown) => e);
        expect(codeOf(error)).toBe("BAD_REQUEST");
        expect((error as Error).message).toContain(message);
      };
      await refused({ packed: "not base64!" }, "not base64");
      await refused({ packed: Buffer.from("plain text, not deflate").toString("base64") }, "not raw DEFLATE");
      await refused({ packed: deflateRawSync(Buffer.from("{oops")).toString("base64") }, "not JSON");
      await refused({ packed: (await packMembers([{ ...snapshot(99), userId: "nope" }])).toString("base64") }, "packed: ");
      await refused({ packed: deflateRawSync(Buffer.alloc(9 * 1024 * 1024, 32)).toString("base64") }, "larger than");
      await refused({ packed, members: [] }, "not both or neither");
      await refused({}, "not both or neither");
      // Nothing refused was applied: the run still waits for chunk 1.
      const aborted = await bot.trpc.bot.syncAbort.mutate({ runId: run.id, reason: "test over" });
      expect(aborted).toMatchObject({ status: "incomplete", chunksReceived: 1, created: 30, markedLeft: 0 });
    });

    it("lets an admin link and unlink a user's Discord id, refusing a taken one", async () => {
      const me = await staff.trpc.session.me.query();
      const target = "700000000000000005";
      await staff.trpc.members.setDiscordId.mutate({ userId: me.user.id, discordId: target });
      expect((await staff.trpc.members.comparison.query({ category: "linked" })).counts.linked).toBe(3);
      await expect(staff.trpc.members.setDiscordId.mutate({ userId: "someone-else", discordId: target })).rejects.toSatisfy(
        (e) => codeOf(e) === "CONFLICT",
      );
      await staff.trpc.members.setDiscordId.mutate({ userId: me.user.id, discordId: null });
      expect((await staff.trpc.members.comparison.query({ category: "linked" })).counts.linked).toBe(2);
    });
  });
});
