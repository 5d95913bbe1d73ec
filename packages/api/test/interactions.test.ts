import { afterEach, describe, expect, it, vi } from "vitest";
import { answerInteraction, DEFAULT_DEADLINE_MS, type InteractionServices, type MemberSyncRequest } from "../src/interactions";
import { InvalidInput } from "../src/request";

const GUILD = "800000000000000001";
const USER = "810000000000000001";
const APP = "900000000000000001";
const ROLE = "940000000000000001";

const command = (permissions: string | undefined, roles: string[] = [], options: unknown[] = []) => ({
  id: "910000000000000001",
  application_id: APP,
  type: 2,
  token: "secret-token",
  guild_id: GUILD,
  member: { user: { id: USER }, roles, ...(permissions === undefined ? {} : { permissions }) },
  data: { id: "930000000000000001", name: "sync_members", type: 1, options },
});

/** Services that record what handlers asked for. */
const fakeServices = (overrides: Partial<InteractionServices> = {}) => {
  const requests: MemberSyncRequest[] = [];
  const edits: Array<{ applicationId: string; token: string; message: unknown }> = [];
  const choices: Array<Parameters<InteractionServices["chooseFromRoleMenu"]>[0]> = [];
  const services: InteractionServices = {
    guildSettings: async () => ({ syncAdminRoleId: ROLE }),
    requestMemberSync: async (request) => {
      requests.push(request);
      return { commandId: "c1" };
    },
    editOriginal: async (applicationId, token, message) => {
      edits.push({ applicationId, token, message });
    },
    chooseFromRoleMenu: async (choice) => {
      choices.push(choice);
      return { content: `picked ${choice.values.length}` };
    },
    log: () => {},
    ...overrides,
  };
  return { services, requests, edits, choices };
};

afterEach(() => {
  vi.useRealTimers();
});

