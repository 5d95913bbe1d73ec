import { inflateSync } from "node:zlib";
import { REST } from "@discordjs/rest";
import type {
  APIApplication,
  APIGuild,
  APIGuildMember,
  APIRole,
  RESTGetAPIGatewayBotResult,
  RESTGetAPIGatewayResult,
} from "discord-api-types/v10";
import { Routes } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { startEmulator } from "../src/index";
import { componentValidator, RATE_LIMIT_HEADERS, responseValidator } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 11, members: 5000, staff: 25 });
});
afterAll(() => emulator.close());

/** A GET (as the bot by default); `body` is the parsed JSON answer, typed by the caller (unchecked). */
async function get<T = unknown>(
  path: string,
  token: string | null = emulator.token,
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, { headers: token === null ? {} : { authorization: `Bot ${token}` } });
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

/** Fetches `path`, checks the body against the spec's response for `specPath` and the status, and returns it typed as `T`. */
async function expectSpec<T = unknown>(path: string, specPath: string, status = 200): Promise<T> {
  const res = await get<T>(path);
  expect(res.status).toBe(status);
  const validate = responseValidator(specPath, "get", status);
  if (!validate(res.body)) throw new Error(`${path} does not match the spec: ${JSON.stringify(validate.errors, null, 1)}`);
  if (status === 200) for (const header of RATE_LIMIT_HEADERS) expect(res.headers.get(header), header).not.toBeNull();
  return res.body;
}

describe("REST shapes match discord-api-spec", () => {
  it("GET /gateway/bot and /gateway name the emulator's gateway", async () => {
    const bot = await expectSpec<RESTGetAPIGatewayBotResult>("/gateway/bot", "/gateway/bot");
    expect(bot.url).toBe(emulator.gatewayUrl);
    expect(bot.shards).toBe(1);
    expect(bot.session_start_limit).toMatchObject({ total: 1000, max_concurrency: 1 });
    expect((await expectSpec<RESTGetAPIGatewayResult>("/gateway", "/gateway")).url).toBe(emulator.gatewayUrl);
  });

  it("GET /users/@me, /users/{id}, /applications/@me", async () => {
    const me = await expectSpec("/users/@me", "/users/@me");
    expect(me).toMatchObject({ id: emulator.applicationId, bot: true });
    const staff = guild.staff[0]!;
    const user = await expectSpec(`/users/${staff.userId}`, "/users/{user_id}");
    expect(user).toMatchObject({ id: staff.userId, username: staff.username, global_name: staff.globalName });
    const app = await expectSpec<APIApplication>("/applications/@me", "/applications/@me");
    expect(app.id).toBe(emulator.applicationId);
    // GATEWAY_PRESENCE_LIMITED | GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED
    expect(app.flags & ((1 << 13) | (1 << 15) | (1 << 19))).toBe((1 << 13) | (1 << 15) | (1 << 19));
    expect(app.verify_key).toMatch(/^[0-9a-f]{64}$/);
  });

  it("GET /guilds/{id}?with_counts and /roles", async () => {
    const body = await expectSpec<APIGuild>(`/guilds/${guild.guildId}?with_counts=true`, "/guilds/{guild_id}");
    expect(body).toMatchObject({ id: guild.guildId, name: guild.name, approximate_member_count: 5000 });
    expect(body.approximate_presence_count).toBeGreaterThan(1000);
    expect(body.approximate_presence_count).toBeLessThan(2000);
    const roles = await expectSpec<APIRole[]>(`/guilds/${guild.guildId}/roles`, "/guilds/{guild_id}/roles");
    expect(roles.map((r) => r.name)).toEqual(expect.arrayContaining(["@everyone", "Staff", "Member"]));
    expect(roles.length).toBeGreaterThanOrEqual(9);
  });

  it("GET /guilds/{id}/members and /members/{user}", async () => {
    const list = await expectSpec(`/guilds/${guild.guildId}/members?limit=1000`, "/guilds/{guild_id}/members");
    expect(list).toHaveLength(1000);
    const one = await expectSpec(`/guilds/${guild.guildId}/members`, "/guilds/{guild_id}/members");
    expect(one).toHaveLength(1); // default limit 1
    const staff = guild.staff[3]!;
    const member = await expectSpec<APIGuildMember>(
      `/guilds/${guild.guildId}/members/${staff.userId}`,
      "/guilds/{guild_id}/members/{user_id}",
    );
    expect(member.user.id).toBe(staff.userId);
    expect(member.roles).toContain(guild.staffRoleId);
  });

  it("errors: Discord's codes and messages, valid ErrorResponse bodies", async () => {
    const cases: Array<[string, string, number, { code: number; message: string }]> = [
      ["/guilds/123456789012345678", "/guilds/{guild_id}", 404, { code: 10004, message: "Unknown Guild" }],
      [
        `/guilds/${guild.guildId}/members/123456789012345678`,
        "/guilds/{guild_id}/members/{user_id}",
        404,
        { code: 10007, message: "Unknown Member" },
      ],
      ["/users/123456789012345678", "/users/{user_id}", 404, { code: 10013, message: "Unknown User" }],
      [`/guilds/${guild.guildId}/roles/123456789012345678`, "/guilds/{guild_id}/roles", 404, { code: 10011, message: "Unknown Role" }],
      ["/no/such/route", "/gateway/bot", 404, { code: 0, message: "404: Not Found" }],
    ];
    for (const [path, specPath, status, expected] of cases) {
      const body = await expectSpec(path, specPath, status);
      expect(body).toEqual(expected);
    }
    const unauthorized = await get("/users/@me", "wrong-token");
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body).toEqual({ message: "401: Unauthorized", code: 0 });
    expect((await get("/users/@me", null)).status).toBe(401);
    expect(componentValidator("ErrorResponse")(unauthorized.body)).toBe(true);
  });

  it("limit out of range is 400 Invalid Form Body (50035) naming the field", async () => {
    for (const [limit, code] of [
      ["0", "NUMBER_TYPE_MIN"],
      ["1001", "NUMBER_TYPE_MAX"],
      ["ten", "NUMBER_TYPE_COERCE"],
    ] as const) {
      const res = await get<{ errors: { limit: { _errors: Array<{ code: string | number }> } } }>(
        `/guilds/${guild.guildId}/members?limit=${limit}`,
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 50035, message: "Invalid Form Body", errors: { limit: { _errors: [{ code }] } } });
      // The spec types inner error codes as integers while Discord sends strings such as
      // "NUMBER_TYPE_MAX" (https://discord.com/developers/docs/reference#error-messages); map
      // only that field before validating the rest of the body against ErrorResponse.
      const mapped = structuredClone(res.body);
      mapped.errors.limit._errors[0]!.code = 0;
      const validate = responseValidator("/guilds/{guild_id}/members", "get", 400);
      expect(validate(mapped), JSON.stringify(validate.errors)).toBe(true);
    }
  });
});

