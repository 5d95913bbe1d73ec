import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyDiff, DuplicateKeyError, diffSnapshots, structuralEqual } from "../src";

interface Member {
  readonly id: string;
  readonly nick: string | null;
  readonly roles: ReadonlyArray<string>;
  readonly joinedAt: Date;
}

const key = (m: Member) => m.id;
const member = fc.record({
  id: fc.integer({ min: 0, max: 60 }).map(String),
  nick: fc.option(fc.constantFrom("ada", "grace", "linus", "ken"), { nil: null }),
  roles: fc.array(fc.constantFrom("1", "2", "3"), { maxLength: 3 }),
  joinedAt: fc.integer({ min: 0, max: 4 }).map((d) => new Date(Date.UTC(2024, 0, 1 + d))),
});
const snapshot = fc.uniqueArray(member, { selector: (m) => m.id, maxLength: 40 });
const byId = (values: ReadonlyArray<Member>) => [...values].sort((a, b) => Number(a.id) - Number(b.id));

describe("diffSnapshots", () => {
  it("applying the diff to the old snapshot gives the new one", () => {
    fc.assert(
      fc.property(snapshot, snapshot, (before, after) => {
        const diff = diffSnapshots(before, after, { key });
        expect(byId(applyDiff(before, diff, key))).toEqual(byId(after));
      }),
    );
  });

  it("accounts for every entry exactly once", () => {
    fc.assert(
      fc.property(snapshot, snapshot, (before, after) => {
        const diff = diffSnapshots(before, after, { key });
        expect(diff.added.length + diff.changed.length + diff.unchanged).toBe(after.length);
        expect(diff.removed.length + diff.changed.length + diff.unchanged).toBe(before.length);
      }),
    );
  });

  it("a snapshot diffed with itself is all unchanged", () => {
    fc.assert(
      fc.property(snapshot, (values) => {
        const copy = values.map((m) => ({ ...m, roles: [...m.roles], joinedAt: new Date(m.joinedAt) }));
        expect(diffSnapshots(values, copy, { key })).toEqual({ added: [], changed: [], removed: [], unchanged: values.length });
      }),
    );
  });

  it("names exactly the fields that changed", () => {
    const before: Member[] = [{ id: "1", nick: "ada", roles: ["1"], joinedAt: new Date(0) }];
    const after: Member[] = [{ id: "1", nick: "Ada", roles: ["1", "2"], joinedAt: new Date(0) }];
    const diff = diffSnapshots(before, after, { key });
    expect(diff.changed).toEqual([{ key: "1", before: before[0], after: after[0], fields: ["nick", "roles"] }]);
    expect(diffSnapshots(before, after, { key, fields: ["joinedAt"] }).unchanged).toBe(1);
  });

  it("refuses a snapshot with a repeated key", () => {
    const twice: Member[] = [
      { id: "1", nick: null, roles: [], joinedAt: new Date(0) },
      { id: "1", nick: "x", roles: [], joinedAt: new Date(0) },
    ];
    expect(() => diffSnapshots(twice, [], { key })).toThrow(DuplicateKeyError);
    expect(() => diffSnapshots([], twice, { key })).toThrow(/duplicate key 1 in the after snapshot/);
  });
});

describe("structuralEqual", () => {
  it("compares dates by time, arrays in order, objects by keys", () => {
    expect(structuralEqual(new Date(5), new Date(5))).toBe(true);
    expect(structuralEqual(["a", "b"], ["b", "a"])).toBe(false);
    expect(structuralEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(structuralEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe(false);
    expect(structuralEqual(null, undefined)).toBe(false);
    expect(structuralEqual(Number.NaN, Number.NaN)).toBe(true);
  });
});
