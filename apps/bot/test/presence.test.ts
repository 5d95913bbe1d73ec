import { describe, expect, it } from "vitest";
import { clip, toPresenceUpdate } from "../src/presence";

describe("toPresenceUpdate", () => {
  it("cuts text to 256 code units without splitting a surrogate pair, and leaves NUL and lone surrogates to the server", () => {
    const emoji = "😀";
    const long = `${"a".repeat(255)}${emoji}tail`;
    expect(clip(long)).toBe("a".repeat(255));
    expect(clip(`${"a".repeat(254)}${emoji}tail`)).toBe(`${"a".repeat(254)}${emoji}`);
    expect(clip("short")).toBe("short");
    expect(clip(42)).toBeNull();
    const update = toPresenceUpdate(
      {
        user: { id: "100000000000000001" },
        guild_id: "200000000000000001",
        status: "online" as never,
        activities: [
          { name: "Custom Status", type: 4, state: `evil\u0000${long}` } as never,
          { name: long, type: 0, details: "lone \uD800" } as never,
        ],
        client_status: { desktop: "online" as never },
      },
      Date.UTC(2026, 0, 1),
    );
    expect(update?.customStatus).toBe(`evil\u0000${"a".repeat(251)}`);
    expect(update?.activities[1]).toMatchObject({ name: "a".repeat(255), details: "lone \uD800" });
  });
});
