/**
 * fast-check arbitraries derived from an Effect Schema's AST: mostly valid values, with hostile
 * ones (./hostile.ts) mixed in at any leaf.
 *
 * What the derivation knows: Struct (Objects with property and index signatures, optional keys),
 * Union, Literal(s), Enum, Null, Undefined, Void, Unknown, Any, String (length checks, patterns,
 * custom filters), Number (Int, Finite, bounds), Boolean, Array and tuples (length checks),
 * Suspend (to a bounded depth), and transformations (a valid value is made on the decoded side
 * and encoded; hostile ones are made on the encoded side, what travels on the wire). Any other
 * node (Declaration such as Schema.Date or a Class, TemplateLiteral, BigInt, Symbol, ...) throws
 * {@link DerivationError} naming it and where it is, so a schema the harness cannot fuzz fails
 * the test instead of being skipped.
 *
 * Checks: the built-in ones carry `arbitraryConstraint` annotations (lengths, bounds, patterns),
 * used to generate; every check's own `run` then filters, so custom filters (a snowflake, an
 * ISO instant) hold too. A custom filter is satisfied by trying known value shapes (snowflakes,
 * UUIDs, ISO instants and dates, digits, words, the known-value pools) and keeping those it
 * accepts; when none fits, the derivation fails naming the filter's message.
 */

import { isSnowflake } from "@guildhall/discord/snowflake";
import { SchemaAST as AST, Schema } from "effect";
import fc from "fast-check";
import { EXTRA_KEYS, type HostilePick, hostileAny, hostileAnyPick, hostileNumberPick, hostileOf, hostileStringPick } from "./hostile";
import { fieldKey, type Pools } from "./pools";

/** A schema node the derivation does not know, or a check no known value satisfies. */
export class DerivationError extends Error {
  constructor(
    /** The AST node's tag (`Declaration`, `TemplateLiteral`, ...) or `check`. */
    readonly node: string,
    /** Where it is, as a dotted path from the root (`(root)`, `updates.[]`, `guildId`). */
    readonly path: string,
    detail: string,
  ) {
    super(`cannot derive fuzz inputs for ${node} at ${path}: ${detail}`);
    this.name = "DerivationError";
  }
}

/** Where a value can be replaced: a path from the root (keys and indexes), and what may replace it there. */
export interface Slot {
  readonly path: ReadonlyArray<string | number>;
  readonly hostile: HostilePick;
}

/**
 * What is derived for a node: its valid values, valid values with hostile leaves mixed in (one
 * leaf in `hostileOneIn`), and the slots of a valid value (each leaf, and each container as a
 * whole), so that exactly one of them can be made hostile ({@link oneHostile}).
 */
export interface Derived {
  readonly valid: fc.Arbitrary<unknown>;
  readonly mixed: fc.Arbitrary<unknown>;
  readonly slots: (value: unknown) => ReadonlyArray<Slot>;
}

/** Options for {@link derive}. */
export interface DeriveOptions {
  /** Known values to draw snowflakes, UUIDs and ids from (read at generation time). */
  readonly pools?: Pools | undefined;
  /** One leaf in this many is hostile in `mixed` values. Default 6. */
  readonly hostileOneIn?: number;
  /** Most items a derived array holds when its schema allows more (kept small: cases must be cheap). Default 4. */
  readonly maxItems?: number;
  /** How deep `Suspend` (recursive schemas) is followed. Default 4. */
  readonly maxRecursion?: number;
}

interface Ctx {
  readonly pools: Pools | undefined;
  readonly hostileOneIn: number;
  readonly maxItems: number;
  readonly maxRecursion: number;
  readonly recursion: number;
}

type Filter = AST.Filter<unknown>;

/** The constraints the built-in checks declare (`arbitraryConstraint` annotations), merged. */
interface Constraint {
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  integer?: boolean;
  patterns?: Array<RegExp>;
}

