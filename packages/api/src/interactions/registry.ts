/**
 * The one registry of interaction handlers, shared by both transports: the bot's gateway path
 * (INTERACTION_CREATE, answered through the interaction callback route) and the server's HTTP
 * endpoint (`POST /api/interactions`, answered in the HTTP response). A handler takes the raw
 * interaction (Discord's API shape, checked with Effect Schema) and returns an interaction
 * response; what it needs from Guildhall it asks of {@link InteractionServices}, which the server
 * implements with domain services and the bot with the tRPC API. A command or component added
 * here therefore works over either transport.
 * https://discord.com/developers/docs/interactions/receiving-and-responding
 */
import { Effect, Exit } from "effect";
import { InvalidInput, validateInput } from "../request";
import {
  CommandData,
  ComponentData,
  EPHEMERAL,
  ephemeral,
  Interaction,
  type InteractionResponse,
  InteractionType,
  type ResponseMessage,
  ResponseType,
} from "./payload";
import { roleMenu } from "./roleMenu";
import { syncMembers } from "./syncMembers";

/** A member sync asked for by an interaction (see {@link InteractionServices.requestMemberSync}). */
export interface MemberSyncRequest {
  /** The guild (snowflake). */
  readonly guildId: string;
  /** Who asked: `discord:<user id>`. */
  readonly requestedBy: string;
  /** Where the bot reads members from: the gateway (REQUEST_GUILD_MEMBERS) or REST paging. */
  readonly source: "gateway" | "rest";
  /** The interaction whose response the bot edits with the sync's progress (the token is valid 15 minutes; a secret). */
  readonly followUp: { readonly applicationId: string; readonly token: string };
}

/** What handlers need from Guildhall; each transport implements it (server: domain services; bot: the tRPC API). */
export interface InteractionServices {
  /** The guild's member sync settings: `syncAdminRoleId` (snowflake or null), the role also allowed to run /sync_members. */
  readonly guildSettings: (guildId: string) => Promise<{ readonly syncAdminRoleId: string | null }>;
  /**
   * Queues a full member sync of the guild as a bot command (`members.sync`, trigger `command`),
   * the same job whichever transport the command came by; a sync already waiting for the guild
   * is that one. Resolves to the command's id, or `{notLinked: true}` (nothing queued) when the
   * guild is not linked to Guildhall.
   */
  readonly requestMemberSync: (request: MemberSyncRequest) => Promise<{ readonly commandId: string } | { readonly notLinked: true }>;
  /**
   * Edits the interaction's original response (`PATCH /webhooks/{application.id}/{token}/messages/@original`),
   * after a deferral. https://discord.com/developers/docs/interactions/receiving-and-responding#edit-original-interaction-response
   */
  readonly editOriginal: (applicationId: string, token: string, message: ResponseMessage) => Promise<void>;
  /**
   * A member's choice in a role menu (`rolemenu:<menuId>`): Guildhall plans, applies and audits it
   * (`RoleMenus.choose`) and resolves to the ephemeral reply's `content`. Ids are snowflakes;
   * `memberRoles` as the interaction lists them; `values` the roles picked.
   */
  readonly chooseFromRoleMenu: (choice: {
    readonly menuId: string;
    readonly guildId: string;
    readonly userId: string;
    readonly memberRoles: ReadonlyArray<string>;
    readonly values: ReadonlyArray<string>;
  }) => Promise<{ readonly content: string }>;
  /** Logs a line (never the interaction token). */
  readonly log: (level: "Info" | "Warn" | "Error", line: string) => void;
}

/** What a command handler gets. */
export interface CommandContext {
  readonly interaction: Interaction;
  readonly data: CommandData;
  readonly services: InteractionServices;
}

/** What a component handler gets. */
export interface ComponentContext {
  readonly interaction: Interaction;
  readonly data: ComponentData;
  readonly services: InteractionServices;
}

/** A slash command's handler; `ephemeral` says whether a deferral (see {@link answerInteraction}) hides the "thinking" message. */
export interface CommandHandler {
  readonly ephemeral: boolean;
  readonly run: (context: CommandContext) => Promise<InteractionResponse>;
}

/**
 * A component's handler (button, select), chosen by the `custom_id` prefix before the first `:`.
 * `ephemeral`: a deferral is an ephemeral "thinking" message (type 5, flag 64) whose edit is the
 * reply, instead of a deferred update of the component's message (type 6, the default).
 */
export interface ComponentHandler {
  readonly ephemeral?: boolean;
  readonly run: (context: ComponentContext) => Promise<InteractionResponse>;
}

/**
 * Every handler, by command name and by `custom_id` prefix (`signup:42` -> `signup`). Both
 * transports answer from here; add new commands and components to it.
 */
