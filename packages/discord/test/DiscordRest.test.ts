import { createPublicKey, verify } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Emulator, startEmulator } from "@guildhall/emulator";
import { RESTJSONErrorCodes, Routes } from "discord-api-types/v10";
import { Effect, Stream } from "effect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type DiscordError,
  DiscordPermanentError,
  DiscordRest,
  DiscordRestClient,
  type DiscordRestConfig,
  DiscordTransientError,
  isPermanent,
  isTransient,
  PERMANENT_CODES,
} from "../src";
import { restClient } from "../src/DiscordRest";
import { makeRequester, type RequestSpec } from "../src/request";
import { discordError, rateLimited, Wire } from "./wire";

const MEMBERS = 2_500;

describe("DiscordRest against the emulator", () => {
  let emulator: Emulator;
  let wire: Wire;
  let guildId: string;
  let userId: string;
  let roleId: string;

  const config = (overrides: Partial<DiscordRestConfig> = {}): DiscordRestConfig => ({
    token: emulator.token,
    api: wire.apiUrl,
    ...overrides,
  });
  const run = <A, E>(effect: Effect.Effect<A, E, DiscordRest>, overrides?: Partial<DiscordRestConfig>) =>
    Effect.runPromise(effect.pipe(Effect.provide(DiscordRest.layer(config(overrides)))));
  /** The failure of one port operation, which must fail. */
  const failure = <A>(use: (d: typeof DiscordRest.Service) => Effect.Effect<A, DiscordError>, overrides?: Partial<DiscordRestConfig>) =>
    run(Effect.flip(DiscordRest.use(use)), overrides);
  /** The failure of a request on a route the port does not wrap yet, through the port's own client and requester. */
  const rawFailure = (spec: RequestSpec) =>
    Effect.runPromise(Effect.flip(makeRequester(restClient(config()), { token: emulator.token, timeoutMs: 15_000 })(spec)));

  beforeAll(async () => {
    emulator = await startEmulator();
    wire = await Wire.start(emulator.url);
    const seeded = emulator.seedGuild({ seed: 3, members: MEMBERS, staff: 5 });
    guildId = seeded.guildId;
    userId = seeded.staff[0]!.userId;
    roleId = seeded.staffRoleId;
  });
  afterAll(async () => {
    await wire?.close();
    await emulator?.close();
  });
  beforeEach(() => wire.reset());

  it("streams a 2,500-member guild in 3 pages, ascending by user id, each page asked for after the last id of the one before", async () => {
    const pages = [...(await run(DiscordRest.use((d) => Stream.runCollect(d.memberPages(guildId)))))];
    expect(pages.map((page) => page.length)).toEqual([1_000, 1_000, 500]);
    const ids = pages.flat().map((m) => BigInt(m.user.id));
    expect(new Set(ids).size).toBe(MEMBERS);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    const asked = wire.seen("GET", Routes.guildMembers(guildId)).map((r) => new URLSearchParams(r.query));
    expect(asked.map((q) => q.get("limit"))).toEqual(["1000", "1000", "1000"]);
    expect(asked.map((q) => q.get("after"))).toEqual(["0", pages[0]!.at(-1)!.user.id, pages[1]!.at(-1)!.user.id]);
  });

  it("reads the gateway, the guild with counts, its roles and one member", async () => {
    const [gateway, guild, roles, member] = await run(
      DiscordRest.use((d) => Effect.all([d.gatewayBot(), d.guild(guildId), d.roles(guildId), d.member(guildId, userId)])),
    );
    expect(gateway.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    expect(guild.id).toBe(guildId);
    expect(guild.approximate_member_count).toBe(MEMBERS);
    expect(roles.some((r) => r.name === "@everyone")).toBe(true);
    expect(member.user.id).toBe(userId);
    expect(member.roles).toContain(roleId);
  });

  it("lists channels, posts a Components V2 message and deletes it, creates a permanent invite (the same one again without unique)", async () => {
    const channels = await run(DiscordRest.use((d) => d.channels(guildId)));
    const general = channels.find((c) => c.name === "general")!;
    expect(general.type).toBe(0);
    const body = {
      flags: 1 << 15,
      components: [{ type: 17, components: [{ type: 10, content: "## Roles" }] }],
    };
    const message = await run(DiscordRest.use((d) => d.createMessage(general.id, body as never)));
    expect(message.channel_id).toBe(general.id);
    expect((message.flags ?? 0) & (1 << 15)).toBe(1 << 15);
    await run(DiscordRest.use((d) => d.deleteMessage(general.id, message.id, { reason: "gone" })));
    expect(await failure((d) => d.deleteMessage(general.id, message.id))).toMatchObject({ code: 10008 });
    const settings = { max_age: 0, max_uses: 0, unique: false };
    const invite = await run(DiscordRest.use((d) => d.createChannelInvite(general.id, settings, { reason: "invite link" })));
    expect(invite).toMatchObject({ max_age: 0, max_uses: 0 });
    expect((await run(DiscordRest.use((d) => d.createChannelInvite(general.id, settings)))).code).toBe(invite.code);
    expect(wire.requests.find((r) => r.method === "POST" && r.route === `/channels/${general.id}/invites`)?.auditLogReason).toBe(
      encodeURIComponent("invite link"),
    );
  });

  it("answers an interaction (callback) and edits its original response, by the interaction token alone, which no error shows", async () => {
    // An interactions endpoint that verifies the emulator's signature and leaves the answer to the callback route (202).
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(emulator.publicKey, "hex")]),
      format: "der",
      type: "spki",
    });
    const received: Array<{ id: string; token: string; type: number }> = [];
    const endpoint = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (part: Buffer) => parts.push(part));
      req.on("end", () => {
        const body = Buffer.concat(parts);
        const signature = Buffer.from(String(req.headers["x-signature-ed25519"] ?? ""), "hex");
        const message = Buffer.concat([Buffer.from(String(req.headers["x-signature-timestamp"] ?? "")), body]);
        if (signature.length !== 64 || !verify(null, message, key, signature)) return void res.writeHead(401).end();
        const interaction = JSON.parse(body.toString("utf8")) as { id: string; token: string; type: number };
        if (interaction.type === 1) return void res.writeHead(200, { "content-type": "application/json" }).end('{"type":1}');
        received.push(interaction);
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/`;
      expect((await emulator.setInteractionsEndpoint(url)).ok).toBe(true);
      await restClient(config()).put(Routes.applicationGuildCommands(emulator.applicationId, guildId), {
        body: [{ name: "hello", description: "Says hello", type: 1 }],
      });
      const id = emulator.invokeCommand(guildId, emulator.guild(guildId)!.ownerId, "hello");
      await expect.poll(() => received.length).toBe(1);
      const { token } = received[0]!;
      await run(DiscordRest.use((d) => d.interactionCallback(id, token, { type: 4, data: { content: "Hello", flags: 64 } })));
      await run(DiscordRest.use((d) => d.editOriginalResponse(emulator.applicationId, token, { content: "Hello again" })));
      expect(emulator.interaction(id)).toMatchObject({ acknowledged: { type: 4 }, original: { content: "Hello again", flags: 64 } });
      // A second callback is refused (already acknowledged); the token shows nowhere in the error.
      const error = await failure((d) => d.interactionCallback(id, token, { type: 4, data: { content: "Twice" } }));
      expect(isPermanent(error)).toBe(true);
      expect(JSON.stringify(error)).not.toContain(token);
      expect(String(error)).not.toContain(token);
    } finally {
      await emulator.setInteractionsEndpoint(null);
      await new Promise((r) => endpoint.close(r));
    }
  });

  describe("permanent failures are typed and sent exactly once", () => {
    /** Checks the error, and that the emulator got the call once (at `sentRoute`, the route with its tokens; default `expected.route`). */
    const expectPermanent = (
      error: DiscordError,
      expected: { status: number; code: number | null; method: string; route: string },
      sentRoute = expected.route,
    ) => {
      expect(error).toBeInstanceOf(DiscordPermanentError);
      expect(isPermanent(error)).toBe(true);
      expect(isTransient(error)).toBe(false);
      expect(error).toMatchObject(expected);
      expect(error.message.length).toBeGreaterThan(0);
      expect(wire.seen(expected.method, sentRoute)).toHaveLength(1);
    };

    it("10004 Unknown Guild, 10007 Unknown Member, 10011 Unknown Role, 10003 Unknown Channel, from the emulator", async () => {
      const unknownGuild = await failure((d) => d.guild("1"));
      expectPermanent(unknownGuild, { status: 404, code: RESTJSONErrorCodes.UnknownGuild, method: "GET", route: "/guilds/1" });
      expect(unknownGuild.message).toBe("Unknown Guild");

      const unknownMember = await failure((d) => d.member(guildId, "2"));
      expectPermanent(unknownMember, {
        status: 404,
        code: RESTJSONErrorCodes.UnknownMember,
        method: "GET",
        route: Routes.guildMember(guildId, "2"),
      });

      const unknownRole = await rawFailure({ method: "GET", route: Routes.guildRole(guildId, "3") });
      expectPermanent(unknownRole, {
        status: 404,
        code: RESTJSONErrorCodes.UnknownRole,
        method: "GET",
        route: Routes.guildRole(guildId, "3"),
      });

      const unknownChannel = await rawFailure({ method: "GET", route: Routes.channelMessage("4", "5") });
      expectPermanent(unknownChannel, {
        status: 404,
        code: RESTJSONErrorCodes.UnknownChannel,
        method: "GET",
        route: "/channels/4/messages/5",
      });
      expect(wire.requests.every((r) => !r.injected)).toBe(true);
    });

    it("10015 Unknown Webhook from the emulator, with the webhook token kept out of the error", async () => {
      const token = "aW50ZXJhY3Rpb246c2VjcmV0LXRva2VuLTQy";
      const route = Routes.webhookMessage(emulator.applicationId, token, "@original");
      const error = await rawFailure({ method: "GET", route, auth: "none", secrets: [token] });
      expectPermanent(
        error,
        {
          status: 404,
          code: RESTJSONErrorCodes.UnknownWebhook,
          method: "GET",
          route: route.replace(token, ":token"),
        },
        route,
      );
      expect(JSON.stringify(error)).not.toContain(token);
      expect(String(error)).not.toContain(token);
    });

    it("50035 Invalid Form Body from the emulator names the field", async () => {
      const error = await failure((d) => d.memberPage(guildId, { limit: 5_000 }));
      expectPermanent(error, {
        status: 400,
        code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
        method: "GET",
        route: Routes.guildMembers(guildId),
      });
      expect(error.message).toMatch(/Invalid Form Body[\s\S]*limit/);
    });

    it("50001 Missing Access from an emulator whose application lacks the GUILD_MEMBERS intent", async () => {
      const withoutIntent = await startEmulator({ allowedPrivilegedIntents: 0 });
      const front = await Wire.start(withoutIntent.url);
      try {
        const small = withoutIntent.seedGuild({ seed: 4, members: 10 }).guildId;
        const error = await failure((d) => Stream.runCollect(d.memberPages(small)), { token: withoutIntent.token, api: front.apiUrl });
        expect(error).toMatchObject({ _tag: "DiscordPermanentError", status: 403, code: RESTJSONErrorCodes.MissingAccess });
        expect(front.seen("GET", Routes.guildMembers(small))).toHaveLength(1);
      } finally {
        await front.close();
        await withoutIntent.close();
      }
    });

    it("a 404 without a Discord code (an unknown route), from the emulator", async () => {
      const route = `/guilds/${guildId}/no-such-route` as const;
      const error = await rawFailure({ method: "GET", route });
      // Discord answers an unknown route with `{"message": "404: Not Found", "code": 0}`: no specific code.
      expectPermanent(error, { status: 404, code: 0, method: "GET", route });
    });

    it("401 for a bad token, once: @discordjs/rest then drops the token, so later calls fail permanent without being sent", async () => {
      const program = DiscordRest.use((d) => Effect.all([Effect.flip(d.guild(guildId)), Effect.flip(d.roles(guildId))]));
      const [first, second] = await run(program, { token: "not-the-token" });
      expectPermanent(first, { status: 401, code: 0, method: "GET", route: Routes.guild(guildId) });
      expect(second).toMatchObject({ _tag: "DiscordPermanentError", status: 401, route: Routes.guildRoles(guildId) });
      expect(wire.seen("GET", Routes.guildRoles(guildId))).toHaveLength(0);
      for (const error of [first, second]) expect(`${JSON.stringify(error)} ${String(error)}`).not.toContain("not-the-token");
    });

    it("an id that is not a snowflake fails permanent and nothing is sent", async () => {
      const error = await failure((d) => d.addMemberRole(guildId, "not-a-snowflake", roleId));
      expect(error).toMatchObject({ _tag: "DiscordPermanentError", status: 0, code: null, method: "PUT" });
      expect(error.message).toMatch(/^userId must be a snowflake/);
      expect(wire.requests).toHaveLength(0);
    });

    // The emulator cannot produce these yet (no role hierarchy, role writes or scheduled
    // events): the wire answers with Discord's status and body instead of forwarding.
    const injected: ReadonlyArray<{
      code: number;
      status: number;
      call: (
        d: typeof DiscordRest.Service,
        ids: { guildId: string; userId: string; roleId: string },
      ) => Effect.Effect<unknown, DiscordError>;
      method: string;
      route: (ids: { guildId: string; userId: string; roleId: string }) => string;
    }> = [
      {
        code: RESTJSONErrorCodes.MissingPermissions,
        status: 403,
        call: (d, i) => d.addMemberRole(i.guildId, i.userId, i.roleId),
        method: "PUT",
        route: (i) => Routes.guildMemberRole(i.guildId, i.userId, i.roleId),
      },
      {
        code: RESTJSONErrorCodes.InvalidRole,
        status: 400,
        call: (d, i) => d.removeMemberRole(i.guildId, i.userId, i.roleId),
        method: "DELETE",
        route: (i) => Routes.guildMemberRole(i.guildId, i.userId, i.roleId),
      },
      {
        code: RESTJSONErrorCodes.MaximumNumberOfGuildRolesReached,
        status: 400,
        call: (d, i) => d.editMember(i.guildId, i.userId, { roles: [i.roleId] }),
        method: "PATCH",
        route: (i) => Routes.guildMember(i.guildId, i.userId),
      },
      {
        code: RESTJSONErrorCodes.MaximumNumberOfUncompletedGuildScheduledEventsReached,
        status: 400,
        call: (d, i) => d.guild(i.guildId),
        method: "GET",
        route: (i) => Routes.guild(i.guildId),
      },
      {
        code: RESTJSONErrorCodes.CannotUpdateAFinishedEvent,
        status: 400,
        call: (d, i) => d.roles(i.guildId),
        method: "GET",
        route: (i) => Routes.guildRoles(i.guildId),
      },
    ];
    it.each(injected)("$code (HTTP $status), as Discord sends it", async ({ code, status, call, method, route }) => {
      const ids = { guildId, userId, roleId };
      wire.inject({ method, route: route(ids), ...discordError(status, code, PERMANENT_CODES.get(code)!) });
      const error = await failure((d) => call(d, ids));
      expectPermanent(error, { status, code, method, route: route(ids) });
      expect(error.message).toBe(PERMANENT_CODES.get(code));
    });
  });

  describe("transient failures are typed and surfaced at once, for the job to retry", () => {
    it("a 5xx, sent once (the client does not retry it by itself)", async () => {
      for (const status of [500, 502, 503]) {
        wire.reset();
        wire.inject({ method: "GET", route: Routes.guild(guildId), status, body: { message: "upstream trouble", code: 0 } });
        const error = await failure((d) => d.guild(guildId));
        expect(error).toBeInstanceOf(DiscordTransientError);
        expect(isTransient(error)).toBe(true);
        expect(isPermanent(error)).toBe(false);
        expect(error).toMatchObject({ status, code: null, method: "GET", route: Routes.guild(guildId), retryAfterMs: null });
        expect(wire.seen("GET", Routes.guild(guildId))).toHaveLength(1);
      }
    });

    it("a 429 whose retry_after exceeds what the port waits: transient, with retry_after in ms, sent once", async () => {
      const route = Routes.guildMemberRole(guildId, userId, roleId);
      wire.inject({ method: "PUT", route, ...rateLimited(60) });
      const startedAt = Date.now();
      const error = await failure((d) => d.addMemberRole(guildId, userId, roleId, { reason: "test" }));
      expect(error).toMatchObject({ _tag: "DiscordTransientError", status: 429, method: "PUT", route });
      expect((error as DiscordTransientError).retryAfterMs).toBeGreaterThanOrEqual(60_000);
      expect((error as DiscordTransientError).retryAfterMs).toBeLessThan(61_000);
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      expect(wire.seen("PUT", route)).toHaveLength(1);
    });

    it("a global 429 says so", async () => {
      wire.inject({ method: "GET", route: Routes.guildRoles(guildId), ...rateLimited(30, { global: true }) });
      const error = await failure((d) => d.roles(guildId));
      expect(error).toMatchObject({ _tag: "DiscordTransientError", status: 429 });
      expect(error.message).toMatch(/global/);
    });

    it("a 429 with a short retry_after is waited out by the queue: the caller gets the answer", async () => {
      wire.inject({ method: "GET", route: Routes.guild(guildId), ...rateLimited(0.05) });
      const guild = await run(DiscordRest.use((d) => d.guild(guildId)));
      expect(guild.id).toBe(guildId);
      expect(wire.seen("GET", Routes.guild(guildId)).map((r) => r.injected)).toEqual([true, false]);
    });

    it("no answer within the timeout: transient, status 0, sent once", async () => {
      wire.inject({ method: "GET", route: Routes.gatewayBot(), hang: true });
      const error = await failure((d) => d.gatewayBot(), { timeoutMs: 300 });
      expect(error).toMatchObject({ _tag: "DiscordTransientError", status: 0, code: null, message: "no answer within 300 ms" });
      expect(wire.seen("GET", Routes.gatewayBot())).toHaveLength(1);
    });

    it("a network error (nothing listening): transient, status 0", async () => {
      const gone = await Wire.start(emulator.url);
      const api = gone.apiUrl;
      await gone.close();
      const error = await failure((d) => d.guild(guildId), { api });
      expect(error).toMatchObject({ _tag: "DiscordTransientError", status: 0, code: null, route: Routes.guild(guildId) });
      expect(String(error)).not.toContain(emulator.token);
    });
  });

  describe("X-Audit-Log-Reason", () => {
    const reason = "Guildhall: plan #42 — Zoë's group, 100% ✓";

    it("is sent URL-encoded on member PATCH and member role PUT/DELETE, from the `reason` option", async () => {
      const calls: ReadonlyArray<{ method: string; route: string; call: Effect.Effect<unknown, DiscordError, DiscordRest> }> = [
        {
          method: "PATCH",
          route: Routes.guildMember(guildId, userId),
          call: DiscordRest.use((d) => d.editMember(guildId, userId, { nick: "Renamed" }, { reason })),
        },
        {
          method: "PUT",
          route: Routes.guildMemberRole(guildId, userId, roleId),
          call: DiscordRest.use((d) => d.addMemberRole(guildId, userId, roleId, { reason })),
        },
        {
          method: "DELETE",
          route: Routes.guildMemberRole(guildId, userId, roleId),
          call: DiscordRest.use((d) => d.removeMemberRole(guildId, userId, roleId, { reason })),
        },
      ];
      for (const { method, route, call } of calls) {
        // The emulator does not serve these writes yet (they come with the role issue); whatever it
        // answers, the header is what is checked here.
        await run(Effect.exit(call));
        const [sent] = wire.seen(method, route);
        expect(sent?.auditLogReason).toBe(encodeURIComponent(reason));
        expect(decodeURIComponent(sent!.auditLogReason!)).toBe(reason);
      }
    });

    it("is cut to Discord's 512 characters, and absent without a reason and on reads", async () => {
      await run(Effect.exit(DiscordRest.use((d) => d.addMemberRole(guildId, userId, roleId, { reason: "é".repeat(600) }))));
      await run(Effect.exit(DiscordRest.use((d) => d.removeMemberRole(guildId, userId, roleId))));
      await run(DiscordRest.use((d) => d.member(guildId, userId)));
      const [put] = wire.seen("PUT", Routes.guildMemberRole(guildId, userId, roleId));
      expect(decodeURIComponent(put!.auditLogReason!)).toBe("é".repeat(512));
      expect(wire.seen("DELETE")[0]?.auditLogReason).toBeNull();
      expect(wire.seen("GET")[0]?.auditLogReason).toBeNull();
    });
  });

  describe("DiscordRestClient, for code that is not Effect", () => {
    it("resolves with values and rejects with the port's own tagged errors", async () => {
      const client = DiscordRestClient.make(config());
      try {
        const member = await client.run((d) => d.member(guildId, userId));
        expect(member.user.id).toBe(userId);
        const error = await client.run((d) => d.member(guildId, "2")).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DiscordPermanentError);
        expect(isPermanent(error)).toBe(true);
        expect(error).toMatchObject({ status: 404, code: RESTJSONErrorCodes.UnknownMember });
      } finally {
        await client.dispose();
      }
    });

    it("forEachMemberPage awaits each page before asking for the next, and rethrows the callback's own error", async () => {
      const client = DiscordRestClient.make(config());
      try {
        const sizes: number[] = [];
        const pages = await client.forEachMemberPage(guildId, async (page, index) => {
          // The next page is not asked for while this one is being handled.
          expect(wire.seen("GET", Routes.guildMembers(guildId))).toHaveLength(index + 1);
          sizes.push(page.length);
        });
        expect(pages).toBe(3);
        expect(sizes).toEqual([1_000, 1_000, 500]);

        const refused = new Error("the server refused the page");
        await expect(
          client.forEachMemberPage(guildId, () => {
            throw refused;
          }),
        ).rejects.toBe(refused);
      } finally {
        await client.dispose();
      }
    });
  });
});
