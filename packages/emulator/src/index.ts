/**
 * @guildhall/emulator: a Discord stand-in (REST v10, Gateway v10, CDN, control API) on loopback
 * that the real discord.js and @discordjs/rest connect to. See DESIGN.md, "The emulator".
 */

export type {
  AdminApi,
  AuditChange,
  AuditEntry,
  AuditFilter,
  BucketCount,
  InviteRecord,
  RateLimitOptions,
  RateLimitReport,
  RateLimitSettings,
  RateLimitWindow,
  RoleInput,
  RolePosition,
  RoleTagsInput,
} from "./admintypes";
export { AuditAction } from "./audit";
export type { EmulatorInfo } from "./client";
export { EmulatorControl, EmulatorControlError } from "./client";
export { startEmulator } from "./emulator";
export { EmulatorError } from "./errors";
export type {
  EndpointCheck,
  EndpointVerdict,
  IntegrationsApi,
  InteractionDelivery,
  OAuth2Info,
  WebhookInput,
  WebhookRecord,
} from "./integrationtypes";
export { DEFAULT_RATE_LIMITS } from "./ratelimits";
export type {
  ApplicationCommand,
  ChurnOptions,
  CommandOptionValue,
  Emulator,
  EmulatorOptions,
  GuildSummary,
  InteractionRecord,
  InvokeOptions,
  MemberChanges,
  MemberChangesResult,
  MemberChunkEvent,
  MemberInput,
  MemberPatch,
  MemberRecord,
  MemberUpdateShape,
  PresenceInput,
  RecordedMessage,
  SeededGuild,
  SeededStaff,
  SeedOptions,
  SessionInfo,
} from "./types";

/** The demo guild `npm start` and `npm run emulator` seed: seed 1, 500 members, 25 staff. */
export const DEMO_GUILD = { seed: 1, members: 500, staff: 25 } as const;