export const handlers: {
  readonly commands: Readonly<Record<string, CommandHandler>>;
  readonly components: Readonly<Record<string, ComponentHandler>>;
} = {
  commands: { sync_members: syncMembers },
  components: { rolemenu: roleMenu },
};

/** Discord's response window is 3 s; a handler still busy after this long (ms) is deferred (type 5 or 6). */
export const DEFAULT_DEADLINE_MS = 2_500;

/** Options of {@link answerInteraction}. */
export interface AnswerOptions {
  /** How long a handler may take before the answer is a deferral and its result an edit of the original response (ms); default 2,500. */
  readonly deadlineMs?: number;
}

/** Decodes `value` with `schema`, throwing InvalidInput whose field and message name each failing field under `field` (`body.data.name`). */
const decode = <A>(schema: Parameters<typeof validateInput>[0], value: unknown, field: string): A => {
  const exit = Effect.runSyncExit(validateInput(schema, value, field));
  if (Exit.isSuccess(exit)) return exit.value as A;
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail");
  const error = reason?._tag === "Fail" ? reason.error : new InvalidInput({ field, message: `${field}: invalid` });
  const under = (path: string) => (path === field || path.startsWith(`${field}.`) ? path : `${field}.${path}`);
  throw new InvalidInput({
    field: under(error.field),
    message: error.message
      .split("; ")
      .map((part) => (part.startsWith("and ") ? part : under(part)))
      .join("; "),
  });
};

const hasOwn = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;

const messageOf = (response: InteractionResponse): ResponseMessage | null =>
  response.type === ResponseType.ChannelMessageWithSource || response.type === ResponseType.UpdateMessage ? response.data : null;

/**
 * Answers one raw interaction (Discord's API shape) with the response to send: PING -> PONG;
 * a command -> its handler in {@link handlers} (unknown ones get an ephemeral notice); a component
 * -> the handler of its `custom_id` prefix. A handler that has not answered within `deadlineMs`
 * is answered with a deferral (type 5, ephemeral when the command is; type 6 for components),
 * and its response, when it comes, edits the original response through `services.editOriginal`.
 * A handler that fails is answered with an ephemeral apology (the error is logged, not shown).
 * Rejects with InvalidInput (naming the field, e.g. `body.member.roles.0`) when the interaction
 * or its `data` does not have Discord's shape; the caller verified the signature first.
 * https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction
 */
export const answerInteraction = async (
  raw: unknown,
  services: InteractionServices,
  options: AnswerOptions = {},
): Promise<InteractionResponse> => {
  const interaction = decode<Interaction>(Interaction, raw, "body");
  let run: () => Promise<InteractionResponse>;
  let deferral: InteractionResponse;
  let name: string;
  switch (interaction.type) {
    case InteractionType.Ping:
      return { type: ResponseType.Pong };
    case InteractionType.ApplicationCommand: {
      const data = decode<CommandData>(CommandData, interaction.data, "body.data");
      const handler = hasOwn(handlers.commands, data.name);
      if (!handler) return ephemeral(`Guildhall does not know the command /${data.name}.`);
      name = `/${data.name}`;
      run = () => handler.run({ interaction, data, services });
      deferral = { type: ResponseType.DeferredChannelMessageWithSource, data: handler.ephemeral ? { flags: EPHEMERAL } : {} };
      break;
    }
    case InteractionType.MessageComponent: {
      const data = decode<ComponentData>(ComponentData, interaction.data, "body.data");
      const prefix = data.custom_id.split(":", 1)[0] ?? "";
      const handler = hasOwn(handlers.components, prefix);
      if (!handler) return ephemeral("This component is no longer handled by Guildhall.");
      name = `component ${prefix}`;
      run = () => handler.run({ interaction, data, services });
      deferral = handler.ephemeral
        ? { type: ResponseType.DeferredChannelMessageWithSource, data: { flags: EPHEMERAL } }
        : { type: ResponseType.DeferredUpdateMessage };
      break;
    }
    default:
      return ephemeral("Guildhall does not handle this kind of interaction.");
  }
  const failed = (error: unknown): InteractionResponse => {
    services.log("Error", `interaction ${interaction.id} (${name}) failed: ${error instanceof Error ? error.message : String(error)}`);
    return ephemeral("Something went wrong on Guildhall's side; the error is in its log.");
  };
  const work = run().catch(failed);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), options.deadlineMs ?? DEFAULT_DEADLINE_MS);
  });
  const first = await Promise.race([work, late]);
  clearTimeout(timer);
  if (first !== "late") return first;
  void work.then(async (response) => {
    const message = messageOf(response);
    if (message === null) return;
    await services
      .editOriginal(interaction.application_id, interaction.token, message)
      .catch((error: unknown) =>
        services.log(
          "Warn",
          `could not edit the response of interaction ${interaction.id}: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  });
  return deferral;
};