const collectChecks = (checks: AST.Checks | undefined): { constraint: Constraint; filters: Array<Filter> } => {
  const constraint: Constraint = {};
  const filters: Array<Filter> = [];
  const visit = (check: AST.Check<unknown>) => {
    const c = (check.annotations as { arbitraryConstraint?: Record<string, unknown> } | undefined)?.arbitraryConstraint;
    if (c) {
      if (typeof c.minLength === "number") constraint.minLength = Math.max(constraint.minLength ?? 0, c.minLength);
      if (typeof c.maxLength === "number") constraint.maxLength = Math.min(constraint.maxLength ?? Number.POSITIVE_INFINITY, c.maxLength);
      if (typeof c.minimum === "number") constraint.minimum = Math.max(constraint.minimum ?? Number.NEGATIVE_INFINITY, c.minimum);
      if (typeof c.maximum === "number") constraint.maximum = Math.min(constraint.maximum ?? Number.POSITIVE_INFINITY, c.maximum);
      if (c.exclusiveMinimum === true) constraint.exclusiveMinimum = true;
      if (c.exclusiveMaximum === true) constraint.exclusiveMaximum = true;
      if (c.number === "integer") constraint.integer = true;
      if (Array.isArray(c.patterns)) {
        const patterns = (c.patterns as Array<{ source: string; flags: string }>).map((p) => new RegExp(p.source, p.flags));
        constraint.patterns = [...(constraint.patterns ?? []), ...patterns];
      }
    }
    if (check._tag === "Filter") filters.push(check as Filter);
    else for (const inner of check.checks) visit(inner);
  };
  for (const check of checks ?? []) visit(check);
  return { constraint, filters };
};

const passesAll = (filters: ReadonlyArray<Filter>, ast: AST.AST) => (value: unknown) => {
  for (const filter of filters) {
    try {
      if (filter.run(value, ast, {}) !== undefined) return false;
    } catch {
      return false;
    }
  }
  return true;
};

const describeFilters = (filters: ReadonlyArray<Filter>): string =>
  filters
    .map((f) => {
      const a = f.annotations as { message?: unknown; expected?: unknown; description?: unknown } | undefined;
      return String(a?.message ?? a?.expected ?? a?.description ?? "a custom filter");
    })
    .join("; ");

/** Fraction of `samples` values of `arb` that `ok` accepts (deterministic: a fixed seed). */
const passRate = (arb: fc.Arbitrary<unknown>, ok: (value: unknown) => boolean, samples = 40): number => {
  let passed = 0;
  for (const value of fc.sample(arb, { numRuns: samples, seed: 8 })) if (ok(value)) passed++;
  return passed / samples;
};

/** Keeps the candidate arbitraries that `ok` accepts often enough, filtered by `ok`; null when none does. */
const satisfying = (
  candidates: ReadonlyArray<fc.Arbitrary<unknown> | fc.WeightedArbitrary<unknown>>,
  ok: (value: unknown) => boolean,
): fc.Arbitrary<unknown> | null => {
  const weighted = candidates.map((c) => ("arbitrary" in c ? c : { arbitrary: c, weight: 1 }));
  const kept = weighted.filter((c) => passRate(c.arbitrary, ok) >= 0.25);
  if (kept.length === 0) return null;
  return fc.oneof(...kept).filter(ok);
};

const TWO_TO_THE_64 = 18_446_744_073_709_551_616n;

/** Valid snowflakes, mostly of today's 17 to 19 digits. */
const snowflakeArb = fc.oneof(
  { arbitrary: fc.bigInt({ min: 10n ** 16n, max: 10n ** 19n - 1n }).map(String), weight: 4 },
  { arbitrary: fc.bigInt({ min: 1n, max: TWO_TO_THE_64 - 1n }).map(String), weight: 1 },
  { arbitrary: fc.constantFrom("1", String(TWO_TO_THE_64 - 1n)), weight: 1 },
);

const instantArb = fc
  .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-12-31T23:59:59Z"), noInvalidDate: true })
  .chain((date) =>
    fc.constantFrom(date.toISOString(), date.toISOString().replace(".000Z", "Z"), `${date.toISOString().slice(0, 19)}+02:00`),
  );

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The field a path ends in, for the pools (`updates.[].guildId` -> `guildId`, `roleIds.[]` ->
 * `roleIds`); an `id` takes its object's name (`user.id` -> `userid`), as `Pools.harvest` does.
 */
const fieldOf = (path: string): string => {
  const segments = path
    .split(".")
    .filter((s) => s !== "[]" && s !== "(root)" && !/^\d+$/.test(s))
    .map((s) => s.replace(/<\d+>$/, ""));
  const last = segments.at(-1) ?? "";
  const parent = segments.at(-2);
  return last === "id" && parent !== undefined ? `${fieldKey(parent)}id` : last;
};

