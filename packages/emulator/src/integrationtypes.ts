/**
 * Public types of the emulator's integration surface: OAuth2 (the authorize page, tokens), incoming
 * webhooks, signed interaction delivery, and the bot joining and leaving guilds. {@link IntegrationsApi}
 * is the part of the `Emulator` interface that drives them.
 */
import type { APIWebhook } from "discord-api-types/v10";
import type { RecordedMessage } from "./types";

/** The application's OAuth2 settings as the control API reports them (GET /_emulator/oauth2). Times in ms. */
export interface OAuth2Info {
  /** The application id. */
  clientId: string;
  clientSecret: string;
  /** Registered redirect URIs; an authorize request's `redirect_uri` must be one of them exactly. */
  redirectUris: string[];
  /** Who the authorize page signs in when the browser has not picked anyone (see setOAuthUser), or null. */
  signedInUserId: string | null;
  /** How long an authorization code can be exchanged (default 600000, 10 min). */
  codeTtlMs: number;
  /** How long an access token works (default 604800000: `expires_in` 604800 s). */
  tokenTtlMs: number;
  /** http://127.0.0.1:PORT/oauth2/authorize */
  authorizeUrl: string;
  /** http://127.0.0.1:PORT/api/v10/oauth2/token */
  tokenUrl: string;
}

/** An incoming webhook as the control API reports it: Discord's webhook object, and what was posted through it. */
export interface WebhookRecord {
  /** The webhook object (type 1, with `token`, `url` and its creator as `user`). */
  webhook: APIWebhook;
  /** ms since the Unix epoch. */
  createdAt: number;
  /** Deleted through REST or the control API: executing it answers 404 / 10015 Unknown Webhook. */
  deleted: boolean;
  /** Messages executed through it, oldest first (Discord's message object plus `edits` and `deleted`). */
  messages: RecordedMessage[];
}

/** One check of an interactions endpoint. */
export interface EndpointCheck {
  /** What was checked, e.g. "altered body refused with 401". */
  name: string;
  ok: boolean;
  /** The HTTP status the endpoint answered, or null when it did not answer. */
  status: number | null;
  /** Why the check failed, or null. */
  reason: string | null;
}

/** The verdict on an interactions endpoint URL. */
export interface EndpointVerdict {
  /** The URL checked (null when the endpoint was removed). */
  url: string | null;
  /** Every check passed. */
  ok: boolean;
  /** One line per failed check. */
  reasons: string[];
  checks: EndpointCheck[];
  /** The application's interactions endpoint URL after the call (null: interactions go over the gateway). */
  endpointUrl: string | null;
}

/**
 * How an interaction reached the application: over the gateway (INTERACTION_CREATE), or POSTed to the
 * interactions endpoint with the HTTP status it answered and, when the interaction failed, why.
 */
export type InteractionDelivery =
  | { via: "gateway" }
  | {
      via: "http";
      url: string;
      /** The endpoint's HTTP status, or null while waiting or when it did not answer. */
      status: number | null;
      /** Why the interaction failed (non-2xx, no answer within 3 s, an invalid response), or null. */
      error: string | null;
      /** How long the endpoint took to answer, in ms, or null while waiting. */
      durationMs: number | null;
    };

/** Input for {@link IntegrationsApi.createWebhook}. */
export interface WebhookInput {
  /** A text channel of the guild. */
  channelId: string;
  /** 1-80 characters; default the application's name. */
  name?: string;
}

/** The integration methods of `Emulator` (each has a control route and an `EmulatorControl` method of the same name). */
export interface IntegrationsApi {
  /** The OAuth2 client secret (the client id is the application id). */
  readonly clientSecret: string;
  /** The application's Ed25519 public key, 64 hex characters: `verify_key`, what interaction endpoints verify with. */
  readonly publicKey: string;
  /** The application's OAuth2 settings. */
  oauth2(): OAuth2Info;
  /**
   * Who the authorize page signs in by default (a browser can switch with the page's account picker,
   * remembered in a cookie); null signs nobody in, and the page asks. Throws 400 unless the id names a
   * user the emulator knows (a non-bot member, past or present, of some guild, or the application owner).
   */
  setOAuthUser(userId: string | null): void;
  /** Replaces the registered redirect URIs (absolute http(s) URLs, at most 10). Throws 400 naming the entry. */
  setRedirectUris(uris: string[]): void;
  /**
   * Sets the interactions endpoint URL after Discord's checks (a signed PING answered with PONG, invalid
   * signatures refused with 401); a URL that fails is not saved. `null` removes it. Resolves to the verdict.
   * https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint
   */
  setInteractionsEndpoint(url: string | null): Promise<EndpointVerdict>;
  /** Runs the checks again on the current endpoint without changing it. Throws 409 when none is set. */
  validateInteractionsEndpoint(): Promise<EndpointVerdict>;
  /**
   * Discord's routine security probe: requests with invalid signatures, each to be refused with 401; an
   * endpoint that accepts one loses its URL. Throws 409 when none is set.
   */
  probeInteractionsEndpoint(): Promise<EndpointVerdict>;
  /** Every incoming webhook, deleted ones included, with the messages posted through it. */
  webhooks(): WebhookRecord[];
  /** One webhook. Throws 404 for an unknown id. */
  webhook(webhookId: string): WebhookRecord;
  /** Creates an incoming webhook in a text channel (as a `webhook.incoming` consent does). Throws 404 (guild), 400 naming the field. */
  createWebhook(guildId: string, input: WebhookInput): WebhookRecord;
  /** Deletes a webhook as a guild admin would: executing it then answers 404 / 10015. Throws 404 for an unknown or deleted one. */
  deleteWebhook(webhookId: string): void;
  /**
   * Adds the bot to a guild as an install would (its managed role gets `permissions`, default
   * ADMINISTRATOR), sending GUILD_CREATE to its sessions. Throws 404 (guild), 409 when it is there already.
   */
  addBotToGuild(guildId: string, permissions?: string): void;
  /**
   * Removes the bot from a guild (kicked): GUILD_DELETE without `unavailable` to its sessions; REST for
   * the guild answers 404 / 10004 (the guild) or 403 / 50001 (what is in it) from then on. Throws 404
   * (guild), 409 when the bot is not there.
   */
  removeBotFromGuild(guildId: string): void;
}
