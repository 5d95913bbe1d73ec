import { describe, expect, it } from "vitest";
import { channelPermissions, inviteCodeOf, CHANNEL_PERMISSIONS as P, roleMenuMessage } from "../src/RoleMenus";

const GUILD = "800000000000000001";
const BOT = "810000000000000001";
const ROLE = "820000000000000001";
const OTHER = "820000000000000002";

describe("channelPermissions (Discord's overwrite order)", () => {
  const base = {
    guildId: GUILD,
    ownerId: "810000000000000009",
    userId: BOT,
    memberRoles: [ROLE],
    roles: [
      { id: GUILD, permissions: String(P.VIEW_CHANNEL | P.SEND_MESSAGES | P.CREATE_INSTANT_INVITE) },
      { id: ROLE, permissions: "0" },
      { id: OTHER, permissions: String(P.ADMINISTRATOR) },
    ],
  };
  const has = (perms: bigint, bit: bigint) => (perms & bit) !== 0n;

  it("without overwrites: @everyone's and the member's roles'; ADMINISTRATOR or ownership is everything", () => {
    expect(has(channelPermissions({ ...base, overwrites: [] }), P.CREATE_INSTANT_INVITE)).toBe(true);
    const admin = channelPermissions({
      ...base,
      memberRoles: [OTHER],
      overwrites: [{ id: GUILD, type: 0, allow: "0", deny: String(P.VIEW_CHANNEL) }],
    });
    expect(has(admin, P.VIEW_CHANNEL)).toBe(true);
    expect(has(channelPermissions({ ...base, ownerId: BOT, roles: [], overwrites: [] }), P.CREATE_INSTANT_INVITE)).toBe(true);
  });

  it("@everyone's overwrite, then the roles' (denies before allows), then the member's own", () => {
    const denyEveryone = { id: GUILD, type: 0, allow: "0", deny: String(P.CREATE_INSTANT_INVITE) };
    expect(has(channelPermissions({ ...base, overwrites: [denyEveryone] }), P.CREATE_INSTANT_INVITE)).toBe(false);
    const allowRole = { id: ROLE, type: 0, allow: String(P.CREATE_INSTANT_INVITE), deny: "0" };
    expect(has(channelPermissions({ ...base, overwrites: [denyEveryone, allowRole] }), P.CREATE_INSTANT_INVITE)).toBe(true);
    const denyMember = { id: BOT, type: 1, allow: "0", deny: String(P.CREATE_INSTANT_INVITE) };
    expect(has(channelPermissions({ ...base, overwrites: [denyEveryone, allowRole, denyMember] }), P.CREATE_INSTANT_INVITE)).toBe(false);
    // An overwrite of a role the member does not hold changes nothing.
    const otherRole = { id: OTHER, type: 0, allow: "0", deny: String(P.SEND_MESSAGES) };
    expect(has(channelPermissions({ ...base, overwrites: [otherRole] }), P.SEND_MESSAGES)).toBe(true);
  });
});

describe("inviteCodeOf", () => {
  it("takes discord.gg and discord.com/invite links and bare codes; refuses anything else", () => {
    expect(inviteCodeOf("https://discord.gg/abc123")).toBe("abc123");
    expect(inviteCodeOf(" discord.com/invite/Abc-12/ ")).toBe("Abc-12");
    expect(inviteCodeOf("https://discordapp.com/invite/xyz")).toBe("xyz");
    expect(inviteCodeOf("abc123")).toBe("abc123");
    for (const bad of ["https://evil.example/abc", "https://discord.gg/", "a b", "javascript:alert(1)", "x", "https://discord.gg/abc?x=1"])
      expect(inviteCodeOf(bad), bad).toBeNull();
  });
});

describe("roleMenuMessage", () => {
  it("is a Components V2 container with a 0..n multi-select whose custom_id names the menu", () => {
    const message = roleMenuMessage("m1", "Roles", [
      { roleId: ROLE, name: "Artist", groups: [{ groupName: "Artists" }] },
      { roleId: OTHER, name: "x".repeat(150), groups: [{ groupName: "A" }, { groupName: "B" }] },
    ]);
    expect(message.flags).toBe(1 << 15);
    const container = message.components[0]!;
    expect(container.type).toBe(17);
    const select = (container.components[2] as { components: Array<Record<string, unknown>> }).components[0]!;
    expect(select).toMatchObject({ type: 3, custom_id: "rolemenu:m1", min_values: 0, max_values: 2 });
    const options = select.options as Array<{ label: string; description: string }>;
    expect(options[1]!.label).toHaveLength(100);
    expect(options[1]!.description).toBe("Group: A, B");
  });
});