/**
 * Known value shapes tried against a string's checks, besides its own patterns. Ids come mostly
 * from the pools: first those seen in a field of the same name (a `guildId` gets guild ids), then
 * any of their kind, then random ones.
 */
const stringShapes = (ctx: Ctx, constraint: Constraint, field: string): Array<fc.Arbitrary<unknown> | fc.WeightedArbitrary<unknown>> => {
  const min = constraint.minLength ?? 0;
  const max = Math.min(constraint.maxLength ?? 64, Math.max(min, 64));
  const pools = ctx.pools;
  const known = (kind: "snowflakes" | "uuids" | "ids", accept: (value: string) => boolean, random: fc.Arbitrary<string>) =>
    pools
      ? fc.oneof(
          {
            arbitrary: fc.tuple(fc.nat(), random).map(([i, other]) => pools.pickFor(field, accept, i) ?? pools.pick(kind, i) ?? other),
            weight: 3,
          },
          { arbitrary: fc.tuple(fc.nat(), random).map(([i, other]) => pools.pick(kind, i) ?? other), weight: 2 },
          { arbitrary: random, weight: 1 },
        )
      : random;
  const text = fc.string({ unit: "grapheme-ascii", minLength: Math.max(1, min), maxLength: Math.max(1, Math.min(max, 32)) });
  return [
    fc.string({ unit: "grapheme", minLength: min, maxLength: max }),
    fc.string({ unit: "grapheme-ascii", minLength: min, maxLength: max }),
    // Known ids weigh more: they reach past "not found".
    { arbitrary: known("snowflakes", (value) => isSnowflake(value), snowflakeArb), weight: 4 },
    { arbitrary: known("uuids", (value) => UUID_SHAPE.test(value), fc.uuid()), weight: 4 },
    { arbitrary: known("ids", (value) => !isSnowflake(value) && !UUID_SHAPE.test(value), text), weight: 2 },
    instantArb,
    instantArb.map((iso) => iso.slice(0, 10)),
    fc.stringMatching(/^[0-9]{1,12}$/),
    fc.emailAddress(),
  ];
};

const here = (hostile: HostilePick) => (): ReadonlyArray<Slot> => [{ path: [], hostile }];

const leaf = (ctx: Ctx, valid: fc.Arbitrary<unknown>, hostile: HostilePick): Derived => ({
  valid,
  mixed: fc.oneof({ arbitrary: valid, weight: ctx.hostileOneIn - 1 }, { arbitrary: hostileOf(hostile, valid), weight: 1 }),
  slots: here(hostile),
});

const deriveString = (ast: AST.AST, path: string, ctx: Ctx): Derived => {
  const { constraint, filters } = collectChecks(ast.checks);
  const ok = passesAll(filters, ast);
  const candidates: Array<fc.Arbitrary<unknown> | fc.WeightedArbitrary<unknown>> = (constraint.patterns ?? []).map((pattern) => ({
    arbitrary: fc.stringMatching(pattern),
    weight: 2,
  }));
  candidates.push(...stringShapes(ctx, constraint, fieldOf(path)));
  const valid = satisfying(candidates, ok);
  if (!valid) throw new DerivationError("String", path, `no known value shape satisfies its checks (${describeFilters(filters)})`);
  return leaf(ctx, valid, hostileStringPick);
};

