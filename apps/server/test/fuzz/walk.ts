/**
 * The router walk: every procedure of `appRouter`, as every role, over every transport its type
 * has, with fast-check inputs derived from its own input schema (@guildhall/fuzz). After each
 * case: no 5xx, nothing left open, the server healthy, no error escaped to the process; after
 * each procedure and role, a known-good call of its family still succeeds.
 *
 * Coverage is by construction: the list comes from `appRouter._def.procedures`, so a procedure
 * added later is walked without editing this file, and one the harness cannot call (an unknown
 * type, an input schema with a node the derivation does not know) fails its test, naming why.
 */
import { appRouter } from "@guildhall/api";
import { DerivationError, inputOf, Pools, PROCEDURE_TYPES, type ProcedureEntry, proceduresOf, show } from "@guildhall/fuzz";
import { Schema, type SchemaAST } from "effect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GUILD_ID } from "../helpers";
import { checkAfter as checkCase, EscapedErrors, type OpenState, openState } from "./checks";
import { type FuzzTarget, ROLES, type Role, startFuzzTarget } from "./target";
import { type Answer, callHttp, callSse, callWs, type Transport } from "./transport";

/** Cases per procedure, role and transport. */
export interface CaseCounts {
  readonly http: number;
  readonly ws: number;
  readonly sse: number;
}

/** The transports each procedure type is called over. */
const TRANSPORTS: Record<string, ReadonlyArray<Transport>> = {
  query: ["http", "ws"],
  mutation: ["http", "ws"],
  subscription: ["sse", "ws"],
};

/**
 * One call per family known to succeed, replayed after each procedure and role: "later good
 * input still works". A family missing here falls back to a query of its own that succeeded
 * during the walk; one with neither fails (add a line here).
 */
const KNOWN_GOOD: Record<string, { path: string; role: Role; input: unknown }> = {
  bot: { path: "bot.guildSettings", role: "bot", input: { guildId: GUILD_ID } },
  groups: { path: "groups.list", role: "staff", input: undefined },
  roles: { path: "roles.settings", role: "staff", input: undefined },
  roleMenus: { path: "roleMenus.list", role: "staff", input: {} },
  guilds: { path: "guilds.list", role: "admin", input: undefined },
  events: { path: "events.list", role: "staff", input: {} },
  notifications: { path: "notifications.webhooks", role: "admin", input: undefined },
  integrations: { path: "integrations.list", role: "staff", input: undefined },
  jobs: { path: "jobs.queues", role: "admin", input: undefined },
  members: { path: "members.comparison", role: "staff", input: { category: "linked" } },
  roster: { path: "roster.list", role: "staff", input: {} },
  session: { path: "session.me", role: "staff", input: undefined },
  tokens: { path: "tokens.list", role: "admin", input: undefined },
};

/** Cases for a role the procedure refuses outright (see `probe`). */
const REFUSED_CASES = 4;
/** FORBIDDEN answers that refuse the caller, not the input (errors.ts: NotStaff, NotAdmin, TokenScopeTooNarrow). */
const REFUSALS = [/not staff/i, /admin role/i, /API token cannot do that/i];

/** FUZZ_LOG=1 prints every case (input and answer). */
const LOG = process.env.FUZZ_LOG === "1";

/** Seed for every property (FUZZ_SEED reproduces a run); printed with every failure. */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

const call = (target: FuzzTarget, entry: { path: string; type: string }, role: Role, transport: Transport, input: unknown) => {
  const credentials = target.credentials[role];
  const type = entry.type as "query" | "mutation" | "subscription";
  if (transport === "ws") return callWs(target.server.url, credentials, entry.path, type, input);
  if (transport === "sse") return callSse(target.server.url, credentials, entry.path, input);
  return callHttp(target.server.url, credentials, entry.path, type === "mutation" ? "mutation" : "query", input);
};

const isServerError = (answer: Answer) =>
  answer.code === "INTERNAL_SERVER_ERROR" || (answer.status !== null && answer.status >= 500) || /^HTTP_5\d\d$/.test(answer.code ?? "");

const describeAnswer = (answer: Answer) =>
  answer.broken
    ? `broken: ${answer.broken}`
    : `${answer.status ?? "ws"} ${answer.code ?? "OK"}${answer.message ? ` ${show(answer.message)}` : ""}`;

/** A case's failure: what went wrong, with the answer, for the report. */
class CaseFailure extends Error {
  constructor(
    readonly problems: ReadonlyArray<string>,
    readonly answer: Answer,
  ) {
    super(`${problems.join("; ")} [answer: ${describeAnswer(answer)}]`);
  }
}

