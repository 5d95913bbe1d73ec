import { describe, expect, it } from "vitest";
import { snapshotsOf } from "../src/memberSync";
import { toMemberSnapshot, toMemberUpdate } from "../src/members";

const USER = { id: "400000000000000001", username: "someone", global_name: "Some One", avatar: "u".repeat(32), discriminator: "0" };

describe("toMemberUpdate (GUILD_MEMBER_UPDATE)", () => {
  it("carries only the fields the event carries: absent stays absent, null stays null", () => {
    expect(toMemberUpdate({ user: { id: USER.id } as never, roles: [] } as never)).toEqual({ userId: USER.id, roleIds: [] });
    expect(toMemberUpdate({ user: USER as never, nick: null, joined_at: null, premium_since: null } as never)).toEqual({
      userId: USER.id,
      username: "someone",
      globalName: "Some One",
      nick: null,
      joinedAt: null,
      premiumSince: null,
    });
  });

  it("the member avatar decides: its own hash, or (null) the user's; absent leaves the stored one", () => {
    expect(toMemberUpdate({ user: USER as never, avatar: "g".repeat(32) } as never)?.avatar).toBe("g".repeat(32));
    expect(toMemberUpdate({ user: USER as never, avatar: null } as never)?.avatar).toBe(USER.avatar);
    expect(toMemberUpdate({ user: { id: USER.id } as never, avatar: null } as never)).not.toHaveProperty("avatar");
    expect(toMemberUpdate({ user: USER as never } as never)).not.toHaveProperty("avatar");
  });

  it("wrongly typed values do not throw; no valid user id gives null", () => {
    expect(toMemberUpdate({ user: { id: USER.id, username: 5 } as never, nick: 7, roles: "x", pending: "yes" } as never)).toEqual({
      userId: USER.id,
      nick: null,
      roleIds: [],
    });
    expect(toMemberUpdate({ roles: [] } as never)).toBeNull();
    expect(toMemberUpdate({ user: { id: "abc" } } as never)).toBeNull();
  });
});

describe("full members (GUILD_MEMBER_ADD, chunks, pages)", () => {
  it("fills what a full member leaves out with Discord's defaults", () => {
    expect(toMemberSnapshot({ user: { id: USER.id } as never } as never)).toEqual({
      userId: USER.id,
      username: USER.id,
      globalName: null,
      nick: null,
      avatar: null,
      roleIds: [],
      joinedAt: null,
      isBot: false,
      pending: false,
      premiumSince: null,
      communicationDisabledUntil: null,
    });
  });

  it("snapshotsOf refuses a chunk or page with a member lacking a valid user, naming where and which", () => {
    const ok = { user: USER, roles: [] };
    expect(snapshotsOf([ok, ok], "page 0")).toHaveLength(2);
    expect(() => snapshotsOf([ok, { roles: [] }, ok], "List Guild Members page 2")).toThrow(
      /^List Guild Members page 2: member 1 has no user with a valid id/,
    );
    expect(() => snapshotsOf([{ user: { id: "0x1" } }], "chunk")).toThrow(/member 0/);
  });
});
