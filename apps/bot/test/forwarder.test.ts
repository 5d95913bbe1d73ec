import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCClientError } from "@trpc/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { printable } from "../src/deadLetter";
import { classifyFailure, type DeadLetter, Forwarder, type ForwarderOptions } from "../src/index";
import { spoolPath, takeSpool, writeSpool } from "../src/spool";

/** A tRPC error as the typed client raises it for an answer with `code` (e.g. BAD_REQUEST) and `httpStatus`. */
const answer = (code: string, httpStatus: number, message: string) =>
  new TRPCClientError(message, {
    result: { error: { code: -32600, message, data: { code, httpStatus, path: "bot.memberEvents" } } },
  } as never);

interface Item {
  readonly id: number;
  readonly text: string;
}

/**
 * A fake server: `decide` says how it answers a batch (undefined: it takes it). Records every
 * push, and the items it took, in the order taken.
 */
const fakeServer = (decide: (items: ReadonlyArray<Item>) => Error | undefined) => {
  const pushes: Array<ReadonlyArray<number>> = [];
  const taken: Array<number> = [];
  const push = async (items: ReadonlyArray<Item>) => {
    pushes.push(items.map((i) => i.id));
    const error = decide(items);
    if (error) throw error;
    taken.push(...items.map((i) => i.id));
  };
  return { push, pushes, taken };
};

const forwarderFor = (push: ForwarderOptions<Item>["push"], options: Partial<ForwarderOptions<Item>> = {}) => {
  const letters: Array<DeadLetter> = [];
  const errors: Array<string> = [];
  const forwarder = new Forwarder<Item>({
    kind: "test",
    push,
    keyOf: (item) => `g:${item.id}`,
    describe: (item) => `item ${item.id}`,
    flushMs: 0,
    retryBaseMs: 1,
    retryMaxMs: 4,
    onDeadLetter: (letter) => letters.push(letter),
    onError: (failure) => errors.push(failure.message),
    ...options,
  });
  return { forwarder, letters, errors };
};

const items = (n: number, from = 0): Array<Item> => Array.from({ length: n }, (_, i) => ({ id: from + i, text: `item ${from + i}` }));
const range = (n: number, from = 0) => items(n, from).map((i) => i.id);

describe("classifyFailure", () => {
  it("sorts answers and errors into transient, refused and server failures", () => {
    expect(classifyFailure(new Error("fetch failed"))).toMatchObject({ kind: "transient", code: null });
    expect(classifyFailure(new TRPCClientError("WebSocket closed"))).toMatchObject({ kind: "transient", code: null });
    for (const [code, status] of [
      ["SERVICE_UNAVAILABLE", 503],
      ["BAD_GATEWAY", 502],
      ["GATEWAY_TIMEOUT", 504],
      ["TOO_MANY_REQUESTS", 429],
      ["TIMEOUT", 408],
      ["UNAUTHORIZED", 401],
    ] as const) {
      expect(classifyFailure(answer(code, status, "x"))).toMatchObject({ kind: "transient", code });
    }
    for (const [code, status] of [
      ["BAD_REQUEST", 400],
      ["CONFLICT", 409],
      ["NOT_FOUND", 404],
      ["PAYLOAD_TOO_LARGE", 413],
      ["UNPROCESSABLE_CONTENT", 422],
    ] as const) {
      expect(classifyFailure(answer(code, status, "x"))).toMatchObject({ kind: "refused", code });
    }
    expect(classifyFailure(answer("INTERNAL_SERVER_ERROR", 500, "Internal error."))).toEqual({
      kind: "server",
      code: "INTERNAL_SERVER_ERROR",
      message: "Internal error.",
    });
  });

  it("keeps the message printable: a NUL the server echoed becomes \\u0000", () => {
    expect(classifyFailure(answer("BAD_REQUEST", 400, "nick: bad\u0000value")).message).toBe("nick: bad\\u0000value");
  });
});