const deriveNumber = (ast: AST.AST, path: string, ctx: Ctx): Derived => {
  const { constraint, filters } = collectChecks(ast.checks);
  const ok = passesAll(filters, ast);
  const lo = constraint.minimum ?? Number.NEGATIVE_INFINITY;
  const hi = constraint.maximum ?? Number.POSITIVE_INFINITY;
  let base: fc.Arbitrary<number>;
  if (constraint.integer) {
    const min = Math.max(Math.ceil(lo) + (constraint.exclusiveMinimum && Number.isInteger(lo) ? 1 : 0), Number.MIN_SAFE_INTEGER);
    const max = Math.min(Math.floor(hi) - (constraint.exclusiveMaximum && Number.isInteger(hi) ? 1 : 0), Number.MAX_SAFE_INTEGER);
    if (min > max) throw new DerivationError("Number", path, `no integer lies between ${lo} and ${hi}`);
    const edges = [min, max, ...(min <= 0 && max >= 0 ? [0] : [])];
    base = fc.oneof({ arbitrary: fc.integer({ min, max }), weight: 4 }, { arbitrary: fc.constantFrom(...edges), weight: 1 });
  } else {
    const min = Number.isFinite(lo) ? lo : -Number.MAX_VALUE;
    const max = Number.isFinite(hi) ? hi : Number.MAX_VALUE;
    // Anywhere in the range, which fast-check biases toward its ends and toward 0.
    const doubles = fc.double({
      min,
      max,
      noNaN: true,
      noDefaultInfinity: true,
      minExcluded: constraint.exclusiveMinimum === true,
      maxExcluded: constraint.exclusiveMaximum === true,
    });
    // Mostly the small whole numbers real clients send (ms, counts), some anywhere in the range.
    const small = fc.integer({ min: Math.ceil(Math.max(min, -1_000)), max: Math.floor(Math.min(max, 1e13)) });
    base = min <= max ? fc.oneof({ arbitrary: small, weight: 2 }, { arbitrary: doubles, weight: 1 }) : doubles;
  }
  // Known number shapes for custom filters: small counts, epoch ms and epoch s of the years around now.
  const shapes = [
    fc.integer({ min: -1_000, max: 1_000 }),
    fc.integer({ min: 1_420_070_400_000, max: 2_100_000_000_000 }),
    fc.integer({ min: 1_420_070_400, max: 2_100_000_000 }),
  ];
  const valid = satisfying([base, ...shapes], ok);
  if (!valid) throw new DerivationError("Number", path, `no generated number satisfies its checks (${describeFilters(filters)})`);
  return leaf(ctx, valid, hostileNumberPick({ min: constraint.minimum, max: constraint.maximum }));
};

