/**
 * REST routes of webhooks: Execute Webhook (`?wait=true` answers the message, else 204), Get and Delete
 * Webhook with Token, Get and Delete Webhook as the bot. `POST /webhooks/{application.id}/{token}` is an
 * interaction follow-up and goes to the InteractionHub. Unknown or deleted webhooks answer 404 / 10015.
 * https://discord.com/developers/docs/resources/webhook
 */
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { InteractionHub } from "../interactions";
import type { Webhooks } from "../webhooks";
import type { Route } from "./route";
import { boolParam, error } from "./route";

/** What the webhook routes need. */
export interface WebhookRoutesContext {
  readonly applicationId: string;
  readonly webhooks: Webhooks;
  readonly interactions: InteractionHub;
}

/** The route table for /webhooks/{webhook.id} and /webhooks/{webhook.id}/{webhook.token}. */
export function webhookRoutes(ctx: WebhookRoutesContext): Route[] {
  return [
    {
      // https://discord.com/developers/docs/resources/webhook#execute-webhook
      // https://discord.com/developers/docs/interactions/receiving-and-responding#create-followup-message
      method: "POST",
      pattern: "/webhooks/:webhook_id/:webhook_token",
      auth: false,
      handle: ({ params, query, body, files }) => {
        const id = params.webhook_id ?? "";
        const token = params.webhook_token ?? "";
        if (id === ctx.applicationId) return { status: 200, body: ctx.interactions.followup(id, token, body, files) };
        // The seeded guilds have no threads.
        if (query.get("thread_id") !== null) return error(404, RESTJSONErrorCodes.UnknownChannel, "Unknown Channel");
        const message = ctx.webhooks.execute(id, token, body, files, boolParam(query, "wait"));
        return message === undefined ? { status: 204 } : { status: 200, body: message };
      },
    },
    {
      // https://discord.com/developers/docs/resources/webhook#get-webhook-with-token
      method: "GET",
      pattern: "/webhooks/:webhook_id/:webhook_token",
      auth: false,
      handle: ({ params }) => ({ status: 200, body: ctx.webhooks.getWithToken(params.webhook_id ?? "", params.webhook_token ?? "") }),
    },
    {
      // https://discord.com/developers/docs/resources/webhook#delete-webhook-with-token
      method: "DELETE",
      pattern: "/webhooks/:webhook_id/:webhook_token",
      auth: false,
      handle: ({ params }) => {
        ctx.webhooks.deleteWithToken(params.webhook_id ?? "", params.webhook_token ?? "");
        return { status: 204 };
      },
    },
    {
      // https://discord.com/developers/docs/resources/webhook#get-webhook
      method: "GET",
      pattern: "/webhooks/:webhook_id",
      auth: true,
      handle: ({ params }) => ({ status: 200, body: ctx.webhooks.getAsBot(params.webhook_id ?? "") }),
    },
    {
      // https://discord.com/developers/docs/resources/webhook#delete-webhook
      method: "DELETE",
      pattern: "/webhooks/:webhook_id",
      auth: true,
      handle: ({ params }) => {
        ctx.webhooks.deleteAsBot(params.webhook_id ?? "");
        return { status: 204 };
      },
    },
  ];
}