describe("Forwarder: a refused item is isolated by bisection", () => {
  it("finds one poisoned item among 1,000, wherever it is, in at most 1 + ceil(log2 1000) + 2 pushes; 999 land in order", async () => {
    const all = items(1_000);
    const counts: Array<number> = [];
    for (let poison = 0; poison < all.length; poison++) {
      const server = fakeServer((batch) =>
        batch.some((i) => i.id === poison) ? answer("BAD_REQUEST", 400, `Invalid input: events.0.nick: item ${poison}`) : undefined,
      );
      const { forwarder, letters } = forwarderFor(server.push, { maxBatch: 1_000 });
      for (const item of all) forwarder.add(item);
      await forwarder.drain();
      expect(server.taken).toEqual(all.map((i) => i.id).filter((id) => id !== poison));
      expect(letters.map((l) => l.key)).toEqual([`g:${poison}`]);
      counts.push(server.pushes.length);
    }
    // The whole batch, 10 halvings, the item alone when it was only inferred, and the rest after it.
    expect(Math.max(...counts)).toBeLessThanOrEqual(1 + 10 + 2);
    expect(counts[0]).toBe(1 + 10 + 1); // every first half refused: the item was pushed alone; then the rest
    // Every first half landed: 9 halvings (the second halves are the smaller ones: 62, 31, 15, 7, 3, 1),
    // then the item alone, and nothing after it.
    expect(counts[999]).toBe(1 + 9 + 1);
  });

  it("pushes exactly these batches for a poisoned item among 8, and the rest as one batch", async () => {
    const server = fakeServer((batch) => (batch.some((i) => i.id === 2) ? answer("CONFLICT", 409, "no") : undefined));
    const { forwarder, letters } = forwarderFor(server.push);
    for (const item of items(8)) forwarder.add(item);
    await forwarder.drain();
    expect(server.pushes).toEqual([range(8), range(4), range(2), [2], range(5, 3)]);
    expect(server.taken).toEqual([0, 1, 3, 4, 5, 6, 7]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: "test", key: "g:2", summary: "item 2", code: "CONFLICT", error: "no", attempts: 1 });
  });

  it("isolates two poisoned items of one batch, and the items queued behind it land right after", async () => {
    const poisoned = new Set([10, 300]);
    const server = fakeServer((batch) => (batch.some((i) => poisoned.has(i.id)) ? answer("BAD_REQUEST", 400, "bad") : undefined));
    const { forwarder, letters } = forwarderFor(server.push, { maxBatch: 500 });
    for (const item of items(1_000)) forwarder.add(item);
    await forwarder.drain();
    expect(server.taken).toEqual(range(1_000).filter((id) => !poisoned.has(id)));
    expect(letters.map((l) => l.key)).toEqual(["g:10", "g:300"]);
    // Two isolations of at most 1 + 9 + 2 pushes in the first batch; the second batch in one push.
    expect(server.pushes.length).toBeLessThanOrEqual(2 * (1 + 9 + 2) + 1);
    expect(server.pushes.at(-1)).toEqual(range(500, 500));
  });

  it("records the dead letter: its kind, key, summary, the item as printable JSON, the server's code and message, the time", async () => {
    const before = Date.now();
    const server = fakeServer((batch) =>
      batch.some((i) => i.text.includes("\u0000")) ? answer("BAD_REQUEST", 400, "Invalid input: nick: must not contain NUL") : undefined,
    );
    const { forwarder, letters } = forwarderFor(server.push, { keepDeadLetters: 2 });
    forwarder.add({ id: 1, text: "fine" });
    forwarder.add({ id: 2, text: "evil\u0000status \ud800" });
    await forwarder.drain();
    expect(letters).toEqual([
      {
        kind: "test",
        key: "g:2",
        summary: "item 2",
        item: '{"id":2,"text":"evil\\u0000status \\ud800"}',
        code: "BAD_REQUEST",
        error: "Invalid input: nick: must not contain NUL",
        attempts: 1,
        at: expect.any(Number),
      },
    ]);
    expect(letters[0]!.at).toBeGreaterThanOrEqual(before);
    expect([...letters[0]!.item].every((c) => c >= " " && !(c >= "\ud800" && c <= "\udfff"))).toBe(true);
    // The list keeps the newest `keepDeadLetters` and counts them all.
    for (const id of [3, 4, 5]) forwarder.add({ id, text: `\u0000${id}` });
    await forwarder.drain();
    const summary = forwarder.deadLetters();
    expect(summary.total).toBe(4);
    expect(summary.byKind).toEqual({ test: 4 });
    expect(summary.recent.map((l) => l.key)).toEqual(["g:4", "g:5"]);
  });
});