/** Tallies for the figures printed at the end. */
export class Figures {
  readonly startedAt = Date.now();
  procedures = 0;
  cases = 0;
  validInputs = 0;
  readonly byCode = new Map<string, number>();
  readonly failures: Array<string> = [];

  /** Successful answers per procedure: a procedure with none was only ever refused (the figures name them). */
  readonly successes = new Map<string, number>();

  record(answer: Answer, valid: boolean, path?: string): void {
    this.cases++;
    if (path !== undefined) this.successes.set(path, (this.successes.get(path) ?? 0) + (answer.code === null && !answer.broken ? 1 : 0));
    if (valid) this.validInputs++;
    const key = answer.broken ? "broken" : (answer.code ?? "OK");
    this.byCode.set(key, (this.byCode.get(key) ?? 0) + 1);
  }

  line(what: string): string {
    const codes = [...this.byCode.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} ${n}`)
      .join(", ");
    return (
      `fuzz ${what}: ${this.procedures} procedures covered, ${this.cases} cases (${this.validInputs} with valid input) ` +
      `in ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s; answers: ${codes}; ${this.failures.length} failing (procedure, role, transport); ` +
      `never answered OK: ${[...this.successes.entries()].flatMap(([path, n]) => (n === 0 ? [path] : [])).join(", ") || "none"}`
    );
  }
}

/** Whether an input passes the procedure's input schemas (for the figures: how many cases were valid). */
const decodes = (asts: ReadonlyArray<SchemaAST.AST>) => {
  const decoders = asts.map((ast) => Schema.decodeUnknownExit(Schema.make(ast) as Schema.Codec<unknown, unknown>));
  return (input: unknown) => decoders.every((decode) => decode(input)._tag === "Success");
};

/**
 * Registers the walk of `appRouter` as vitest tests in the calling file: one per procedure,
 * role and transport, `counts` cases each, against a server on PGlite or on Postgres.
 */
export const walkRouter = (options: { what: string; counts: CaseCounts; postgresUrl?: string }) => {
  const pools = new Pools();
  const entries = proceduresOf(appRouter as never, { pools });
  const figures = new Figures();
  let target: FuzzTarget;
  let escaped: EscapedErrors;
  /** A query per family that succeeded during the walk, for families without a KNOWN_GOOD call. */
  const goodSeen = new Map<string, { path: string; role: Role; input: unknown }>();

  beforeAll(async () => {
    escaped = new EscapedErrors();
    target = await startFuzzTarget({ postgresUrl: options.postgresUrl, pools });
  }, 120_000);

  afterAll(async () => {
    console.log(figures.line(options.what));
    escaped?.stop();
    await target?.close();
  }, 60_000);

  /** The checks after one case; returns the problems found (empty: all is well). */
  const checkAfter = async (before: OpenState, answer: Answer): Promise<Array<string>> => {
    const problems: Array<string> = [];
    if (answer.broken) problems.push(`the exchange broke: ${answer.broken}`);
    if (isServerError(answer)) problems.push(`answered a 5xx: ${describeAnswer(answer)}`);
    problems.push(...(await checkCase(target, before, answer.text, escaped)));
    return problems;
  };

  const runCase = async (entry: ProcedureEntry, role: Role, transport: Transport, input: unknown, valid: boolean) => {
    const before = await openState(target.invariants);
    const answer = await call(target, entry, role, transport, input);
    figures.record(answer, valid, entry.path);
    if (LOG)
      console.log(
        `${entry.path} ${role} ${transport} ${valid ? "valid" : "invalid"} ${show(input).slice(0, 300)} -> ${describeAnswer(answer)}`,
      );
    if (answer.code === null && !answer.broken) {
      pools.harvest(answer.data);
      if (entry.type === "query" && !goodSeen.has(entry.family)) goodSeen.set(entry.family, { path: entry.path, role, input });
    }
    const problems = await checkAfter(before, answer);
    if (problems.length > 0) throw new CaseFailure(problems, answer);
  };

  /**
   * Runs `probes` (valid inputs) as cases: `refused` when every answer refused the role itself;
   * `failure` describes the first probe that failed a check (the property runs all the same).
   */
  const probe = async (
    entry: ProcedureEntry,
    role: Role,
    transport: Transport,
    probes: ReadonlyArray<unknown>,
    isValid: (input: unknown) => boolean,
  ): Promise<{ refused: boolean; failure: string | null }> => {
    let refused = true;
    let failure: string | null = null;
    for (const input of probes) {
      const before = await openState(target.invariants);
      const answer = await call(target, entry, role, transport, input);
      figures.record(answer, isValid(input), entry.path);
      const problems = await checkAfter(before, answer);
      if (problems.length > 0 && failure === null) {
        failure = [
          `${entry.path} as ${role} over ${transport}: a valid probe input failed (seed ${SEED})`,
          `  input: ${show(input)}`,
          `  problems: ${problems.join("; ")}`,
        ].join("\n");
      }
      if (!(answer.code === "UNAUTHORIZED" || (answer.code === "FORBIDDEN" && REFUSALS.some((r) => r.test(answer.message ?? ""))))) {
        refused = false;
      }
    }
    return { refused, failure };
  };

  const knownGood = async (family: string): Promise<string | null> => {
    const good = KNOWN_GOOD[family] ?? goodSeen.get(family);
    if (!good) return `no known-good call for the ${family} family: add one to KNOWN_GOOD (apps/server/test/fuzz/walk.ts)`;
    const type = entries.find((e) => e.path === good.path)?.type ?? "query";
    const answer = await call(target, { path: good.path, type }, good.role, type === "subscription" ? "sse" : "http", good.input);
    return answer.code === null && !answer.broken ? null : `${good.path} as ${good.role} no longer works: ${describeAnswer(answer)}`;
  };

  describe(`router walk (${options.what})`, () => {
    it("covers every procedure of appRouter, each with a known type", () => {
      const paths = Object.keys(appRouter._def.procedures).sort();
      expect(entries.map((e) => e.path)).toEqual(paths);
      const unknown = entries.filter((e) => !(PROCEDURE_TYPES as ReadonlyArray<string>).includes(e.type));
      expect(unknown.map((e) => `${e.path}: ${e.type}`)).toEqual([]);
    });

    for (const entry of entries) {
      describe(entry.path, () => {
        it("has an input the harness can derive", () => {
          figures.procedures++;
          if (entry.input instanceof DerivationError) throw entry.input;
          expect(TRANSPORTS[entry.type], `procedure type ${entry.type} is not known to the harness`).toBeDefined();
        });

        for (const role of ROLES) {
          for (const transport of TRANSPORTS[entry.type] ?? ["http"]) {
            const runs = options.counts[transport];
            it(`as ${role} over ${transport} (${runs} cases)`, { timeout: 600_000 }, async () => {
              if (entry.input instanceof DerivationError) throw entry.input;
              if (!TRANSPORTS[entry.type]) throw new Error(`procedure type ${entry.type} is not known to the harness`);
              const valid = decodes(entry.asts);
              const isValid = (input: unknown) => entry.asts.length === 0 || valid(input);
              // A role refused before the input is read (no session, no bot key, not an admin) gets
              // a few cases, not all: no input can change that answer, and the time goes to the
              // roles that reach the procedure.
              const probed = await probe(entry, role, transport, fc.sample(entry.input.valid, { numRuns: 2, seed: SEED }), isValid);
              const details = await fc.check(
                fc.asyncProperty(inputOf(entry.input), (input) => runCase(entry, role, transport, input, isValid(input))),
                { numRuns: probed.refused ? Math.min(runs, REFUSED_CASES) : runs, seed: SEED, endOnFailure: false },
              );
              const failure = details.failed ? formatFailure(entry.path, role, transport, details) : null;
              if (failure) figures.failures.push(failure);
              const stale = await knownGood(entry.family);
              if (probed.failure && !failure) figures.failures.push(probed.failure);
              const report = [probed.failure, failure, stale && `later good input: ${stale}`].filter(Boolean).join("\n");
              if (report) throw new Error(report);
            });
          }
        }
      });
    }
  });
};

const formatFailure = (path: string, role: Role, transport: Transport, details: fc.RunDetails<[unknown]>): string => {
  const error = details.errorInstance;
  const shrunk = details.counterexample?.[0];
  return [
    `${path} as ${role} over ${transport}: failed after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s)`,
    `  seed ${details.seed}, path "${details.counterexamplePath}" (rerun: FUZZ_SEED=${details.seed})`,
    `  input: ${details.counterexample ? show(shrunk) : "(none)"}`,
    `  ${error instanceof CaseFailure ? `problems: ${error.problems.join("; ")}` : `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`}`,
    ...(error instanceof CaseFailure ? [`  answer: ${describeAnswer(error.answer)}`] : []),
  ].join("\n");
};
