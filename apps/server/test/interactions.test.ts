import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { Bot, Directory } from "@guildhall/sync";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFirstAdmin, type RunningServer, seedDemoGuild, startServer } from "../src";
import { ADMIN, botClient, GUILD_ID, INTERACTIONS_KEY, INTERACTIONS_PUBLIC_HEX, STAFF } from "./helpers";

const { privateKey } = INTERACTIONS_KEY;
const PUBLIC_HEX = INTERACTIONS_PUBLIC_HEX;
const stranger = generateKeyPairSync("ed25519").privateKey;

const APP_ID = "900000000000000001";
const MANAGE_GUILD = String(1 << 5);
const ADMIN_DISCORD = STAFF[0]!.discordId!;
const MEMBER_DISCORD = STAFF[1]!.discordId!;

const now = () => String(Math.floor(Date.now() / 1000));

/** The signature headers of `body` at `timestamp`, signed with `key`. */
const signed = (body: string, timestamp = now(), key: KeyObject = privateKey): Record<string, string> => ({
  "x-signature-ed25519": sign(null, Buffer.from(timestamp + body), key).toString("hex"),
  "x-signature-timestamp": timestamp,
});

let nextId = 1;
const interaction = (fields: Record<string, unknown>) => ({
  id: String(910000000000000000n + BigInt(nextId++)),
  application_id: APP_ID,
  token: `test-token-${nextId}`,
  version: 1,
  ...fields,
});

const syncCommand = (userId: string, permissions: string, options: unknown[] = []) =>
  interaction({
    type: 2,
    guild_id: GUILD_ID,
    channel_id: "920000000000000001",
    member: { user: { id: userId, username: "someone" }, roles: [], permissions },
    data: { id: "930000000000000001", name: "sync_members", type: 1, options },
  });

