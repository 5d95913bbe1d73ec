/**
 * Dead letters: items the server refused for good, set aside so that they never block the
 * queue behind them. The forwarder keeps the newest few in memory (for `RunningBot.deadLetters`)
 * and hands each one to its `onDeadLetter` callback, which the bot wires to the server's
 * `bot.reportDeadLetter` (the Jobs page and `bot.status` show them there).
 */

/**
 * One item given up, as the bot reports it to the server (`bot.reportDeadLetter`). Every string
 * is printable: control characters and lone surrogates are escaped (`\u0000`), so the letter can
 * be logged and stored even when the item's own text could not.
 */
export interface DeadLetter {
  /** The queue it came from: `presence` (PRESENCE_UPDATE) or `memberEvent` (GUILD_MEMBER_*). */
  readonly kind: string;
  /** Its coalescing key, `guildId:userId` (snowflake strings). */
  readonly key: string;
  /** One line for people, e.g. `upsert of member 123 in guild 456`; at most 200 characters. */
  readonly summary: string;
  /** The item as JSON (non-ASCII text escaped), cut at {@link MAX_ITEM_CHARS} characters. */
  readonly item: string;
  /**
   * The tRPC error code the server answered (`BAD_REQUEST`, `INTERNAL_SERVER_ERROR`, ...), or
   * null when the server never saw it (undelivered at shutdown and the spool not writable).
   */
  readonly code: string | null;
  /** The server's message (never the bot's secrets), at most {@link MAX_ERROR_CHARS} characters. */
  readonly error: string;
  /** How many pushes carried this item on its own before it was given up (0 when none did). */
  readonly attempts: number;
  /** When it was given up (epoch ms). */
  readonly at: number;
}

/** Longest `item` text of a dead letter (characters). */
export const MAX_ITEM_CHARS = 4_000;
/** Longest `error` text of a dead letter (characters). */
export const MAX_ERROR_CHARS = 1_000;
/** Longest `summary` of a dead letter (characters). */
export const MAX_SUMMARY_CHARS = 200;

// C0 controls, DEL and C1 controls, and UTF-16 surrogates that are not half of a pair.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `text` with control characters and lone surrogates written as `\uXXXX` escapes (so a NUL
 * never reaches a log or a database), cut to at most `max` characters (never inside a
 * surrogate pair or an escape).
 */
export const printable = (text: string, max: number): string => {
  const escaped = text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, Math.max(0, max - 1));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  cut = cut.replace(/\\u?[0-9a-f]{0,3}$/, "");
  return `${cut}…`;
};

/** An item as JSON for a dead letter: every non-ASCII or control character escaped, cut to {@link MAX_ITEM_CHARS}. */
export const itemText = (item: unknown): string => {
  let json: string;
  try {
    json = JSON.stringify(item) ?? String(item);
  } catch {
    json = String(item);
  }
  return printable(json, MAX_ITEM_CHARS);
};

/** What {@link DeadLetterList.summary} returns: counts, and the newest letters, oldest first. */
export interface DeadLetterSummary {
  /** Dead letters since start. */
  readonly total: number;
  /** Dead letters since start, by `kind`. */
  readonly byKind: Readonly<Record<string, number>>;
  /** The newest letters (at most the list's capacity), oldest first. */
  readonly recent: ReadonlyArray<DeadLetter>;
}

/** A bounded list of dead letters: counts everything, keeps the newest `capacity` (default 100). */
export class DeadLetterList {
  private readonly letters: Array<DeadLetter> = [];
  private readonly counts = new Map<string, number>();
  private count = 0;

  constructor(private readonly capacity = 100) {}

  /** Records `letter`, dropping the oldest kept one beyond the capacity. */
  add(letter: DeadLetter): void {
    this.count++;
    this.counts.set(letter.kind, (this.counts.get(letter.kind) ?? 0) + 1);
    this.letters.push(letter);
    if (this.letters.length > this.capacity) this.letters.shift();
  }

  /** Dead letters since start. */
  get total(): number {
    return this.count;
  }

  /** Counts and the newest letters. */
  summary(): DeadLetterSummary {
    return { total: this.count, byKind: Object.fromEntries(this.counts), recent: [...this.letters] };
  }
}

/** Several lists as one: totals summed, the newest letters of all of them in time order, at most `limit`. */
export const mergeDeadLetters = (lists: ReadonlyArray<DeadLetterSummary>, limit = 100): DeadLetterSummary => {
  const byKind: Record<string, number> = {};
  for (const list of lists) for (const [kind, n] of Object.entries(list.byKind)) byKind[kind] = (byKind[kind] ?? 0) + n;
  const recent = lists
    .flatMap((l) => l.recent)
    .sort((a, b) => a.at - b.at)
    .slice(-limit);
  return { total: lists.reduce((sum, l) => sum + l.total, 0), byKind, recent };
};
