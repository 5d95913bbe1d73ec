/**
 * Control routes of the integration surface (see integrationtypes.ts): OAuth2 settings and the
 * signed-in user, redirect URIs, the interactions endpoint and its checks, incoming webhooks, and the
 * bot joining and leaving guilds. Errors are `{error}` naming the field, as for every control route.
 */
import type { ControlRoute } from "./control";
import type { EmulatorServer } from "./emulator";
import { EmulatorError } from "./errors";
import type { WebhookInput } from "./integrationtypes";
import { object, onlyKeys } from "./validate";

/** The integration routes under /_emulator. */
export function integrationControlRoutes(emulator: EmulatorServer): ControlRoute[] {
  return [
    { method: "GET", pattern: "/_emulator/oauth2", handle: () => ({ status: 200, body: emulator.oauth2() }) },
    {
      // {userId: string | null}
      method: "PUT",
      pattern: "/_emulator/oauth2/user",
      handle: (_p, body) => {
        const o = object(body, "body");
        onlyKeys(o, ["userId"], "body");
        if (o.userId !== null && typeof o.userId !== "string") throw new EmulatorError(400, "userId must be a snowflake string or null");
        emulator.setOAuthUser(o.userId);
        return { status: 204 };
      },
    },
    {
      // {redirectUris: string[]}
      method: "PUT",
      pattern: "/_emulator/oauth2/redirect-uris",
      handle: (_p, body) => {
        const o = object(body, "body");
        onlyKeys(o, ["redirectUris"], "body");
        emulator.setRedirectUris(o.redirectUris as string[]);
        return { status: 204 };
      },
    },
    {
      // {url: string | null}
      method: "PUT",
      pattern: "/_emulator/interactions-endpoint",
      handle: async (_p, body) => {
        const o = object(body, "body");
        onlyKeys(o, ["url"], "body");
        if (o.url !== null && typeof o.url !== "string") throw new EmulatorError(400, "url must be a string or null");
        return { status: 200, body: await emulator.setInteractionsEndpoint(o.url) };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/interactions-endpoint/validate",
      bodyOptional: true,
      handle: async () => ({ status: 200, body: await emulator.validateInteractionsEndpoint() }),
    },
    {
      method: "POST",
      pattern: "/_emulator/interactions-endpoint/probe",
      bodyOptional: true,
      handle: async () => ({ status: 200, body: await emulator.probeInteractionsEndpoint() }),
    },
    { method: "GET", pattern: "/_emulator/webhooks", handle: () => ({ status: 200, body: emulator.webhooks() }) },
    { method: "GET", pattern: "/_emulator/webhooks/:id", handle: (p) => ({ status: 200, body: emulator.webhook(p.id ?? "") }) },
    {
      method: "DELETE",
      pattern: "/_emulator/webhooks/:id",
      handle: (p) => {
        emulator.deleteWebhook(p.id ?? "");
        return { status: 204 };
      },
    },
    {
      // {channelId, name?}
      method: "POST",
      pattern: "/_emulator/guilds/:guild/webhooks",
      handle: (p, body) => ({ status: 201, body: emulator.createWebhook(p.guild ?? "", body as WebhookInput) }),
    },
    {
      // {permissions?: string}
      method: "PUT",
      pattern: "/_emulator/guilds/:guild/bot",
      bodyOptional: true,
      handle: (p, body) => {
        const o = body === undefined ? {} : object(body, "body");
        onlyKeys(o, ["permissions"], "body");
        emulator.addBotToGuild(p.guild ?? "", o.permissions as string | undefined);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/guilds/:guild/bot",
      handle: (p) => {
        emulator.removeBotFromGuild(p.guild ?? "");
        return { status: 204 };
      },
    },
  ];
}
