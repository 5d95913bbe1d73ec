import type { GuildhallClient } from "@guildhall/api";
import type { Client } from "discord.js";
import type { PresenceForwarder } from "./forwarder";

/** What every gateway event handler gets: the Discord client, the server client and the forwarder. */
export interface BotContext {
  readonly client: Client;
  readonly server: GuildhallClient;
  readonly forwarder: PresenceForwarder;
  readonly log: (line: string) => void;
  /** Sends REQUEST_GUILD_MEMBERS for `userIds` with presences (at most 100 ids per request, as Discord requires). */
  readonly requestPresences: (guildId: string, userIds: ReadonlyArray<string>) => void;
  /** Nonces of the presence requests this bot sent and still expects chunks for. */
  readonly pendingNonces: Set<string>;
}