describe("Forwarder: transient failures", () => {
  it("keep the batch whole and in order, retried with backoff, never split; later items queue behind it", async () => {
    let failuresLeft = 4;
    const server = fakeServer(() => {
      if (failuresLeft-- > 0) return failuresLeft % 2 ? new Error("fetch failed") : answer("SERVICE_UNAVAILABLE", 503, "starting");
      return undefined;
    });
    const { forwarder, letters, errors } = forwarderFor(server.push, { maxBatch: 100 });
    for (const item of items(50)) forwarder.add(item);
    // Queued while the first batch keeps failing: they must land after it, in order.
    await expect.poll(() => server.pushes.length).toBeGreaterThanOrEqual(1);
    for (const item of items(30, 50)) forwarder.add(item);
    await forwarder.drain();
    // The first five pushes (four failures, one success) all start at the failed batch's first
    // item and carry at least all of it: kept whole, with what queued behind it after it.
    expect(server.pushes[0]).toEqual(range(50));
    expect(server.pushes.slice(0, 5).every((p) => p[0] === 0 && p.length >= 50)).toBe(true);
    expect(server.taken).toEqual(range(80));
    expect(letters).toEqual([]);
    expect(errors).toHaveLength(4);
  });

  it("a 500 while the server is unhealthy is transient: nothing is dead-lettered, everything lands once it recovers", async () => {
    let healthy = false;
    const server = fakeServer(() => (healthy ? undefined : answer("INTERNAL_SERVER_ERROR", 500, "Internal error.")));
    const { forwarder, letters } = forwarderFor(server.push, { serverHealthy: async () => healthy });
    for (const item of items(20)) forwarder.add(item);
    await expect.poll(() => server.pushes.length).toBeGreaterThanOrEqual(5);
    expect(letters).toEqual([]);
    // No bisection while the server says it is unhealthy: every push carried the whole batch.
    expect(server.pushes.every((p) => p.length === 20)).toBe(true);
    healthy = true;
    await forwarder.drain();
    expect(server.taken).toEqual(range(20));
    expect(letters).toEqual([]);
  });

  it("a 500 that persists for one item alone while the server is healthy dead-letters it after 3 tries", async () => {
    const server = fakeServer((batch) =>
      batch.some((i) => i.id === 5) ? answer("INTERNAL_SERVER_ERROR", 500, "Internal error.") : undefined,
    );
    const { forwarder, letters } = forwarderFor(server.push, { serverHealthy: async () => true });
    for (const item of items(12)) forwarder.add(item);
    await forwarder.drain();
    expect(server.taken).toEqual(range(12).filter((id) => id !== 5));
    expect(letters).toMatchObject([{ key: "g:5", code: "INTERNAL_SERVER_ERROR", attempts: 3 }]);
    expect(server.pushes.filter((p) => p.length === 1 && p[0] === 5)).toHaveLength(3);
  });

  it("a 500 that goes away on retry is not dead-lettered", async () => {
    let flaky = 2;
    const server = fakeServer(() => (flaky-- > 0 ? answer("INTERNAL_SERVER_ERROR", 500, "Internal error.") : undefined));
    const { forwarder, letters } = forwarderFor(server.push, { serverHealthy: async () => true });
    forwarder.add({ id: 1, text: "only" });
    await forwarder.drain();
    expect(server.taken).toEqual([1]);
    expect(letters).toEqual([]);
  });

  it("a push that never settles is abandoned after pushTimeoutMs and retried", async () => {
    let calls = 0;
    const taken: Array<number> = [];
    const { forwarder, errors } = forwarderFor(
      (batch) => {
        calls++;
        if (calls === 1) return new Promise(() => {});
        taken.push(...batch.map((i) => i.id));
        return Promise.resolve();
      },
      { pushTimeoutMs: 50 },
    );
    for (const item of items(3)) forwarder.add(item);
    await forwarder.drain();
    expect(taken).toEqual([0, 1, 2]);
    expect(errors).toEqual(["the push timed out"]);
  });
});

