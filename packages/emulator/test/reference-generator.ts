/**
 * The straightforward member generator the emulator shipped first (Rng object, Date formatting,
 * BigInt snowflakes), kept as the reference the optimised src/generator.ts must reproduce exactly.
 * Admins (SeedOptions.admins) were added later: they get the Admin role after the Staff role; the managed
 * roles (Server Booster for premium members, an integration role and a linked role) later still, after Admin.
 */
import type { GuildSpec } from "../src/generator";
import { hash3, Rng, seedHash } from "../src/random";
import { snowflakeAt } from "../src/snowflake";
import type { MemberRecord } from "../src/types";
import { ADJECTIVES, FIRST_NAMES, LAST_NAMES, NOUNS } from "../src/words";

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

function ts(unixMs: number): string {
  return new Date(unixMs).toISOString().replace("Z", "000+00:00");
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The user id of generated member `index`, as BigInt arithmetic computes it. */
export function referenceUserId(spec: GuildSpec, index: number): bigint {
  const epoch = Date.UTC(2015, 5, 1) + (seedHash(spec.seed) % 180) * DAY_MS;
  return snowflakeAt(epoch + index * 90_000, hash3(spec.seed, index, 3));
}

/** Generated member `index`, computed the slow, obvious way. */
export function referenceMember(spec: GuildSpec, index: number): MemberRecord {
  const rng = new Rng(hash3(spec.seed, index, 1));
  const isStaff = index < spec.staffCount;
  const bot = !isStaff && rng.next() < 0.01;
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const adjective = rng.pick(ADJECTIVES);
  const noun = rng.pick(NOUNS);
  let username: string;
  let globalName: string | null;
  if (bot) {
    username = `${noun}bot${index}`;
    globalName = `${capitalize(noun)} Bot`;
  } else {
    const pattern = rng.int(5);
    username =
      pattern === 0
        ? `${adjective}${noun}${index}`
        : pattern === 1
          ? `${first}.${last}${index}`
          : pattern === 2
            ? `${first}_${index}`
            : pattern === 3
              ? `${noun}_${adjective}${index}`
              : `${first}${last}${index}`;
    const display = rng.next();
    globalName =
      display < 0.45
        ? `${capitalize(first)} ${capitalize(last)}`
        : display < 0.7
          ? capitalize(first)
          : display < 0.8
            ? `${capitalize(adjective)} ${capitalize(noun)}`
            : null;
  }
  const nickRoll = rng.next();
  let nick: string | null = null;
  if (isStaff && nickRoll < 0.4) nick = `${capitalize(first)} [Staff]`;
  else if (!bot && nickRoll < 0.12) {
    const style = rng.int(3);
    nick =
      style === 0
        ? capitalize(first)
        : style === 1
          ? `${capitalize(first)} ${capitalize(last).charAt(0)}.`
          : `The ${capitalize(adjective)} ${capitalize(noun)}`;
  }
  const avatar = rng.next() < 0.85 ? rng.hex(32) : null;
  const roleCount = 1 + rng.int(3);
  const chosen = new Set<number>();
  while (chosen.size < roleCount) chosen.add(rng.int(spec.memberRoleIds.length));
  const roles = [...chosen].sort((a, b) => a - b).map((k) => spec.memberRoleIds[k] as string);
  if (isStaff) roles.push(spec.staffRoleId);
  if (spec.adminIndices.includes(index)) roles.push(spec.adminRoleId);
  const joinedMs = spec.now - Math.floor(rng.next() * 3 * YEAR_MS);
  const premiumSince = rng.next() < 0.03 ? ts(joinedMs + Math.floor(rng.next() * (spec.now - joinedMs))) : null;
  const pending = !bot && rng.next() < 0.02;
  // Managed roles: boosters hold Server Booster; the integration and linked roles come from hash stream 4.
  if (premiumSince !== null) roles.push(spec.boosterRoleId);
  if (!bot) {
    const h = hash3(spec.seed, index, 4);
    if (h % 1000 < 30) roles.push(spec.integrationRoleId);
    if ((h >>> 10) % 1000 < 80) roles.push(spec.linkedRoleId);
  }
  return {
    userId: referenceUserId(spec, index).toString(),
    username,
    globalName,
    avatar,
    bot,
    nick,
    roles,
    joinedAt: ts(joinedMs),
    premiumSince,
    pending,
  };
}