/** Applies a container's own checks (on Objects and Arrays) to its valid values. */
const checked = (ast: AST.AST, path: string, derived: Derived): Derived => {
  const { filters } = collectChecks(ast.checks);
  if (filters.length === 0) return derived;
  const ok = passesAll(filters, ast);
  const valid = satisfying([derived.valid], ok);
  if (!valid) throw new DerivationError(ast._tag, path, `its own checks refuse the derived values (${describeFilters(filters)})`);
  return { ...derived, valid };
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const prefixed = (key: string | number, slots: ReadonlyArray<Slot>): Array<Slot> =>
  slots.map((slot) => ({ ...slot, path: [key, ...slot.path] }));

const deriveObjects = (ast: AST.Objects, path: string, ctx: Ctx): Derived => {
  const children = new Map<string, Derived>();
  const required: Array<string> = [];
  for (const ps of ast.propertySignatures) {
    if (typeof ps.name !== "string") throw new DerivationError("PropertySignature", path, `key ${String(ps.name)} is not a string`);
    children.set(ps.name, deriveNode(ps.type, join(path, ps.name), ctx));
    if (!AST.isOptional(ps.type)) required.push(ps.name);
  }
  const records = ast.indexSignatures.map((is, i) => ({
    key: deriveNode(is.parameter, `${path}[key ${i}]`, ctx),
    value: deriveNode(is.type, `${path}[value ${i}]`, ctx),
  }));
  const build = (pick: (d: Derived) => fc.Arbitrary<unknown>) =>
    fc
      .tuple(
        fc.record(Object.fromEntries([...children].map(([name, child]) => [name, pick(child)])), { requiredKeys: required }),
        ...records.map((r) => fc.dictionary(pick(r.key).map(String), pick(r.value), { maxKeys: ctx.maxItems })),
      )
      .map(([record, ...dicts]) => Object.assign({}, ...dicts, record));
  const valid = build((d) => d.valid);
  const mixed = build((d) => d.mixed);
  // The object as a whole: a wrong type, an extra key, a required key missing.
  const whole: HostilePick = (j, current) => {
    if (!isRecord(current) || j % 3 === 0) return hostileAnyPick(Math.floor(j / 3), current);
    const copy: Record<string, unknown> = { ...current };
    if (j % 3 === 1 || required.length === 0) {
      const key = EXTRA_KEYS[Math.floor(j / 3) % EXTRA_KEYS.length]!;
      Object.defineProperty(copy, key, { value: hostileAnyPick(Math.floor(j / 9), undefined), enumerable: true, configurable: true });
    } else delete copy[required[Math.floor(j / 3) % required.length]!];
    return copy;
  };
  return checked(ast, path, {
    valid,
    mixed: fc.oneof({ arbitrary: mixed, weight: 8 }, { arbitrary: hostileOf(whole, valid), weight: 1 }),
    slots: (value) => {
      const slots: Array<Slot> = [{ path: [], hostile: whole }];
      if (!isRecord(value)) return slots;
      for (const [key, item] of Object.entries(value)) {
        const child = children.get(key) ?? records.find((r) => r.value)?.value;
        if (child) slots.push(...prefixed(key, child.slots(item)));
      }
      return slots;
    },
  });
};

const deriveArrays = (ast: AST.Arrays, path: string, ctx: Ctx): Derived => {
  const elements = ast.elements.map((e, i) => deriveNode(e, join(path, String(i)), ctx));
  if (ast.rest.length > 1) throw new DerivationError("Arrays", path, "elements after a rest element are not supported");
  const restAst = ast.rest[0];
  const rest = restAst ? deriveNode(restAst, join(path, "[]"), ctx) : null;
  const { constraint } = collectChecks(ast.checks);
  const min = Math.max(0, (constraint.minLength ?? 0) - elements.length);
  const max = Math.max(min, Math.min((constraint.maxLength ?? ctx.maxItems) - elements.length, ctx.maxItems));
  const build = (pick: (d: Derived) => fc.Arbitrary<unknown>) => {
    const head = fc.tuple(...elements.map(pick));
    const tail = rest ? fc.array(pick(rest), { minLength: min, maxLength: max }) : fc.constant([]);
    return fc.tuple(head, tail).map(([h, t]) => [...h, ...t]);
  };
  const valid = build((d) => d.valid);
  // The array as a whole: a wrong type, one item past the limit (copies of one item), empty.
  const over = constraint.maxLength !== undefined && constraint.maxLength < 20_000 ? constraint.maxLength + 1 : null;
  const whole: HostilePick = (j, current) => {
    const items = Array.isArray(current) ? current : [];
    if (j % 3 === 1 && over !== null && items.length > 0) return Array.from({ length: over }, (_, i) => items[i % items.length]);
    if (j % 3 === 2 && (constraint.minLength ?? 0) > 0) return [];
    return hostileAnyPick(Math.floor(j / 3), current);
  };
  return checked(ast, path, {
    valid,
    mixed: fc.oneof({ arbitrary: build((d) => d.mixed), weight: 8 }, { arbitrary: hostileOf(whole, valid), weight: 1 }),
    slots: (value) => {
      const slots: Array<Slot> = [{ path: [], hostile: whole }];
      if (!Array.isArray(value)) return slots;
      for (const [i, item] of value.entries()) {
        const child = elements[i] ?? rest;
        if (child) slots.push(...prefixed(i, child.slots(item)));
      }
      return slots;
    },
  });
};

/** A node with a transformation: valid values made on the decoded side and encoded, hostile ones on the wire side. */
const deriveEncoded = (ast: AST.AST, path: string, ctx: Ctx): Derived => {
  const typeSide = deriveNode(AST.toType(ast), path, ctx, true);
  const wireSide = deriveNode(AST.toEncoded(ast), path, ctx, true);
  const encode = Schema.encodeUnknownSync(Schema.make(ast) as Schema.Codec<unknown, unknown>);
  const failed = Symbol("not encodable");
  const valid = typeSide.valid
    .map((value) => {
      try {
        return encode(value);
      } catch {
        return failed;
      }
    })
    .filter((value) => value !== failed);
  return { valid, mixed: fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: wireSide.mixed, weight: 2 }), slots: wireSide.slots };
};

const deriveUnion = (ast: AST.Union, path: string, ctx: Ctx): Derived => {
  const members = ast.types.map((member, i) => ({
    derived: deriveNode(member, ast.types.length > 1 ? `${path}<${i}>` : path, ctx),
    // Which member a valid value came from (on the wire side, where slots are).
    is: Schema.is(Schema.make(AST.toEncoded(member))),
  }));
  return checked(ast, path, {
    valid: fc.oneof(...members.map((m) => m.derived.valid)),
    mixed: fc.oneof(...members.map((m) => m.derived.mixed)),
    slots: (value) => {
      const member = members.find((m) => m.is(value));
      const inner = member ? member.derived.slots(value) : [];
      return inner.some((slot) => slot.path.length === 0) ? inner : [{ path: [], hostile: hostileAnyPick }, ...inner];
    },
  });
};

