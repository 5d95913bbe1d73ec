import { deflateRawSync, inflateRawSync } from "node:zlib";
import { MEMBER_SNAPSHOT_FIELDS, MemberSnapshot } from "@guildhall/sync/members";
import { Effect, Exit, Schema } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keptMembers, MEMBER_TUPLE_FIELDS, packMembers, unpackMembers } from "../src/pack";

const member = (n: number): MemberSnapshot => ({
  userId: String(720_000_000_000_000_000n + BigInt(n)),
  username: `packed${n}`,
  globalName: n % 2 ? null : `Packed ${n}`,
  nick: n % 3 ? null : `nick "${n}"`,
  avatar: null,
  roleIds: n % 4 ? [] : ["500000000000000001"],
  joinedAt: "2024-05-01T00:00:00.000Z",
  isBot: n % 5 === 0,
  pending: n % 7 === 0,
  premiumSince: n % 2 ? "2024-06-01T00:00:00.000Z" : null,
  communicationDisabledUntil: null,
});

const unpack = (packed: string) => Effect.runSyncExit(unpackMembers(packed));
const tuplesOf = (packed: Buffer) => JSON.parse(inflateRawSync(packed).toString("utf8")) as unknown[][];

describe("the packed member chunk", () => {
  it("packs tuples in the MemberSnapshot schema's field order, and unpacks to the same members", async () => {
    expect(MEMBER_TUPLE_FIELDS).toEqual(MEMBER_SNAPSHOT_FIELDS);
    const members = Array.from({ length: 50 }, (_, n) => member(n));
    const packed = await packMembers(members);
    const [first] = tuplesOf(packed);
    expect(first).toEqual(MEMBER_TUPLE_FIELDS.map((field) => members[0]![field]));
    expect(unpack(packed.toString("base64"))).toEqual(Exit.succeed(members));
  });

  it("cleans text and checks every field while unpacking, naming the member and field", async () => {
    const dirty = { ...member(1), nick: "bad\u0000nick\uD800" };
    const cleaned = unpack((await packMembers([dirty])).toString("base64"));
    expect(Exit.isSuccess(cleaned) && cleaned.value[0]!.nick).toBe("badnick\uFFFD");
    const badDate = unpack((await packMembers([member(0), { ...member(1), joinedAt: "2024-13-45T99:99:99Z" }])).toString("base64"));
    expect(String(Exit.isFailure(badDate) && badDate.cause)).toMatch(/packed: 1\.joinedAt: must be an ISO-8601 instant/);
  });

  it("refuses anything that is not a packed chunk with InvalidPackedChunk, never a defect (property)", () => {
    const hostileValue = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.constantFrom("2024-13-45T99:99:99Z", "2024-02-30T00:00:00Z", "0000-00-00", '2024-01-01T","x', "\u0000", "\uD800"),
      fc.integer(),
      fc.double(),
      fc.constantFrom(2 ** 31, -(2 ** 63), 1e308, null, true, [], {}),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    const tuple = fc.array(hostileValue, { minLength: 9, maxLength: 13 });
    const body = fc.oneof(
      fc.array(tuple, { maxLength: 5 }).map((tuples) => deflateRawSync(Buffer.from(JSON.stringify(tuples))).toString("base64")),
      fc.json().map((json) => deflateRawSync(Buffer.from(json)).toString("base64")),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("base64")),
      fc.string({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(body, (packed) => {
        const exit = unpack(packed);
        if (Exit.isFailure(exit)) {
          expect(Exit.hasDies(exit)).toBe(false);
          expect(String(exit.cause)).toContain("InvalidPackedChunk");
        } else {
          // What unpacks is storable: no NUL, checked fields.
          for (const m of exit.value) expect(JSON.stringify(m)).not.toContain("\\u0000");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("takes the fast path only for members the schema keeps exactly as they are (property)", () => {
    const text = fc.oneof(
      { weight: 12, arbitrary: fc.string({ minLength: 1, maxLength: 64 }) },
      fc.string({ maxLength: 70 }),
      fc.string({ unit: "binary", maxLength: 70 }),
      fc.integer({ min: 0, max: 70 }).map((n) => "x".repeat(n)),
      fc.constantFrom("", "a", "\u0000", "a\u0000b", "\uD800", "\uDC00x", "\uD83D\uDE00", "x".repeat(64), "x".repeat(65)),
    );
    const snowflake = fc.oneof(
      { weight: 12, arbitrary: fc.bigInt({ min: 10n ** 16n, max: 10n ** 19n }).map(String) },
      fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }).map(String),
      fc.constantFrom("0", "01", "18446744073709551615", "18446744073709551616", "-1", "1e3", " 1", "123456789012345678901"),
    );
    const instant = fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      fc
        .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.constantFrom(
        "2024-01-02T03:04:05.678000+00:00",
        "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-13-45T99:99:99Z",
        "2024-01-01T24:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2024-01-01",
        "",
      ),
    );
    const field = (valid: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 30, arbitrary: valid }, fc.constantFrom<unknown>(null, true, 0, 1.5, [], {}, "x", undefined));
    const tuple = fc.tuple(
      field(snowflake),
      field(text),
      field(text),
      field(text),
      field(text),
      field(
        fc.oneof(
          { weight: 8, arbitrary: fc.array(snowflake, { maxLength: 4 }) },
          fc.array(snowflake, { maxLength: 4 }),
          fc.array(fc.constant("500000000000000001"), { minLength: 249, maxLength: 252 }),
        ),
      ),
      field(instant),
      field(fc.boolean()),
      field(fc.boolean()),
      field(instant),
      field(instant),
    );
    const decode = Schema.decodeUnknownExit(MemberSnapshot);
    let kept = 0;
    fc.assert(
      fc.property(tuple, (values) => {
        const fast = keptMembers([values]);
        if (fast === null) return;
        kept++;
        const member = Object.fromEntries(MEMBER_TUPLE_FIELDS.map((name, i) => [name, values[i]]));
        // Whatever the fast path takes, the schema takes too, and returns exactly the same member.
        expect(decode(member)).toEqual(Exit.succeed(fast[0]));
      }),
      { numRuns: 3000 },
    );
    // The generators reach the fast path often enough for the property to mean something.
    expect(kept).toBeGreaterThan(100);
  });
});
