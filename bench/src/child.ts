import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A child process running one of this folder's TypeScript entry points (through tsx). */
export interface Child<Ready> {
  readonly process: ChildProcess;
  readonly ready: Ready;
  /** Sends `message` and resolves with the child's next message. */
  readonly request: <A>(message: unknown) => Promise<A>;
  readonly stop: () => Promise<void>;
}

/**
 * Forks `entry` (a TypeScript file beside this one, run through tsx; or a built `.mjs`, run by
 * plain node) with `input` as JSON in GUILDHALL_BENCH_INPUT and waits for its first IPC
 * message (its "ready" answer). Rejects if it exits first.
 */
export const startChild = async <Ready>(entry: string, input: unknown): Promise<Child<Ready>> => {
  const child = fork(fileURLToPath(new URL(entry, import.meta.url)), [], {
    // BENCH_PROFILE=server-process (say) writes a V8 CPU profile of that child to /tmp.
    execArgv: [
      ...(entry.endsWith(".mjs") ? [] : ["--import", "tsx"]),
      ...(process.env.BENCH_PROFILE && entry.includes(process.env.BENCH_PROFILE) ? ["--cpu-prof", "--cpu-prof-dir=/tmp/gh-prof"] : []),
    ],
    env: { ...process.env, GUILDHALL_BENCH_INPUT: JSON.stringify(input) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <A>() =>
    new Promise<A>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${entry} exited with ${code}`));
      child.once("exit", onExit);
      child.once("message", (message) => {
        child.off("exit", onExit);
        resolve(message as A);
      });
    });
  const ready = await next<Ready>();
  return {
    process: child,
    ready,
    request: <A>(message: unknown) => {
      const answer = next<A>();
      child.send(message as never);
      return answer;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
};

/**
 * Reads the JSON input a parent passed to this child, and ties the child's life to the
 * parent's: when the IPC channel closes (the parent exited or crashed), the child exits too.
 */
export const childInput = <A>(): A => {
  process.once("disconnect", () => process.exit(0));
  return JSON.parse(process.env.GUILDHALL_BENCH_INPUT ?? "{}") as A;
};

/**
 * Event-loop delay of this process since the last call (ms): how long ready work waited.
 * Used to find which process a latency tail comes from.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
export const takeLoopDelay = (): { p99: number; max: number } => {
  const result = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  loopDelay.reset();
  return result;
};

/** Sends a message to the parent. */
export const tellParent = (message: unknown): void => {
  process.send?.(message);
};
