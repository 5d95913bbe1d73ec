/**
 * Presence churn: random presence changes at a steady rate per guild, for demos and load tests.
 * A 25 ms timer sends the updates that fell due since the last tick.
 */

import { OFFLINE, randomOnlinePresence } from "./activities";
import type { GuildState } from "./guild";
import type { ChurnSettings } from "./inputs";
import type { Presences } from "./presences";
import { hash3, Rng } from "./random";

const CHURN_TICK_MS = 25;
/** At most this many updates per tick, and at most this many carried over. */
const MAX_PER_TICK = 1000;

interface Churn extends ChurnSettings {
  timer: NodeJS.Timeout;
  /** Fractional updates carried to the next tick. */
  due: number;
  /** When the last tick ran, ms since the Unix epoch. */
  last: number;
  rng: Rng;
}

/** The running churns of one emulator, by guild id. */
export class PresenceChurn {
  private readonly churns = new Map<string, Churn>();

  constructor(private readonly presences: Presences) {}

  /** Starts (or retunes) churn in `guild` at `settings.rate` updates per second. */
  start(guild: GuildState, settings: ChurnSettings): void {
    this.stop(guild.id);
    const churn: Churn = {
      ...settings,
      due: 0,
      last: Date.now(),
      rng: new Rng(hash3(guild.spec.seed, this.churns.size, 7)),
      timer: setInterval(() => this.tick(guild, churn), CHURN_TICK_MS),
    };
    churn.timer.unref();
    this.churns.set(guild.id, churn);
  }

  /** Stops the churn of a guild; no-op if none. */
  stop(guildId: string): void {
    const churn = this.churns.get(guildId);
    if (!churn) return;
    clearInterval(churn.timer);
    this.churns.delete(guildId);
  }

  /** Stops every churn. */
  stopAll(): void {
    for (const id of [...this.churns.keys()]) this.stop(id);
  }

  /** The running churn of a guild (updates per second, staff share), or null. */
  status(guildId: string): { updatesPerSecond: number; staffShare: number | null } | null {
    const churn = this.churns.get(guildId);
    return churn ? { updatesPerSecond: churn.rate, staffShare: churn.staffShare } : null;
  }

  private tick(guild: GuildState, churn: Churn): void {
    const now = Date.now();
    churn.due += (churn.rate * (now - churn.last)) / 1000;
    churn.last = now;
    const count = Math.min(Math.floor(churn.due), MAX_PER_TICK);
    churn.due = Math.min(churn.due - count, MAX_PER_TICK);
    const random = () => churn.rng.next();
    for (let i = 0; i < count; i++) {
      // Without staffShare every member is equally likely, staff included.
      const staffPick = churn.staffShare !== null && guild.spec.staffCount > 0 && random() < churn.staffShare;
      const userId = guild.randomMemberId(random, staffPick);
      if (!userId) continue;
      const current = guild.presence(userId);
      const next = current.status !== "offline" && random() < 0.25 ? OFFLINE : randomOnlinePresence(churn.rng, now);
      this.presences.apply(guild, userId, next);
    }
  }
}