const join = (path: string, key: string) => (path === "(root)" ? key : `${path}.${key}`);

const deriveNode = (ast: AST.AST, path: string, ctx: Ctx, ignoreEncoding = false): Derived => {
  if (!ignoreEncoding && ast.encoding !== undefined) return deriveEncoded(ast, path, ctx);
  switch (ast._tag) {
    case "String":
      return deriveString(ast, path, ctx);
    case "Number":
      return deriveNumber(ast, path, ctx);
    case "Boolean":
      return leaf(ctx, fc.boolean(), hostileAnyPick);
    case "Literal":
      return leaf(ctx, fc.constant(ast.literal), typeof ast.literal === "string" ? hostileStringPick : hostileAnyPick);
    case "Enum":
      return leaf(ctx, fc.constantFrom(...ast.enums.map(([, value]) => value)), hostileAnyPick);
    case "Null":
    case "Undefined":
    case "Void":
      return leaf(ctx, fc.constant(ast._tag === "Null" ? null : undefined), hostileAnyPick);
    case "Unknown":
    case "Any":
      return leaf(ctx, fc.jsonValue({ maxDepth: 2 }), hostileAnyPick);
    case "Union":
      return deriveUnion(ast, path, ctx);
    case "Objects":
      return deriveObjects(ast, path, ctx);
    case "Arrays":
      return deriveArrays(ast, path, ctx);
    case "Suspend": {
      if (ctx.recursion >= ctx.maxRecursion) {
        throw new DerivationError("Suspend", path, `recursive schema deeper than ${ctx.maxRecursion} levels`);
      }
      return deriveNode(ast.thunk(), path, { ...ctx, recursion: ctx.recursion + 1 });
    }
    default: {
      const id = AST.resolveIdentifier(ast);
      throw new DerivationError(
        ast._tag,
        path,
        `the fuzz harness does not know this node${id ? ` (${id})` : ""}: teach packages/fuzz/src/arbitrary.ts`,
      );
    }
  }
};

/**
 * The arbitraries of `ast` (an Effect Schema's AST, as `schema.ast`; its encoded side is what
 * is generated, as a client would send it). Throws {@link DerivationError} naming the first node
 * it does not know or the first check no known value satisfies.
 */
export const derive = (ast: AST.AST, options: DeriveOptions = {}): Derived =>
  deriveNode(ast, "(root)", {
    pools: options.pools,
    hostileOneIn: options.hostileOneIn ?? 6,
    maxItems: options.maxItems ?? 3,
    maxRecursion: options.maxRecursion ?? 4,
    recursion: 0,
  });

const setAt = (root: unknown, path: ReadonlyArray<string | number>, value: unknown): unknown => {
  if (path.length === 0) return value;
  const [key, ...rest] = path;
  const copy = (Array.isArray(root) ? [...root] : { ...(root as Record<string, unknown>) }) as Record<string | number, unknown>;
  Object.defineProperty(copy, key!, { value: setAt(copy[key!], rest, value), enumerable: true, configurable: true, writable: true });
  return copy;
};

/**
 * A valid value with exactly one slot (a leaf, or a container as a whole) made hostile: the
 * input that gets past every other check and tests the one field. Shrinks like the valid value.
 */
export const oneHostile = (derived: Derived): fc.Arbitrary<unknown> =>
  fc.tuple(derived.valid, fc.nat(), fc.nat()).map(([value, i, j]) => {
    const slots = derived.slots(value);
    const slot = slots[i % slots.length];
    if (!slot) return value;
    const current = slot.path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);
    return setAt(value, slot.path, slot.hostile(j, current));
  });

/**
 * A whole input: valid (weight 2), valid but for one hostile slot (weight 5), with hostile
 * leaves mixed in (weight 2), or hostile as a whole (weight 1: a wrong type, a monster).
 */
export const inputOf = (derived: Derived): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: derived.valid, weight: 2 },
    { arbitrary: oneHostile(derived), weight: 5 },
    { arbitrary: derived.mixed, weight: 2 },
    { arbitrary: hostileAny, weight: 1 },
  );
