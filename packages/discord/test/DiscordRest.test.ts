import { type Emulator, startEmulator } from "@guildhall/emulator";
import { Effect, Stream } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordRequestError, DiscordRest } from "../src";

describe("DiscordRest against the emulator", () => {
  let emulator: Emulator;
  let guildId: string;
  const run = <A, E>(effect: Effect.Effect<A, E, DiscordRest>, token = emulator.token) =>
    Effect.runPromise(effect.pipe(Effect.provide(DiscordRest.layer({ token, api: emulator.apiUrl }))));

  beforeAll(async () => {
    emulator = await startEmulator();
    guildId = emulator.seedGuild({ seed: 3, members: 2_500, staff: 5 }).guildId;
  });
  afterAll(() => emulator?.close());

  it("pages through every member, ascending by id, one page of at most 1,000 at a time", async () => {
    const pages = await run(DiscordRest.use((d) => Stream.runCollect(d.memberPages(guildId))));
    const sizes = [...pages].map((page) => page.length);
    expect(sizes).toEqual([1_000, 1_000, 500]);
    const ids = [...pages].flat().map((m) => BigInt(m.user.id));
    expect(new Set(ids).size).toBe(2_500);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it("reads the gateway, the guild with counts, and its roles", async () => {
    const [gateway, guild, roles] = await run(DiscordRest.use((d) => Effect.all([d.gatewayBot(), d.guild(guildId), d.roles(guildId)])));
    expect(gateway.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    expect(guild.id).toBe(guildId);
    expect(guild.approximate_member_count).toBe(2_500);
    expect(roles.some((r) => r.name === "@everyone")).toBe(true);
  });

  it("fails with Discord's error code: Unknown Guild, Unknown Member, bad token", async () => {
    const unknownGuild = await run(DiscordRest.use((d) => Effect.flip(d.guild("1"))));
    expect(unknownGuild).toBeInstanceOf(DiscordRequestError);
    expect(unknownGuild).toMatchObject({ status: 404, code: 10004, route: "GET /guilds/1" });
    const unknownMember = await run(DiscordRest.use((d) => Effect.flip(d.member(guildId, "2"))));
    expect(unknownMember).toMatchObject({ status: 404, code: 10007 });
    const badToken = await run(
      DiscordRest.use((d) => Effect.flip(d.guild(guildId))),
      "not-the-token",
    );
    expect(badToken).toMatchObject({ status: 401 });
  });
});
