import { Snowflake } from "@guildhall/discord/schema";
import { Schema, SchemaGetter } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DerivationError, derive, inputOf, leaks, oneHostile, Pools, proceduresOf, SNOWFLAKE_EDGES, show, WRONG_TYPES } from "../src";

/** Like @guildhall/sync's PgText: a string cleaned on decoding (a transformation the derivation must see through). */
const Cleaned = Schema.String.pipe(
  Schema.decode({
    decode: SchemaGetter.transform((text: string) => text.replaceAll("\u0000", "")),
    encode: SchemaGetter.transform((text: string) => text),
  }),
).check(Schema.isMaxLength(8));

const IsoDay = Schema.String.check(
  Schema.makeFilter((value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)), {
    message: "must be an ISO day",
  }),
);

const Everything = Schema.Struct({
  id: Snowflake,
  name: Cleaned,
  day: Schema.optional(IsoDay),
  count: Schema.Int.check(Schema.isBetween({ minimum: -5, maximum: 5 })),
  ratio: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  kind: Schema.Literals(["a", "b"]),
  tags: Schema.Array(Schema.String.check(Schema.isPattern(/^[a-z]{1,4}$/))).check(Schema.isMinLength(1), Schema.isMaxLength(3)),
  maybe: Schema.NullOr(Schema.Boolean),
  pair: Schema.Tuple([Schema.Number, Schema.String]),
  extra: Schema.Record(Schema.String, Schema.Number),
  either: Schema.Union([Schema.Struct({ type: Schema.Literal("x"), x: Schema.Int }), Schema.Struct({ type: Schema.Literal("y") })]),
  uuid: Schema.String.check(Schema.isUUID()),
});

const decodes = (schema: Schema.Codec<unknown, unknown>) => {
  const decode = Schema.decodeUnknownExit(schema);
  return (value: unknown) => decode(value)._tag === "Success";
};

describe("derive", () => {
  it("makes only valid values in `valid`, through transformations, custom filters, unions, tuples and records", () => {
    const derived = derive(Everything.ast);
    const ok = decodes(Everything as unknown as Schema.Codec<unknown, unknown>);
    const samples = fc.sample(derived.valid, { numRuns: 300, seed: 1 });
    expect(samples.filter((value) => !ok(value)).map(show)).toEqual([]);
  });

  it("mixes hostile values in: NUL, lone surrogates, snowflake edges, impossible dates, wrong types, all refused by the schema", () => {
    const derived = derive(Everything.ast);
    const ok = decodes(Everything as unknown as Schema.Codec<unknown, unknown>);
    const samples = fc.sample(inputOf(derived), { numRuns: 1_000, seed: 2 });
    const text = samples.map((value) => JSON.stringify(value)).join("\n");
    expect(text).toContain("\\u0000");
    expect(text).toMatch(/\\ud[89ab][0-9a-f]{2}/);
    expect(SNOWFLAKE_EDGES.filter((edge) => text.includes(JSON.stringify(edge))).length).toBeGreaterThan(3);
    expect(text).toContain("2024-13-45");
    const refused = samples.filter((value) => !ok(value)).length;
    expect(refused).toBeGreaterThan(300);
    expect(refused).toBeLessThan(900);
  });

  it("makes one slot hostile in `oneHostile`, and leaves the rest valid", () => {
    const Flat = Schema.Struct({ a: Schema.Literal("A"), b: Schema.Literal("B"), c: Schema.Literal("C") });
    for (const value of fc.sample(oneHostile(derive(Flat.ast)), { numRuns: 300, seed: 3 })) {
      // The whole object replaced by a value of the wrong type is one slot too.
      if (typeof value !== "object" || value === null || Array.isArray(value) || WRONG_TYPES.some((w) => show(w) === show(value))) continue;
      const differing = Object.entries({ a: "A", b: "B", c: "C" }).filter(
        ([key, literal]) => (value as Record<string, unknown>)[key] !== literal,
      );
      const extra = Object.keys(value).filter((key) => !["a", "b", "c"].includes(key));
      expect(differing.length + extra.length, show(value)).toBeLessThanOrEqual(1);
    }
  });

  it("draws snowflakes, UUIDs and ids from the pools when it has them", () => {
    const pools = new Pools({ snowflakes: ["800000000000000001"], uuids: ["6f1c2b1e-0c6a-4b8e-9a53-0f6f4f1f7a11"] });
    const derived = derive(Schema.Struct({ guildId: Snowflake, runId: Schema.String.check(Schema.isUUID()) }).ast, { pools });
    const samples = fc.sample(derived.valid, { numRuns: 100, seed: 4 }) as Array<{ guildId: string; runId: string }>;
    expect(samples.filter((s) => s.guildId === "800000000000000001").length).toBeGreaterThan(30);
    expect(samples.filter((s) => s.runId === "6f1c2b1e-0c6a-4b8e-9a53-0f6f4f1f7a11").length).toBeGreaterThan(30);
  });

  it.each([
    ["Declaration", Schema.Struct({ at: Schema.Date })],
    ["TemplateLiteral", Schema.Struct({ key: Schema.TemplateLiteral(["user-", Schema.Number]) })],
    ["BigInt", Schema.Struct({ big: Schema.BigInt })],
  ])("fails naming a node it does not know (%s)", (node, schema) => {
    expect(() => derive(schema.ast)).toThrow(DerivationError);
    expect(() => derive(schema.ast)).toThrow(new RegExp(`${node} at \\w+`));
  });

  it("fails naming a custom filter that no known value shape satisfies", () => {
    const Magic = Schema.Struct({
      word: Schema.String.check(Schema.makeFilter((s: string) => s === "xyzzy-plugh", { message: "must be the magic word" })),
    });
    expect(() => derive(Magic.ast)).toThrow(/String at word: .*must be the magic word/);
  });
});

