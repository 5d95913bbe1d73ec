import { SYNC_MEMBERS_COMMAND } from "@guildhall/api/interactions";
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord.js";
import type { SyncRunState } from "../memberSync";

/**
 * `/sync_members [source]`: a full member sync, for admins. The definition registered in each
 * guild; the handler is @guildhall/api/interactions' (the same over the gateway and over HTTP).
 */
export const syncMembersCommand: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  ...SYNC_MEMBERS_COMMAND,
  options: SYNC_MEMBERS_COMMAND.options.map((option) => ({ ...option, choices: [...option.choices] })),
};

/** How often a /sync_members response is edited with progress (ms). */
export const PROGRESS_EVERY_MS = 1_000;

/** What the /sync_members response says about `run`: progress while it runs, then the counts or why it stopped. */
export const describeRun = (run: SyncRunState): string => {
  if (run.status === "running") {
    return `Syncing members… ${run.chunksReceived}${run.chunkCount ? ` of ${run.chunkCount}` : ""} chunks, ${run.rowsReceived.toLocaleString("en")} members read.`;
  }
  const seconds = run.durationMs === null ? "" : ` in ${(run.durationMs / 1000).toFixed(1)} s`;
  if (run.status === "completed") {
    return (
      `Member sync done${seconds}: ${run.rowsReceived.toLocaleString("en")} members. ` +
      `Created ${run.created}, updated ${run.updated}, rejoined ${run.rejoined}, marked left ${run.markedLeft}, unchanged ${run.unchanged}.`
    );
  }
  if (run.status === "awaiting_confirmation") {
    return (
      `Member sync done${seconds}, but it would mark ${run.pendingLeft} of ${run.presentMembers ?? "?"} members left: ` +
      "more than this guild allows at once, so nobody was marked left yet. An admin can confirm or discard it in Guildhall (Members → Sync history)."
    );
  }
  return `Member sync ${run.status}${seconds}: ${run.reason ?? "no reason given"}. Nobody was marked left.`;
};
