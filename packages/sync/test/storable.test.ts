import { Schema } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BotHeartbeat,
  cleanPgText,
  DISCORD_EPOCH_MS,
  EpochMs,
  Int32,
  IsoDate,
  IsoInstant,
  isIsoDate,
  isIsoInstant,
  LATEST_EPOCH_MS,
  MemberSnapshot,
  PresenceUpdate,
  pgText,
  RoleSnapshot,
  storedRoleIds,
} from "../src";

const decode = <S extends Schema.Codec<unknown, unknown>>(schema: S, value: unknown) => Schema.decodeUnknownExit(schema)(value);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("PgText: text Postgres can store", () => {
  it("drops NUL and replaces lone surrogates with U+FFFD, keeping everything else", () => {
    expect(cleanPgText("evil\u0000status")).toBe("evilstatus");
    expect(cleanPgText("a\uD800b")).toBe("a\uFFFDb");
    expect(cleanPgText("a\uDC00b")).toBe("a\uFFFDb");
    expect(cleanPgText("\uDC00\uD800")).toBe("\uFFFD\uFFFD");
    expect(cleanPgText("ok 😀 ünï ‮")).toBe("ok 😀 ünï ‮");
    const plain = "nothing to clean";
    expect(cleanPgText(plain)).toBe(plain);
  });

  it("leaves no NUL and no lone surrogate in any string, and keeps clean strings as they are (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.string({ unit: fc.constantFrom("\u0000", "\uD800", "\uDFFF", "a") }),
        (a, b) => {
          const cleaned = cleanPgText(a + b + a);
          expect(cleaned.includes("\u0000")).toBe(false);
          expect(LONE_SURROGATE.test(cleaned)).toBe(false);
          expect(cleanPgText(cleaned)).toBe(cleaned);
          // Postgres stores the UTF-8 of the cleaned text unchanged.
          expect(Buffer.from(cleaned, "utf8").toString("utf8")).toBe(cleaned);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("checks lengths on the cleaned text, and cleans inside the member and role schemas", () => {
    expect(decode(pgText(3), "ab\u0000\u0000")).toMatchObject({ _tag: "Success", value: "ab" });
    expect(decode(pgText(3), "abcd")._tag).toBe("Failure");
    expect(decode(pgText(64, 1), "\u0000")._tag).toBe("Failure");
    const member = Schema.decodeUnknownSync(MemberSnapshot)({
      userId: "400000000000000001",
      username: "na\u0000me",
      globalName: "g\uD800",
      nick: "n\u0000",
      avatar: null,
      roleIds: [],
      joinedAt: null,
      isBot: false,
      pending: false,
      premiumSince: null,
      communicationDisabledUntil: null,
    });
    expect(member).toMatchObject({ username: "name", globalName: "g\uFFFD", nick: "n" });
    const role = Schema.decodeUnknownSync(RoleSnapshot)({
      id: "1",
      name: "r\u0000",
      color: 0,
      position: 0,
      managed: false,
      permissions: "0",
    });
    expect(role.name).toBe("r");
  });
});

describe("IsoInstant: real ISO-8601 instants only", () => {
  it("accepts what Discord and the old app send", () => {
    for (const value of [
      "2024-01-01T00:00:00Z",
      "2024-01-01T00:00:00.000Z",
      "2021-06-01T12:34:56.123456+00:00",
      "2024-02-29T23:59:59.999-05:30",
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999Z",
      "2000-02-29T12:00:00+14:00",
    ]) {
      expect(isIsoInstant(value), value).toBe(true);
    }
  });

  it("refuses impossible dates and times, missing offsets, junk and out-of-range instants", () => {
    for (const value of [
      '2024-01-01T","x',
      "2024-13-45T99:99:99Z",
      "2024-02-30T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2024-04-31T00:00:00Z",
      "0000-00-00",
      "0000-01-01T00:00:00Z",
      "2024-01-01",
      "2024-01-01T00:00:00",
      "2024-01-01T24:00:00Z",
      "2024-01-01T23:60:00Z",
      "2024-01-01T23:59:60Z",
      "2024-01-01T00:00:00Z junk",
      "2024-01-01T00:00:00Z';--",
      "2024-01-01 00:00:00Z",
      "2024-01-01T00:00:00+15:00",
      "2024-01-01T00:00:00+01:60",
      "2024-01-01T00:00:00.1234567890Z",
      "0001-01-01T00:00:00+01:00",
      "9999-12-31T23:59:59-00:01",
      "+012024-01-01T00:00:00Z",
      "２０２４-01-01T00:00:00Z",
    ]) {
      expect(isIsoInstant(value), value).toBe(false);
    }
    const failure = decode(Schema.Struct({ joinedAt: IsoInstant }), { joinedAt: "2024-02-30T00:00:00Z" });
    expect(failure._tag).toBe("Failure");
    expect(String(failure._tag === "Failure" && failure.cause)).toMatch(/ISO-8601 instant[\s\S]*joinedAt/);
  });

  it("agrees with the calendar for every date and time written in the format (property)", () => {
    const two = (n: number) => String(n).padStart(2, "0");
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        fc.constantFrom("Z", "+00:00", "-05:30", "+14:00"),
        (y, mo, d, h, mi, s, offset) => {
          const value = `${String(y).padStart(4, "0")}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:${two(s)}${offset}`;
          const date = new Date(0);
          date.setUTCFullYear(y, mo - 1, d);
          const realDay = mo >= 1 && mo <= 12 && d >= 1 && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
          const realTime = h <= 23 && mi <= 59 && s <= 59;
          const ms = Date.parse(value);
          const inRange =
            Number.isFinite(ms) && ms >= Date.parse("0001-01-01T00:00:00Z") && ms < Date.parse("9999-12-31T23:59:59.999Z") + 1;
          expect(isIsoInstant(value)).toBe(realDay && realTime && inRange);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe("Int32 and role lists", () => {
  it("bounds integers to Postgres' integer", () => {
    expect(decode(Int32, 2_147_483_647)._tag).toBe("Success");
    expect(decode(Int32, -2_147_483_648)._tag).toBe("Success");
    for (const bad of [2_147_483_648, -2_147_483_649, 1e15, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1"]) {
      expect(decode(Int32, bad)._tag, String(bad)).toBe("Failure");
    }
    expect(decode(RoleSnapshot, { id: "1", name: "r", color: 2 ** 31, position: 0, managed: false, permissions: "0" })._tag).toBe(
      "Failure",
    );
  });

  it("stores role ids sorted, once each, without the guild's own id (@everyone)", () => {
    const sorted = ["1", "2"];
    expect(storedRoleIds(sorted, "9")).toBe(sorted);
    expect(storedRoleIds(["9", "2", "1", "2"], "9")).toEqual(["1", "2"]);
    expect(storedRoleIds(["2", "1"], null)).toEqual(["1", "2"]);
  });
});

describe("IsoDate: real calendar days, YYYY-MM-DD and nothing else", () => {
  it("accepts real days of the years 0001 to 9999, and refuses the probe's dates and every other shape", () => {
    for (const value of ["2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2023-12-31"]) {
      expect(isIsoDate(value), value).toBe(true);
    }
    for (const value of [
      "2024-13-45",
      "2024-02-30",
      "0000-00-00",
      "2024-01-01 junk';--",
      "2023-02-29",
      "1900-02-29",
      "2024-04-31",
      "2024-00-10",
      "2024-01-00",
      "0000-01-01",
      "2024-1-01",
      "24-01-01",
      "2024-01-01T00:00:00Z",
      " 2024-01-01",
      "2024-01-01\n",
      "+02024-01-01",
      "２０２４-01-01",
      "",
    ]) {
      expect(isIsoDate(value), JSON.stringify(value)).toBe(false);
    }
    const failure = decode(Schema.Struct({ joinedAfter: IsoDate }), { joinedAfter: "2024-02-30" });
    expect(String(failure._tag === "Failure" && failure.cause)).toMatch(/YYYY-MM-DD[\s\S]*joinedAfter/);
  });

  it("agrees with the calendar for every date written in the format (property)", () => {
    const two = (n: number) => String(n).padStart(2, "0");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (y, mo, d) => {
        const value = `${String(y).padStart(4, "0")}-${two(mo)}-${two(d)}`;
        const date = new Date(0);
        date.setUTCFullYear(y, mo - 1, d);
        const realDay = y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
        expect(isIsoDate(value)).toBe(realDay);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("EpochMs: times the bot reports", () => {
  it("takes 2015-01-01 (Discord's epoch) to 9999-12-31 in epoch ms, and refuses everything else", () => {
    expect(new Date(DISCORD_EPOCH_MS).toISOString()).toBe("2015-01-01T00:00:00.000Z");
    expect(new Date(LATEST_EPOCH_MS).toISOString()).toBe("9999-12-31T23:59:59.999Z");
    for (const good of [DISCORD_EPOCH_MS, Date.now(), Date.now() + 0.5, LATEST_EPOCH_MS]) {
      expect(decode(EpochMs, good)._tag, String(good)).toBe("Success");
    }
    for (const bad of [DISCORD_EPOCH_MS - 1, LATEST_EPOCH_MS + 1, 0, -1, 1e15, 8.64e15, Number.NaN, Number.POSITIVE_INFINITY, "1"]) {
      expect(decode(EpochMs, bad)._tag, String(bad)).toBe("Failure");
    }
  });

  it("bounds a presence's observedAt and cleans its text; bounds a heartbeat's numbers and shard, cleaning its names", () => {
    const presence = {
      guildId: "1",
      userId: "2",
      status: "online",
      customStatus: "a\u0000b",
      activities: [{ name: "n\uD800", type: 0, state: "s\u0000", details: null }],
      clientStatus: {},
      observedAt: Date.now(),
    };
    expect(Schema.decodeUnknownSync(PresenceUpdate)(presence)).toMatchObject({
      customStatus: "ab",
      activities: [{ name: "n\uFFFD", state: "s", details: null }],
    });
    expect(decode(PresenceUpdate, { ...presence, observedAt: 1e15 })._tag).toBe("Failure");
    const heartbeat = {
      shardId: 0,
      shardCount: 1,
      status: "READY\u0000",
      connected: true,
      pingMs: 12.5,
      guilds: [{ id: "3", name: "G\u0000", icon: null }],
      lastEventAt: null,
      startedAt: Date.now(),
    };
    expect(Schema.decodeUnknownSync(BotHeartbeat)(heartbeat)).toMatchObject({ status: "READY", guilds: [{ name: "G" }] });
    for (const bad of [
      { pingMs: 2 ** 31 },
      { pingMs: -1 },
      { startedAt: 0 },
      { lastEventAt: 1e15 },
      { shardId: 1 },
      { shardId: 42, shardCount: 1 },
      { guilds: [{ id: "0", name: "g", icon: null }] },
    ]) {
      expect(decode(BotHeartbeat, { ...heartbeat, ...bad })._tag, JSON.stringify(bad)).toBe("Failure");
    }
    const shard = decode(BotHeartbeat, { ...heartbeat, shardId: 42 });
    expect(String(shard._tag === "Failure" && shard.cause)).toMatch(/below shardCount[\s\S]*shardId/);
  });
});