describe("@discordjs/rest against the emulator", () => {
  it("pages all 5,000 members with limit=1000&after=, ascending, no duplicates", async () => {
    const rest = new REST({ api: emulator.apiUrl }).setToken(emulator.token);
    const all: APIGuildMember[] = [];
    let after = "0";
    for (;;) {
      const page = (await rest.get(Routes.guildMembers(guild.guildId), {
        query: new URLSearchParams({ limit: "1000", after }),
      })) as APIGuildMember[];
      all.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.user.id;
    }
    expect(all).toHaveLength(5000);
    const ids = all.map((m) => BigInt(m.user.id));
    expect(new Set(ids).size).toBe(5000);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it("surfaces Discord errors as DiscordAPIError with code and status", async () => {
    const rest = new REST({ api: emulator.apiUrl }).setToken(emulator.token);
    await expect(rest.get(Routes.guild("123456789012345678"))).rejects.toMatchObject({ code: 10004, status: 404 });
  });
});

describe("CDN", () => {
  it("serves a valid PNG for avatars and default avatars", async () => {
    const member = (await get<APIGuildMember[]>(`/guilds/${guild.guildId}/members?limit=50`)).body.find((m) => m.user.avatar)!;
    for (const path of [
      `/avatars/${member.user.id}/${member.user.avatar}.png`,
      `/avatars/${member.user.id}/${member.user.avatar}.webp?size=128`,
      "/embed/avatars/3.png",
    ]) {
      const res = await fetch(`${emulator.cdnUrl}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.readUInt32BE(16)).toBe(64); // IHDR width
      const idatLength = png.readUInt32BE(33);
      expect(png.toString("ascii", 37, 41)).toBe("IDAT");
      expect(inflateSync(png.subarray(41, 41 + idatLength))).toHaveLength(64 * (1 + 64 * 3));
    }
    expect((await fetch(`${emulator.cdnUrl}/avatars/1/nothex.png`)).status).toBe(404);
  });
});