describe("POST /api/interactions", () => {
  let server: RunningServer;
  const post = (body: string, headers: Record<string, string>, method = "POST") =>
    fetch(`${server.url}/api/interactions`, { method, headers: { "content-type": "application/json", ...headers }, body });
  const send = (payload: unknown) => {
    const body = JSON.stringify(payload);
    return post(body, signed(body));
  };
  const queued = () => server.runtime.runPromise(Bot.use((bot) => bot.nextCommands(10)));

  beforeAll(async () => {
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      webDist: "/nonexistent",
      firstSightSync: false,
      discordPublicKey: PUBLIC_HEX,
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        await seedDemoGuild(services, { guildId: GUILD_ID, name: "Test Guild", staff: STAFF });
      },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("answers a PING with a valid signature with PONG", async () => {
    const res = await send(interaction({ type: 1 }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it("refuses with 401, before answering, an altered body, timestamp, a stale or future timestamp, a wrong key, missing or malformed headers", async () => {
    const body = JSON.stringify(interaction({ type: 1 }));
    const ts = now();
    const good = signed(body, ts);
    const cases: Array<[string, string, Record<string, string>]> = [
      ["altered body", body.replace('"type":1', '"type": 1'), good],
      ["altered timestamp", body, { ...good, "x-signature-timestamp": String(Number(ts) - 1) }],
      ["stale timestamp", body, signed(body, String(Number(ts) - 301))],
      ["future timestamp", body, signed(body, String(Number(ts) + 301))],
      ["wrong key", body, signed(body, ts, stranger)],
      ["no signature", body, { "x-signature-timestamp": ts }],
      ["no timestamp", body, { "x-signature-ed25519": good["x-signature-ed25519"]! }],
      ["no headers", body, {}],
      ["signature not hex", body, { ...good, "x-signature-ed25519": "zz".repeat(64) }],
      ["signature too short", body, { ...good, "x-signature-ed25519": good["x-signature-ed25519"]!.slice(0, 126) }],
      ["timestamp not a number", body, { ...good, "x-signature-timestamp": "soon" }],
    ];
    for (const [name, sentBody, headers] of cases) {
      const res = await post(sentBody, headers);
      expect(res.status, name).toBe(401);
      const answer = (await res.json()) as { error: string; type?: number };
      expect(answer.type, name).toBeUndefined();
      expect(answer.error, name).toMatch(/^Invalid request signature/);
    }
    // Within the window, however the clock is off (up to 5 minutes), it holds.
    const res = await post(body, signed(body, String(Number(ts) - 290)));
    expect(res.status).toBe(200);
  });

  it("answers 400 naming the problem for a verified body that is not JSON or not an interaction; 405 for GET", async () => {
    const notJson = "{not json";
    const res = await post(notJson, signed(notJson));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/body: not valid JSON/);

    const bad = await send({ ...interaction({ type: 2 }), guild_id: "0" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/guild_id/);

    const noData = await send(interaction({ type: 2 }));
    expect(noData.status).toBe(400);
    expect(((await noData.json()) as { error: string }).error).toMatch(/body\.data/);

    const get = await fetch(`${server.url}/api/interactions`);
    expect(get.status).toBe(405);
  });

  it("/sync_members: refused ephemerally without Manage Guild; queued for an admin, the same command the gateway path queues", async () => {
    const refusal = await send(syncCommand(MEMBER_DISCORD, "0"));
    expect(refusal.status).toBe(200);
    expect(await refusal.json()).toEqual({ type: 4, data: { content: expect.stringContaining("Manage Guild"), flags: 64 } });
    expect(await queued()).toEqual([]);

    const command = syncCommand(ADMIN_DISCORD, MANAGE_GUILD, [{ name: "source", type: 3, value: "rest" }]);
    const res = await send(command);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 4, data: { content: expect.stringContaining("Member sync queued"), flags: 64 } });
    const [viaHttp, ...rest] = await queued();
    expect(rest).toEqual([]);
    expect(viaHttp).toMatchObject({
      kind: "members.sync",
      guildId: GUILD_ID,
      requestedBy: `discord:${ADMIN_DISCORD}`,
      payload: { trigger: "command", source: "rest", followUp: { applicationId: APP_ID, token: command.token } },
    });
    // Let the command go (the bot would acknowledge it), then the bot's path: its handler calls bot.requestMemberSync.
    await server.runtime.runPromise(
      Bot.use((bot) => bot.acknowledge({ id: viaHttp!.id, attempt: viaHttp!.attempt, outcome: "completed" })).pipe(Effect.asVoid),
    );
    const bot = botClient(server);
    try {
      await bot.trpc.bot.requestMemberSync.mutate({
        guildId: GUILD_ID,
        requestedBy: `discord:${ADMIN_DISCORD}`,
        source: "rest",
        followUp: { applicationId: APP_ID, token: command.token },
      });
      // A token Postgres cannot store in the job's payload (a NUL; found by the router fuzz) is a 400 naming it, not a 500.
      const refused = await bot.trpc.bot.requestMemberSync
        .mutate({
          guildId: GUILD_ID,
          requestedBy: `discord:${ADMIN_DISCORD}`,
          source: "rest",
          followUp: { applicationId: APP_ID, token: "abc\u0000" },
        })
        .then(
          () => null,
          (error: { data?: { code?: string }; message: string }) => error,
        );
      expect(refused?.data?.code).toBe("BAD_REQUEST");
      expect(refused?.message).toContain("followUp.token");
    } finally {
      bot.close();
    }
    const [viaGateway] = await queued();
    const { id: _a, attempt: _b, createdAt: _c, ...same } = viaHttp!;
    expect(viaGateway).toMatchObject(same);
  });

  it("/sync_members in a guild not linked to Guildhall: said so, nothing queued", async () => {
    await queued(); // takes what earlier tests left waiting
    const res = await send({ ...syncCommand(ADMIN_DISCORD, MANAGE_GUILD), guild_id: "800000000000000099" });
    expect(await res.json()).toEqual({ type: 4, data: { content: expect.stringContaining("not linked"), flags: 64 } });
    expect(await queued()).toEqual([]);
  });

  it("the configured sync role may run it without Manage Guild; unknown commands and components get an ephemeral notice", async () => {
    const role = "940000000000000001";
    await server.runtime.runPromise(Directory.use((d) => d.updateSettings(GUILD_ID, { syncIntervalMinutes: null, syncAdminRoleId: role })));
    const withRole = syncCommand(MEMBER_DISCORD, "0") as ReturnType<typeof syncCommand> & { member: object };
    const holder = await send({ ...withRole, member: { ...withRole.member, roles: [role] } });
    expect(((await holder.json()) as { data: { content: string } }).data.content).toMatch(/Member sync queued/);
    const other = await send({ ...withRole, member: { ...withRole.member, roles: ["940000000000000002"] } });
    expect(((await other.json()) as { data: { content: string } }).data.content).toMatch(/Manage Guild/);

    const unknown = await send({ ...syncCommand(ADMIN_DISCORD, MANAGE_GUILD), data: { id: "930000000000000002", name: "nope" } });
    expect(await unknown.json()).toEqual({ type: 4, data: { content: expect.stringContaining("/nope"), flags: 64 } });
    const component = await send(interaction({ type: 3, guild_id: GUILD_ID, data: { custom_id: "gone:1", component_type: 2 } }));
    expect(await component.json()).toMatchObject({ type: 4, data: { flags: 64 } });
  });
});

describe("POST /api/interactions without DISCORD_PUBLIC_KEY", () => {
  it("is off: 404, and nothing is answered", async () => {
    const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: "memory://", webDist: "/nonexistent" });
    try {
      const body = JSON.stringify(interaction({ type: 1 }));
      const res = await fetch(`${server.url}/api/interactions`, { method: "POST", headers: signed(body), body });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toMatch(/DISCORD_PUBLIC_KEY/);
    } finally {
      await server.close();
    }
  }, 60_000);
});