describe("Forwarder.stop", () => {
  it("gives back, in order, what it could not deliver within the time given (the aborted batch first), then ignores new items", async () => {
    const signals: Array<AbortSignal> = [];
    const { forwarder } = forwarderFor(
      (_batch, signal) => {
        signals.push(signal);
        return new Promise(() => {}); // the server never answers
      },
      { maxBatch: 10 },
    );
    for (const item of items(25)) forwarder.add(item);
    await expect.poll(() => signals.length).toBe(1);
    const started = Date.now();
    const left = await forwarder.stop(300);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(left.map((i) => i.id)).toEqual(range(25));
    expect(signals[0]!.aborted).toBe(true);
    forwarder.add({ id: 99, text: "late" });
    expect(forwarder.pending).toBe(0);
  });

  it("returns nothing when everything was delivered within the time", async () => {
    const server = fakeServer(() => undefined);
    const { forwarder } = forwarderFor(server.push);
    for (const item of items(5)) forwarder.add(item);
    expect(await forwarder.stop(5_000)).toEqual([]);
    expect(server.taken).toEqual(range(5));
  });
});

describe("the spool", () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "guildhall-spool-")), "state");
  });
  afterEach(async () => {
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("is written as JSON lines readable by its owner only, and taken back in order, exactly, once", async () => {
    const entries = [
      { queue: "presence", item: { userId: "1", customStatus: "evil\u0000status\nsecond line" } },
      { queue: "memberEvent", item: { type: "remove", guildId: "2", userId: "3" } },
      { queue: "deadLetter", item: { kind: "presence", summary: "x" } },
    ];
    const path = await writeSpool(dir, entries);
    expect(path).toBe(spoolPath(dir));
    expect((await stat(spoolPath(dir))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const lines = (await readFile(spoolPath(dir), "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => JSON.parse(line))).toEqual(entries);

    expect(await takeSpool(dir)).toEqual({ entries, unreadable: 0 });
    await expect(stat(spoolPath(dir))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await takeSpool(dir)).toEqual({ entries: [], unreadable: 0 });
  });

  it("drops damaged lines (counted) and keeps the rest", async () => {
    await writeSpool(dir, [{ queue: "presence", item: 1 }]);
    await writeFile(spoolPath(dir), `${await readFile(spoolPath(dir), "utf8")}{"queue":\n[1,2]\n{"queue":"presence","item":2}\n`);
    expect(await takeSpool(dir)).toEqual({
      entries: [
        { queue: "presence", item: 1 },
        { queue: "presence", item: 2 },
      ],
      unreadable: 2,
    });
  });

  it("rejects when the spool cannot be written (the caller dead-letters instead)", async () => {
    const blocked = join(dir, "..", "a-file");
    await writeFile(blocked, "not a directory");
    await expect(writeSpool(join(blocked, "state"), [{ queue: "presence", item: 1 }])).rejects.toThrow();
  });
});

describe("printable", () => {
  it("escapes control characters and lone surrogates, keeps pairs, and cuts without splitting an escape", () => {
    expect(printable("a\u0000b\u001fc\u007f", 100)).toBe("a\\u0000b\\u001fc\\u007f");
    expect(printable("x\ud800y\udc00z", 100)).toBe("x\\ud800y\\udc00z");
    expect(printable("ok 😀", 100)).toBe("ok 😀");
    const cut = printable(`${"a".repeat(8)}\u0000`, 12);
    expect(cut).toBe("aaaaaaaa…");
  });
});
