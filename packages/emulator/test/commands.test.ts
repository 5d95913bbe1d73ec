import { REST } from "@discordjs/rest";
import type { APIApplicationCommand } from "discord-api-types/v10";
import { Routes } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { EmulatorControl, startEmulator } from "../src/index";
import { responseValidator } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 31, members: 50 });
});
afterAll(() => emulator.close());

/** A REST call as the bot; `body` is the parsed JSON answer, typed by the caller (unchecked). */
async function call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const init: RequestInit = { method, headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${emulator.apiUrl}/v10${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

function expectSpec(specPath: string, method: string, status: number, body: unknown): void {
  const validate = responseValidator(specPath, method, status);
  if (!validate(body))
    throw new Error(`${method} ${specPath} ${status} does not match the spec: ${JSON.stringify(validate.errors, null, 1)}`);
}

const sync = {
  name: "sync",
  description: "Mirror the guild's members now",
  default_member_permissions: "32",
  options: [
    { type: 5, name: "full", description: "Re-read every member", required: true },
    { type: 3, name: "reason", description: "Why", max_length: 200 },
  ],
};
const status = { name: "status", description: "Show the last sync" };

describe("guild commands", () => {
  const base = () => `/applications/${emulator.applicationId}/guilds/${guild.guildId}/commands`;

  it("POST creates (201), then overwrites the same name (200, same id, new version); GET lists; spec shapes", async () => {
    const created = await call<APIApplicationCommand>("POST", base(), sync);
    expect(created.status).toBe(201);
    expectSpec("/applications/{application_id}/guilds/{guild_id}/commands", "post", 201, created.body);
    expect(created.body).toMatchObject({
      application_id: emulator.applicationId,
      guild_id: guild.guildId,
      type: 1,
      name: "sync",
      default_member_permissions: "32",
      nsfw: false,
      options: [
        { type: 5, name: "full", required: true },
        { type: 3, name: "reason", max_length: 200 },
      ],
    });
    expect(created.body.id).toMatch(/^[0-9]{17,20}$/);
    expect(created.body.version).toMatch(/^[0-9]{17,20}$/);

    const again = await call<APIApplicationCommand>("POST", base(), { ...sync, description: "Mirror members" });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    expect(again.body.version).not.toBe(created.body.version);

    const list = await call<APIApplicationCommand[]>("GET", base());
    expect(list.status).toBe(200);
    expectSpec("/applications/{application_id}/guilds/{guild_id}/commands", "get", 200, list.body);
    expect(list.body.map((c) => c.name)).toEqual(["sync"]);
    const one = await call<APIApplicationCommand>("GET", `${base()}/${created.body.id}`);
    expectSpec("/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", "get", 200, one.body);
    expect(one.body.description).toBe("Mirror members");
  });

  it("PUT replaces the list: same-name commands keep id (and version when unchanged), others go", async () => {
    const before = (await call<APIApplicationCommand[]>("GET", base())).body;
    const syncBefore = before.find((c) => c.name === "sync")!;
    const put = await call<APIApplicationCommand[]>("PUT", base(), [{ ...sync, description: syncBefore.description }, status]);
    expect(put.status).toBe(200);
    expectSpec("/applications/{application_id}/guilds/{guild_id}/commands", "put", 200, put.body);
    const syncAfter = put.body.find((c) => c.name === "sync")!;
    expect(syncAfter.id).toBe(syncBefore.id);
    expect(syncAfter.version).toBe(syncBefore.version);
    expect(put.body.map((c) => c.name)).toEqual(["sync", "status"]);

    const replaced = await call<APIApplicationCommand[]>("PUT", base(), [status]);
    expect(replaced.body.map((c) => c.name)).toEqual(["status"]);
    expect(emulator.commands(guild.guildId).map((c) => c.name)).toEqual(["status"]);
    expect(await new EmulatorControl(emulator.url).commands(guild.guildId)).toEqual(emulator.commands(guild.guildId));
  });

  it("DELETE answers 204, then the command is 404 / 10063", async () => {
    const [command] = (await call<APIApplicationCommand[]>("GET", base())).body;
    expect((await call("DELETE", `${base()}/${command!.id}`)).status).toBe(204);
    expect(await call("GET", `${base()}/${command!.id}`)).toEqual({
      status: 404,
      body: { message: "Unknown application command", code: 10063 },
    });
    expect((await call("DELETE", `${base()}/${command!.id}`)).status).toBe(404);
  });

  it("another application or a guild the bot is not in: 403 Missing Access", async () => {
    expect(await call("GET", `/applications/123456789012345678/guilds/${guild.guildId}/commands`)).toEqual({
      status: 403,
      body: { message: "Missing Access", code: 50001 },
    });
    expect((await call("GET", `/applications/${emulator.applicationId}/guilds/123456789012345678/commands`)).status).toBe(403);
  });
});

describe("global commands", () => {
  it("are listed separately, with dm_permission and contexts", async () => {
    const base = `/applications/${emulator.applicationId}/commands`;
    const created = await call<APIApplicationCommand>("POST", base, { name: "ping", description: "Pong", contexts: [0] });
    expect(created.status).toBe(201);
    expectSpec("/applications/{application_id}/commands", "post", 201, created.body);
    expect(created.body).toMatchObject({ dm_permission: true, contexts: [0], integration_types: [0], default_member_permissions: null });
    expect(created.body.guild_id).toBeUndefined();
    expect(emulator.commands().map((c) => c.name)).toEqual(["ping"]);
    const put = await call("PUT", base, []);
    expectSpec("/applications/{application_id}/commands", "put", 200, put.body);
    expect(put.body).toEqual([]);
  });
});

describe("validation: 400 / 50035 Invalid Form Body naming the field", () => {
  const base = () => `/applications/${emulator.applicationId}/guilds/${guild.guildId}/commands`;
  const cases: Array<[string, unknown, Record<string, unknown>]> = [
    ["upper-case name", { name: "Sync", description: "x" }, { name: { _errors: [{ code: "APPLICATION_COMMAND_INVALID_NAME" }] } }],
    ["name with a space", { name: "sync now", description: "x" }, { name: { _errors: [{ code: "APPLICATION_COMMAND_INVALID_NAME" }] } }],
    ["name longer than 32", { name: "a".repeat(33), description: "x" }, { name: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH" }] } }],
    ["missing description", { name: "sync" }, { description: { _errors: [{ code: "BASE_TYPE_REQUIRED" }] } }],
    [
      "description longer than 100",
      { name: "sync", description: "d".repeat(101) },
      { description: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH" }] } },
    ],
    [
      "bad option name",
      { name: "sync", description: "x", options: [{ type: 3, name: "Why", description: "x" }] },
      { options: { 0: { name: { _errors: [{ code: "APPLICATION_COMMAND_INVALID_NAME" }] } } } },
    ],
    [
      "required option after an optional one",
      {
        name: "sync",
        description: "x",
        options: [
          { type: 3, name: "a", description: "x" },
          { type: 3, name: "b", description: "x", required: true },
        ],
      },
      { options: { 1: { required: { _errors: [{ code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID" }] } } } },
    ],
  ];
  for (const [what, body, errors] of cases) {
    it(what, async () => {
      const res = await call("POST", base(), body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 50035, message: "Invalid Form Body", errors });
    });
  }

  it("a PUT names the index; unicode letters and digits are fine; a bad body is 50109", async () => {
    const res = await call("PUT", base(), [status, { name: "ok", description: "" }]);
    expect(res.body).toMatchObject({ code: 50035, errors: { 1: { description: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH" }] } } } });
    expect((await call("PUT", base(), [{ name: "größe-2", description: "Unicode is allowed" }])).status).toBe(200);
    const raw = await fetch(`${emulator.apiUrl}/v10${base()}`, {
      method: "POST",
      headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
      body: "{nope",
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ code: 50109, message: "The request body contains invalid JSON." });
  });
});

describe("@discordjs/rest", () => {
  it("registers guild commands with Routes.applicationGuildCommands", async () => {
    const rest = new REST({ api: emulator.apiUrl }).setToken(emulator.token);
    const body = (await rest.put(Routes.applicationGuildCommands(emulator.applicationId, guild.guildId), {
      body: [sync, status],
    })) as APIApplicationCommand[];
    expect(body.map((c) => c.name)).toEqual(["sync", "status"]);
    const listed = (await rest.get(Routes.applicationGuildCommands(emulator.applicationId, guild.guildId))) as APIApplicationCommand[];
    expect(listed.map((c) => c.id)).toEqual(body.map((c) => c.id));
  });
});
