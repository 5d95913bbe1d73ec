/**
 * @guildhall/api/interactions: Discord interactions handled the same way over the gateway (the bot)
 * and over HTTP (`POST /api/interactions`, the server). Free of the server side (no database), so
 * the bot loads it.
 */
export {
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
export {
  type AnswerOptions,
  answerInteraction,
  type CommandContext,
  type CommandHandler,
  type ComponentContext,
  type ComponentHandler,
  DEFAULT_DEADLINE_MS,
  handlers,
  type InteractionServices,
  type MemberSyncRequest,
} from "./registry";
export { ROLE_MENU_CUSTOM_ID, roleMenu } from "./roleMenu";
export { maySync, SYNC_MEMBERS_COMMAND, SYNC_REFUSED } from "./syncMembers";
