import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  codePointLength,
  compileNicknameTemplate,
  cutCodePoints,
  FLAP_WINDOW_MS,
  hasPermission,
  isFlapping,
  maxChangesInWindow,
  NICKNAME_MAX,
  nicknameTemplateProblems,
  PERMISSIONS,
  renderNickname,
  suppressionsForManualRemoval,
} from "../src";
import { D, mapping, R } from "./fixtures";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const values = (over: Partial<{ display_name: string; username: string; name: string; group: string }> = {}) => ({
  display_name: "Ada",
  username: "ada",
  name: "Ada Lovelace",
  group: "Officers",
  ...over,
});

describe("renderNickname", () => {
  const render = (template: string, over = {}) => renderNickname(compileNicknameTemplate(template), values(over));

  it("substitutes every placeholder and keeps unknown ones literally", () => {
    expect(render("{display_name}|{username}|{name}|{group}")).toBe("Ada|ada|Ada Lovelace|Officers");
    expect(render("{nick} {display_name}")).toBe("{nick} Ada");
    expect(nicknameTemplateProblems("{nick} {display_name} {Group} {}")).toEqual(["nick", "Group", ""]);
    expect(nicknameTemplateProblems("{display_name} [{group}]")).toEqual([]);
  });

  it("drops brackets left empty by an empty {group} and tidies whitespace", () => {
    expect(render("{display_name} [{group}]", { group: "" })).toBe("Ada");
    expect(render("  {display_name}   ({group})  ", { group: "" })).toBe("Ada");
    expect(render("{display_name}\t\n{username}")).toBe("Ada ada");
  });

  it("shortens the names first, so the group suffix survives the 32-character cut", () => {
    const long = "Bartholomew Featherstonehaugh-Smythe";
    const out = render("{display_name} [{group}]", { display_name: long });
    expect(out).toBe("Bartholomew Featherst [Officers]");
    expect(codePointLength(out ?? "")).toBe(NICKNAME_MAX);
  });

  it("cuts by code points, never inside a surrogate pair", () => {
    const emoji = "😀".repeat(40);
    const out = render("{display_name}", { display_name: emoji });
    expect(out).toBe("😀".repeat(32));
    expect(codePointLength(out ?? "")).toBe(32);
    expect(cutCodePoints("a😀b", 2)).toBe("a😀");
    expect(cutCodePoints("x\ud800y", 3)).toBe("x\ufffdy");
  });

  it("returns null when nothing is left", () => {
    expect(render("[{group}]", { group: "" })).toBeNull();
    expect(render("   ")).toBeNull();
  });

  it("is at most 32 code points of well-formed UTF-16 for any values and template", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ maxLength: 60 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(text, fc.constantFrom("{display_name}", "{username}", "{name}", "{group}", " [", "]", "(", ")")), {
          maxLength: 8,
        }),
        text,
        text,
        text,
        text,
        (parts, display_name, username, name, group) => {
          const out = renderNickname(compileNicknameTemplate(parts.join("")), { display_name, username, name, group });
          if (out === null) return;
          expect(out.length).toBeGreaterThan(0);
          expect(codePointLength(out)).toBeLessThanOrEqual(NICKNAME_MAX);
          expect(LONE_SURROGATE.test(out)).toBe(false);
        },
      ),
    );
  });
});

describe("isFlapping", () => {
  it("counts changes within any one window, in any order", () => {
    const times = [10, 5_000_000, 5_000_100, 20, 5_000_200, 30];
    expect(maxChangesInWindow(times)).toBe(3);
    expect(isFlapping(times, { maxFlips: 3 })).toBe(false);
    expect(isFlapping(times, { maxFlips: 2 })).toBe(true);
  });

  it("a change exactly one window later starts a new window", () => {
    expect(maxChangesInWindow([0, FLAP_WINDOW_MS])).toBe(1);
    expect(maxChangesInWindow([0, FLAP_WINDOW_MS - 1])).toBe(2);
    expect(isFlapping([0, 1, 2], { maxFlips: 2, windowMs: 2 })).toBe(false);
    expect(isFlapping([], { maxFlips: 0 })).toBe(false);
  });

  it("agrees with counting every window by brute force", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 3_000 }),
        (times, windowMs) => {
          const brute = Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u - t < windowMs).length));
          expect(maxChangesInWindow(times, windowMs)).toBe(brute);
        },
      ),
    );
  });
});

describe("suppressionsForManualRemoval", () => {
  const desired = {
    defaultAuthority: "app" as const,
    mappings: [
      mapping("a", R(1), null, { onManualRemoval: "remember" }),
      mapping("b", R(2), "app"),
      mapping("c", R(3), "discord", { onManualRemoval: "remember" }),
      mapping("d", R(4), "add_only", { onManualRemoval: "remember" }),
      mapping("e", R(2), "app", { onManualRemoval: "restore" }),
    ],
  };

  it("remembers removed roles given by a mapping set to remember (app or add_only), nothing else", () => {
    expect(suppressionsForManualRemoval(desired, D(1), [R(1), R(2), R(3), R(4), R(5)], [R(5)])).toEqual([
      { roleId: R(1), userId: D(1) },
      { roleId: R(4), userId: D(1) },
    ]);
    expect(suppressionsForManualRemoval(desired, D(1), [R(1)], [R(1), R(4)])).toEqual([]);
  });
});

describe("hasPermission", () => {
  it("checks a bit, and Administrator grants every bit", () => {
    expect(hasPermission(PERMISSIONS.MANAGE_ROLES, PERMISSIONS.MANAGE_ROLES)).toBe(true);
    expect(hasPermission(PERMISSIONS.MANAGE_ROLES, PERMISSIONS.MANAGE_NICKNAMES)).toBe(false);
    expect(hasPermission(PERMISSIONS.ADMINISTRATOR, PERMISSIONS.MANAGE_NICKNAMES)).toBe(true);
    expect(hasPermission(0n, PERMISSIONS.MANAGE_ROLES)).toBe(false);
  });
});
