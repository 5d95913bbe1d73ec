/**
 * The REST entry points besides the router (./endpoints.ts: the legacy member sync endpoint, and
 * the endpoints to come), fuzzed on raw sockets: headers and bodies derived from the endpoint's
 * schema with hostile values mixed in. After each case: no 5xx, nothing left open, the server
 * healthy, no error escaped; after the walk, a good request still succeeds.
 */
import { show } from "@guildhall/fuzz";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAfter, EscapedErrors, openState } from "./checks";
import { REST_ENDPOINTS, type RestRequest } from "./endpoints";
import { type FuzzTarget, startFuzzTarget } from "./target";
import { type RawAnswer, rawHttp } from "./transport";

/** Cases per endpoint. */
const CASES = 150;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const LOG = process.env.FUZZ_LOG === "1";

const describeRequest = (request: RestRequest) =>
  `${request.method} ${request.path} ${show(Object.fromEntries(request.headers.map(([n, v], i) => [`${i}:${n}`, v])))} body ${show(request.body.toString("utf8"))}`;

const describeAnswer = (answer: RawAnswer) =>
  answer.broken ? `broken: ${answer.broken}` : `${answer.status} ${show(answer.body.slice(0, 200))}`;

class CaseFailure extends Error {
  constructor(
    readonly problems: ReadonlyArray<string>,
    readonly answer: RawAnswer,
  ) {
    super(`${problems.join("; ")} [answer: ${describeAnswer(answer)}]`);
  }
}

describe("REST entry points under fuzz", () => {
  let target: FuzzTarget;
  let escaped: EscapedErrors;
  const startedAt = Date.now();
  let cases = 0;
  const statuses = new Map<string, number>();

  beforeAll(async () => {
    escaped = new EscapedErrors();
    target = await startFuzzTarget();
  }, 120_000);

  afterAll(async () => {
    const answers = [...statuses.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([status, n]) => `${status} ${n}`)
      .join(", ");
    console.log(
      `fuzz REST: ${REST_ENDPOINTS.length} endpoint(s), ${cases} cases in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; answers: ${answers}`,
    );
    escaped?.stop();
    await target?.close();
  }, 60_000);

  for (const endpoint of REST_ENDPOINTS) {
    it(`${endpoint.name}: ${CASES} cases, then a good request still succeeds`, { timeout: 600_000 }, async () => {
      const details = await fc.check(
        fc.asyncProperty(endpoint.requests(target), async (request) => {
          const before = await openState(target.invariants);
          const answer = await rawHttp(target.server.url, request);
          cases++;
          const key = answer.broken ? "broken" : String(answer.status);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (LOG) console.log(`${describeRequest(request)} -> ${describeAnswer(answer)}`);
          const problems: Array<string> = [];
          if (answer.broken) problems.push(`the exchange broke: ${answer.broken}`);
          if (answer.status !== null && answer.status >= 500) problems.push(`answered ${answer.status}`);
          problems.push(...(await checkAfter(target, before, answer.body, escaped)));
          if (problems.length > 0) throw new CaseFailure(problems, answer);
        }),
        { numRuns: CASES, seed: SEED },
      );
      const report: Array<string> = [];
      if (details.failed) {
        const error = details.errorInstance;
        report.push(
          `${endpoint.name}: failed after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s)`,
          `  seed ${details.seed}, path "${details.counterexamplePath}" (rerun: FUZZ_SEED=${details.seed})`,
          `  request: ${details.counterexample ? describeRequest(details.counterexample[0]) : "(none)"}`,
          `  ${error instanceof CaseFailure ? `problems: ${error.problems.join("; ")}` : `error: ${String(error)}`}`,
        );
      }
      const good = await rawHttp(target.server.url, endpoint.good(target));
      const goodOk =
        endpoint.goodStatus !== undefined
          ? good.status === endpoint.goodStatus
          : good.status !== null && good.status >= 200 && good.status < 300;
      if (!goodOk) report.push(`later good input: ${describeAnswer(good)}`);
      expect(report.join("\n")).toBe("");
    });
  }
});
