import type { MemberUpdate } from "@guildhall/api";
import type { GuildhallClient } from "@guildhall/api/client";
import type { Client } from "discord.js";
import type { Forwarder, PresenceForwarder } from "./forwarder";
import type { BotLogger } from "./log";
import type { MemberSyncRunner } from "./memberSync";

/**
 * A live member event on its way to the server. An upsert's member carries only the fields the
 * gateway event carried (a GUILD_MEMBER_ADD: all of them; a GUILD_MEMBER_UPDATE: maybe fewer).
 */
export type MemberEvent =
  | { readonly type: "upsert"; readonly guildId: string; readonly member: MemberUpdate }
  | { readonly type: "remove"; readonly guildId: string; readonly userId: string };

/** What every gateway event handler gets: the Discord client, the server client and the forwarder. */
export interface BotContext {
  readonly client: Client;
  readonly server: GuildhallClient;
  readonly forwarder: PresenceForwarder;
  /** GUILD_MEMBER_* events, forwarded in order. */
  readonly memberEvents: Forwarder<MemberEvent>;
  /** Full member syncs. */
  readonly memberSync: MemberSyncRunner;
  /** The bot's logger: `log(line)` at Info, `log.warn(line)`, `log.error(line)`, ... */
  readonly log: BotLogger;
  /** Sends REQUEST_GUILD_MEMBERS for `userIds` with presences (at most 100 ids per request, as Discord requires). */
  readonly requestPresences: (guildId: string, userIds: ReadonlyArray<string>) => void;
  /** Nonces of the presence requests this bot sent and still expects chunks for. */
  readonly pendingNonces: Set<string>;
}
