/**
 * What must hold after every fuzz case, whatever the input: no member sync run, pg-boss job,
 * advisory lock or transaction left open by the request, the server still healthy, and no
 * error escaped to the process (an unhandled rejection or uncaught exception, which would end a
 * production process).
 *
 * "Left open by the request": a successful answer may legitimately open something and hand it
 * to the caller (`bot.syncBegin` answers the running run; `bot.commands` hands out jobs, which
 * stay active until acknowledged). Such a thing is accounted for when its id appears in the
 * answer; anything else new and still open is a leak.
 *
 * The database is read through a plain `sql` function the test supplies (the server's own
 * connection), so this module needs no driver.
 */

/** Runs one SQL statement on the server's database and returns its rows. */
export type Sql = (text: string) => Promise<ReadonlyArray<Record<string, unknown>>>;

/** What was open at one moment. */
export interface OpenState {
  /** Ids of member sync runs with status `running`. */
  readonly runs: ReadonlySet<string>;
  /** Ids of active pg-boss jobs of the queues the bot consumes (handed out to a `bot.commands` subscriber). */
  readonly botJobs: ReadonlySet<string>;
}

/** What the checks need to know about the server's database. */
export interface InvariantOptions {
  readonly sql: Sql;
  /** pg-boss queues consumed by the bot (jobs of every other queue are the server's own workers'). */
  readonly botQueues: ReadonlyArray<string>;
  /** `postgres` also checks for sessions left idle in a transaction (PGlite has one session). */
  readonly kind: "pglite" | "postgres";
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The ids of running member sync runs and active bot jobs, now. */
export const openState = async (options: InvariantOptions): Promise<OpenState> => {
  const runs = await options.sql("select id from member_sync_runs where status = 'running'");
  const jobs =
    options.botQueues.length === 0
      ? []
      : await options.sql(
          `select id::text as id from pgboss.job where state = 'active' and name in (${options.botQueues.map(quote).join(", ")})`,
        );
  return { runs: new Set(runs.map((r) => String(r.id))), botJobs: new Set(jobs.map((r) => String(r.id))) };
};

/**
 * Things opened since `before` and still open, that `answerText` (the answer's JSON: data and
 * events) does not account for. Each is one line naming the leak.
 */
export const leaks = (before: OpenState, after: OpenState, answerText: string): Array<string> => {
  const problems: Array<string> = [];
  for (const id of after.runs) {
    if (!before.runs.has(id) && !answerText.includes(id)) problems.push(`member sync run ${id} left running (the caller never got its id)`);
  }
  for (const id of after.botJobs) {
    if (!before.botJobs.has(id) && !answerText.includes(id)) problems.push(`pg-boss job ${id} left active (handed to nobody)`);
  }
  return problems;
};

/**
 * What is open that must never stay open, whatever the answer: advisory locks, active jobs of
 * the server's own queues (its workers finish them), and on Postgres sessions idle in a
 * transaction. Empty when none is; the caller waits on it (these may be open for a moment).
 */
export const heldNow = async (options: InvariantOptions): Promise<Array<string>> => {
  const problems: Array<string> = [];
  const locks = await options.sql("select count(*)::int as n from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid()");
  const ownLocks =
    options.kind === "pglite" ? await options.sql("select count(*)::int as n from pg_locks where locktype = 'advisory'") : [];
  const held = Number(locks[0]?.n ?? 0) + Number(ownLocks[0]?.n ?? 0);
  if (held > 0) problems.push(`${held} advisory lock(s) held`);
  const serverJobs = await options.sql(
    `select id::text as id, name from pgboss.job where state = 'active'${
      options.botQueues.length > 0 ? ` and name not in (${options.botQueues.map(quote).join(", ")})` : ""
    }`,
  );
  for (const job of serverJobs) problems.push(`server job ${String(job.name)} ${String(job.id)} still active`);
  if (options.kind === "postgres") {
    const idle = await options.sql(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%' and pid <> pg_backend_pid()",
    );
    const n = Number(idle[0]?.n ?? 0);
    if (n > 0) problems.push(`${n} session(s) idle in a transaction`);
  }
  return problems;
};

/**
 * Records unhandled rejections and uncaught exceptions from the moment it is created until
 * `stop`: a fuzz case that makes one has crashed what, in production, is a process of its own.
 * (The test runner sees them too; this says which case caused them.)
 */
export class EscapedErrors {
  private readonly errors: Array<string> = [];
  private readonly onRejection = (reason: unknown) => this.errors.push(`unhandled rejection: ${describe(reason)}`);
  private readonly onException = (error: unknown) => this.errors.push(`uncaught exception: ${describe(error)}`);

  constructor() {
    process.on("unhandledRejection", this.onRejection);
    process.on("uncaughtException", this.onException);
  }

  /** The errors recorded since the last call (and forgets them). */
  take(): Array<string> {
    return this.errors.splice(0);
  }

  /** Stops recording. */
  stop(): void {
    process.off("unhandledRejection", this.onRejection);
    process.off("uncaughtException", this.onException);
  }
}

const describe = (error: unknown): string =>
  error instanceof Error
    ? `${error.name}: ${error.message}${error.stack ? `\n${error.stack.split("\n").slice(1, 6).join("\n")}` : ""}`
    : String(error);