describe("answerInteraction", () => {
  it("answers PING with PONG and asks nothing of the services", async () => {
    const { services, requests } = fakeServices({ guildSettings: () => Promise.reject(new Error("not called")) });
    expect(await answerInteraction({ id: "1", application_id: APP, type: 1, token: "t" }, services)).toEqual({ type: 1 });
    expect(requests).toEqual([]);
  });

  it("rejects an interaction without Discord's shape with InvalidInput naming the field", async () => {
    const { services } = fakeServices();
    const bad = answerInteraction({ ...command("32"), member: { user: { id: USER }, roles: ["0"] } }, services);
    await expect(bad).rejects.toBeInstanceOf(InvalidInput);
    await expect(bad).rejects.toMatchObject({ field: "body.member.roles.0" });
    await expect(answerInteraction({ ...command("32"), data: { name: "x" } }, services)).rejects.toMatchObject({ field: "body.data.id" });
    await expect(answerInteraction("nope", services)).rejects.toBeInstanceOf(InvalidInput);
  });

  it("/sync_members: Manage Guild, Administrator or the sync role may; anyone else, or a member without permissions, may not", async () => {
    for (const [permissions, roles, allowed] of [
      [String(1 << 5), [], true],
      [String(1 << 3), [], true],
      ["0", [ROLE], true],
      [undefined, [ROLE], true],
      ["0", [], false],
      [undefined, [], false],
      [String(0b10111 & ~0b1000), ["940000000000000002"], false],
    ] as const) {
      const { services, requests } = fakeServices();
      const answer = await answerInteraction(command(permissions, [...roles]), services);
      expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
      const content = (answer as { data: { content: string } }).data.content;
      expect(content, `${permissions} ${roles}`).toMatch(allowed ? /Member sync queued/ : /Manage Guild/);
      expect(requests.length).toBe(allowed ? 1 : 0);
    }
  });

  it("/sync_members queues the sync with the source, who asked and the interaction to follow up", async () => {
    const { services, requests } = fakeServices();
    await answerInteraction(command(String(1 << 5), [], [{ name: "source", type: 3, value: "rest" }]), services);
    expect(requests).toEqual([
      { guildId: GUILD, requestedBy: `discord:${USER}`, source: "rest", followUp: { applicationId: APP, token: "secret-token" } },
    ]);
  });

  it("/sync_members: settings that cannot be read leave Manage Guild enough; a sync that cannot be queued is said so, ephemerally", async () => {
    const unreadable = fakeServices({ guildSettings: () => Promise.reject(new Error("down")) });
    expect(await answerInteraction(command("32"), unreadable.services)).toMatchObject({
      data: { content: expect.stringMatching(/queued/) },
    });
    const unlinked = fakeServices({ requestMemberSync: async () => ({ notLinked: true }) });
    expect(await answerInteraction(command("32"), unlinked.services)).toMatchObject({
      data: { content: expect.stringMatching(/not linked/) },
    });
    const refused = fakeServices({ requestMemberSync: () => Promise.reject(new Error("down")) });
    expect(await answerInteraction(command("32"), refused.services)).toEqual({
      type: 4,
      data: { content: expect.stringMatching(/could not be queued/), flags: 64 },
    });
  });

  it("defers (type 5, ephemeral) a handler still busy at the deadline, then edits the original response with its answer", async () => {
    vi.useFakeTimers();
    let release: () => void = () => {};
    const { services, edits } = fakeServices({
      requestMemberSync: () =>
        new Promise((resolve) => {
          release = () => resolve({ commandId: "c2" });
        }),
    });
    const answer = answerInteraction(command("32"), services);
    await vi.advanceTimersByTimeAsync(DEFAULT_DEADLINE_MS);
    expect(await answer).toEqual({ type: 5, data: { flags: 64 } });
    expect(edits).toEqual([]);
    release();
    await vi.waitFor(() => expect(edits).toHaveLength(1));
    expect(edits[0]).toMatchObject({
      applicationId: APP,
      token: "secret-token",
      message: { content: expect.stringMatching(/queued/), flags: 64 },
    });
  });

  it("answers unknown commands, components and interaction types with an ephemeral notice", async () => {
    const { services } = fakeServices();
    expect(await answerInteraction({ ...command("32"), data: { id: "930000000000000002", name: "other" } }, services)).toMatchObject({
      type: 4,
      data: { content: expect.stringContaining("/other"), flags: 64 },
    });
    expect(
      await answerInteraction({ ...command("32"), type: 3, data: { custom_id: "unknown:1", component_type: 2 } }, services),
    ).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(await answerInteraction({ ...command("32"), type: 5 }, services)).toMatchObject({ type: 4, data: { flags: 64 } });
  });

  describe("role menus (rolemenu:<menu id>)", () => {
    const MENU = "4f0c2b0e-9d7a-4c55-8a53-2d8e6f1e0a11";
    const pick = (values: string[], customId = `rolemenu:${MENU}`) => ({
      ...command(undefined, ["940000000000000009"]),
      type: 3,
      data: { custom_id: customId, component_type: 3, values },
    });

    it("passes the member's choice on and answers with the ephemeral reply", async () => {
      const { services, choices } = fakeServices();
      expect(await answerInteraction(pick(["940000000000000001", "940000000000000002"]), services)).toEqual({
        type: 4,
        data: { content: "picked 2", flags: 64 },
      });
      expect(choices).toEqual([
        {
          menuId: MENU,
          guildId: GUILD,
          userId: USER,
          memberRoles: ["940000000000000009"],
          values: ["940000000000000001", "940000000000000002"],
        },
      ]);
    });

    it("refuses a menu id that is not Guildhall's, and apologizes when the choice fails, without asking twice", async () => {
      const { services, choices } = fakeServices();
      expect(await answerInteraction(pick([], "rolemenu:nope"), services)).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(choices).toEqual([]);
      const failing = fakeServices({ chooseFromRoleMenu: () => Promise.reject(new Error("down")) });
      expect(await answerInteraction(pick([]), failing.services)).toMatchObject({
        type: 4,
        data: { content: expect.stringMatching(/could not be changed/), flags: 64 },
      });
    });

    it("defers ephemerally (type 5, flag 64, not a type 6 update of the menu) when slow, then edits the reply", async () => {
      vi.useFakeTimers();
      let release: () => void = () => {};
      const { services, edits } = fakeServices({
        chooseFromRoleMenu: () =>
          new Promise((resolve) => {
            release = () => resolve({ content: "You now have @Artist." });
          }),
      });
      const answer = answerInteraction(pick(["940000000000000001"]), services);
      await vi.advanceTimersByTimeAsync(DEFAULT_DEADLINE_MS);
      expect(await answer).toEqual({ type: 5, data: { flags: 64 } });
      release();
      await vi.waitFor(() => expect(edits).toHaveLength(1));
      expect(edits[0]).toMatchObject({ message: { content: "You now have @Artist.", flags: 64 } });
    });
  });
});