describe("proceduresOf", () => {
  const procedure = (type: string, inputs: ReadonlyArray<unknown>) => ({ _def: { type, inputs } });

  it("lists every procedure with its type, deriving each input, and records why one cannot be derived", () => {
    const entries = proceduresOf({
      _def: {
        procedures: {
          "a.get": procedure("query", [Schema.toStandardSchemaV1(Schema.Struct({ id: Snowflake }))]),
          "a.none": procedure("mutation", []),
          "b.zod": procedure("query", [{ "~standard": { vendor: "zod", validate: () => ({ value: 1 }) } }]),
          "b.date": procedure("subscription", [Schema.toStandardSchemaV1(Schema.Struct({ at: Schema.Date }))]),
        },
      },
    });
    expect(entries.map((e) => [e.path, e.family, e.type, e.input instanceof DerivationError ? e.input.node : "ok"])).toEqual([
      ["a.get", "a", "query", "ok"],
      ["a.none", "a", "mutation", "ok"],
      ["b.date", "b", "subscription", "Declaration"],
      ["b.zod", "b", "query", "input"],
    ]);
    const none = entries[1]!.input;
    if (none instanceof DerivationError) throw none;
    expect(fc.sample(none.valid, 3)).toEqual([undefined, undefined, undefined]);
  });
});

describe("Pools", () => {
  it("harvests snowflakes, UUIDs (also from tracked ids) and other ids from an answer", () => {
    const pools = new Pools();
    pools.harvest({
      guild: { id: "800000000000000001", name: "G" },
      runs: [{ id: "6F1C2B1E-0C6A-4B8E-9A53-0F6F4F1F7A11" }],
      command: "0b7d1c6e-2f4b-4a54-8c1e-3a2b5c4d6e7f:2",
      userId: "u_abc123",
      text: "not an id",
    });
    expect(pools.snowflakes).toEqual(["800000000000000001"]);
    expect(pools.uuids.sort()).toEqual(["0b7d1c6e-2f4b-4a54-8c1e-3a2b5c4d6e7f", "6f1c2b1e-0c6a-4b8e-9a53-0f6f4f1f7a11"]);
    expect(pools.ids).toEqual(["u_abc123"]);
  });
});

describe("Pools by field", () => {
  it("remembers which field an id was seen in (an `id` takes its object's name), and derived fields of that name draw from it", () => {
    const pools = new Pools();
    pools.harvest({ guild: { id: "800000000000000001", name: "G" }, members: [{ userId: "810000000000000001" }] });
    pools.remember("roleId", "830000000000000001");
    expect(pools.pickFor("guild_id", () => true, 0)).toBe("800000000000000001");
    expect(pools.pickFor("userIds", () => true, 0)).toBe("810000000000000001");
    const derived = derive(
      Schema.Struct({ guildId: Snowflake, roleIds: Schema.Array(Snowflake), user: Schema.Struct({ id: Snowflake }) }).ast,
      {
        pools,
      },
    );
    const samples = fc.sample(derived.valid, { numRuns: 200, seed: 5 }) as Array<{
      guildId: string;
      roleIds: Array<string>;
      user: { id: string };
    }>;
    expect(samples.filter((s) => s.guildId === "800000000000000001").length).toBeGreaterThan(80);
    expect(samples.flatMap((s) => s.roleIds).filter((id) => id === "830000000000000001").length).toBeGreaterThan(80);
    expect(samples.filter((s) => s.user.id === "810000000000000001").length).toBeGreaterThan(60);
  });
});

describe("leaks", () => {
  it("names what was opened and not handed to the caller, and accepts what the answer carries", () => {
    const before = { runs: new Set(["r0"]), botJobs: new Set<string>() };
    const after = { runs: new Set(["r0", "r1", "r2"]), botJobs: new Set(["j1"]) };
    expect(leaks(before, after, '{"id":"r1"}')).toEqual([
      "member sync run r2 left running (the caller never got its id)",
      "pg-boss job j1 left active (handed to nobody)",
    ]);
  });
});

describe("show", () => {
  it("cuts long strings and deep values, and escapes NUL and lone surrogates", () => {
    expect(show({ a: "x".repeat(1_000), b: "n\u0000l\ud800" })).toBe(`{"a":"${"x".repeat(80)}…"(1000 chars),"b":"n\\u0000l\\ud800"}`);
    expect(show([[[[[[[[1]]]]]]]])).toBe("[[[[[[[…]]]]]]]");
  });
});
