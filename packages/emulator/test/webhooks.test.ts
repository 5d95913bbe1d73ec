import { WebhookClient } from "discord.js";
import type { APIMessage, APIWebhook } from "discord-api-types/v10";
import { GatewayIntentBits as I } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild, WebhookRecord } from "../src/index";
import { EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { RawGateway, responseValidator } from "./helpers";

let emulator: Emulator;
let guild: SeededGuild;
let channelId: string;
let hook: WebhookRecord;

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 31, members: 30, staff: 3 });
  const channels = (await (
    await fetch(`${emulator.apiUrl}/v10/guilds/${guild.guildId}/channels`, { headers: { authorization: `Bot ${emulator.token}` } })
  ).json()) as Array<{ id: string; name: string }>;
  channelId = channels.find((c) => c.name === "announcements")!.id;
  hook = emulator.createWebhook(guild.guildId, { channelId, name: "Guildhall notices" });
});
afterAll(() => emulator.close());

const executeUrl = (w: APIWebhook, query = "") => `${emulator.apiUrl}/v10/webhooks/${w.id}/${w.token}${query}`;

async function execute(w: APIWebhook, body: unknown, query = "?wait=true"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(executeUrl(w, query), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

describe("Execute Webhook", () => {
  it("?wait=true answers the message (spec shape), without wait 204; messages are stored for the control API and sent as MESSAGE_CREATE", async () => {
    const gw = await RawGateway.connect(emulator.gatewayUrl);
    try {
      await gw.identify(emulator.token, I.Guilds | I.GuildMessages);
      const embed = { title: "Member joined", description: "ada joined", fields: [{ name: "Members", value: "31", inline: true }] };
      const sent = await execute(hook.webhook, { content: "hello", embeds: [embed], username: "Notices" });
      expect(sent.status).toBe(200);
      const validate = responseValidator("/webhooks/{webhook_id}/{webhook_token}", "post", 200);
      if (!validate(sent.body)) throw new Error(JSON.stringify(validate.errors, null, 1));
      const message = sent.body as APIMessage;
      expect(message).toMatchObject({
        content: "hello",
        channel_id: channelId,
        webhook_id: hook.webhook.id,
        author: { username: "Notices", bot: true },
      });
      expect(message.embeds[0]).toMatchObject({ type: "rich", title: "Member joined" });
      const created = await gw.dispatch("MESSAGE_CREATE", (d) => d.id === message.id);
      expect(created.d.webhook_id).toBe(hook.webhook.id);

      expect((await execute(hook.webhook, { content: "no wait" }, "")).status).toBe(204);
      const record = await new EmulatorControl(emulator.url).webhook(hook.webhook.id);
      expect(record.messages.map((m) => m.content)).toEqual(["hello", "no wait"]);
      expect(record.deleted).toBe(false);
    } finally {
      gw.close();
    }
  });

  it("discord.js's WebhookClient sends through it", async () => {
    const client = new WebhookClient({ id: hook.webhook.id, token: hook.webhook.token! }, { rest: { api: emulator.apiUrl } });
    const message = await client.send({ content: "from discord.js", embeds: [{ title: "Sync finished", color: 0x57f287 }] });
    expect(message.content).toBe("from discord.js");
    expect(emulator.webhook(hook.webhook.id).messages.at(-1)?.embeds[0]?.title).toBe("Sync finished");
    client.destroy();
  });

  it("validates embeds with Discord's limits and the username override, 400 / 50035 naming the field; empty is 50006", async () => {
    const tooMany = await execute(hook.webhook, { embeds: Array.from({ length: 11 }, () => ({ title: "x" })) });
    expect(tooMany).toMatchObject({
      status: 400,
      body: { code: 50035, errors: { embeds: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH" }] } } },
    });
    const longTitle = await execute(hook.webhook, { embeds: [{ title: "t".repeat(257) }] });
    expect(longTitle).toMatchObject({
      status: 400,
      body: { errors: { embeds: { 0: { title: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH" }] } } } } },
    });
    const fields = await execute(hook.webhook, {
      embeds: [
        {
          fields: [
            { name: "a", value: "v".repeat(1025) },
            { name: "", value: "x" },
          ],
        },
      ],
    });
    expect(fields).toMatchObject({
      status: 400,
      body: { errors: { embeds: { 0: { fields: { 0: { value: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH" }] } }, 1: { name: {} } } } } } },
    });
    const tooManyFields = await execute(hook.webhook, {
      embeds: [{ fields: Array.from({ length: 26 }, (_, i) => ({ name: `n${i}`, value: "v" })) }],
    });
    expect(tooManyFields.status).toBe(400);
    const total = await execute(hook.webhook, {
      embeds: [{ description: "d".repeat(4000) }, { description: "d".repeat(2001) }],
    });
    expect(total).toMatchObject({ status: 400, body: { errors: { embeds: { _errors: [{ code: "MAX_EMBED_SIZE_EXCEEDED" }] } } } });
    const name = await execute(hook.webhook, { content: "x", username: "Discord Bot" });
    expect(name).toMatchObject({ status: 400, body: { errors: { username: { _errors: [{ code: "USERNAME_INVALID_CONTAINS" }] } } } });
    const ephemeral = await execute(hook.webhook, { content: "x", flags: 64 });
    expect(ephemeral).toMatchObject({ status: 400, body: { errors: { flags: {} } } });
    expect(await execute(hook.webhook, {})).toMatchObject({ status: 400, body: { code: 50006 } });
    expect(emulator.webhook(hook.webhook.id).messages.every((m) => m.content !== "x")).toBe(true);
  });

  it("GET by token and as the bot match the spec; a wrong token is 401 / 50027", async () => {
    const byToken = await (await fetch(executeUrl(hook.webhook))).json();
    const validate = responseValidator("/webhooks/{webhook_id}/{webhook_token}", "get", 200);
    if (!validate(byToken)) throw new Error(JSON.stringify(validate.errors));
    expect((byToken as APIWebhook).user).toBeUndefined();
    const asBot = await (
      await fetch(`${emulator.apiUrl}/v10/webhooks/${hook.webhook.id}`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json();
    if (!responseValidator("/webhooks/{webhook_id}", "get", 200)(asBot)) throw new Error("GET /webhooks/{id} does not match the spec");
    const wrong = await fetch(`${emulator.apiUrl}/v10/webhooks/${hook.webhook.id}/wrong-token`, { method: "POST", body: "{}" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ message: "Invalid Webhook Token", code: 50027 });
  });

  it("after deleteWebhook (control) executing answers 404 / 10015 Unknown Webhook; so does an unknown id; DELETE by token works too", async () => {
    const control = new EmulatorControl(emulator.url);
    const doomed = await control.createWebhook(guild.guildId, { channelId });
    expect(doomed.webhook.name).toBe("Guildhall (emulator)");
    expect((await execute(doomed.webhook, { content: "before" })).status).toBe(200);
    await control.deleteWebhook(doomed.webhook.id);
    expect(await execute(doomed.webhook, { content: "after" })).toEqual({ status: 404, body: { message: "Unknown Webhook", code: 10015 } });
    expect((await control.webhook(doomed.webhook.id)).deleted).toBe(true);
    await expect(control.deleteWebhook(doomed.webhook.id)).rejects.toBeInstanceOf(EmulatorControlError);
    expect(await execute({ ...doomed.webhook, id: "123456789012345678" }, { content: "x" })).toMatchObject({
      status: 404,
      body: { code: 10015 },
    });

    const byToken = emulator.createWebhook(guild.guildId, { channelId, name: "short-lived" });
    const del = await fetch(executeUrl(byToken.webhook), { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await execute(byToken.webhook, { content: "x" })).status).toBe(404);
    expect((await control.webhooks()).filter((w) => w.deleted).length).toBe(2);
  });

  it("refuses a channel that is not a text channel of the guild", async () => {
    expect(() => emulator.createWebhook(guild.guildId, { channelId: guild.guildId })).toThrow(/channelId/);
  });
});
