/**
 * @guildhall/sync: the domain services that keep Guildhall's copy of Discord current.
 * Presence (the live roster), the directory of organizations/staff/guilds, and the bot's
 * health and command queue (pg-boss jobs, @guildhall/jobs). No tRPC, React or discord.js here.
 */
export * from "./ApiTokens";
export * from "./Bot";
export * from "./Comparison";
export * from "./Directory";
export * from "./DomainEvents";
export * from "./errors";
export * from "./eventKinds";
export { encodePayload, Feed, type FeedPayload, type Listener, MAX_NOTIFY_BYTES } from "./Feed";
export * from "./Integrations";
export * from "./MemberSync";
export { MEMBER_COLUMNS, MemberSyncStore } from "./MemberSyncStore";
export * from "./members";
export * from "./model";
export * from "./Presences";
export * from "./RoleMenus";
export * from "./Roles";
export * from "./Roster";
export * from "./SecretBox";
export * from "./storable";
export * from "./Webhooks";
export * from "./webhookEmbeds";

import { Layer } from "effect";
import { ApiTokens } from "./ApiTokens";
import { Comparison } from "./Comparison";
import { Directory } from "./Directory";
import { DomainEvents } from "./DomainEvents";
import { MemberSync } from "./MemberSync";
import { Presences } from "./Presences";
import { Groups } from "./Roles";
import { Roster } from "./Roster";

/**
 * Every sync service but `Bot`, wired together; needs only the `Database` service. `Bot` also
 * needs the `Jobs` service (@guildhall/jobs): provide `Bot.layer` beside it where jobs run;
 * `Reconciler` needs `Jobs` and the Discord port (`DiscordRest`) too.
 */
export const SyncLayer = Roster.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(Presences.layer, Directory.layer, MemberSync.layer, Comparison.layer, ApiTokens.layer, Groups.layer, DomainEvents.layer),
  ),
);
