/**
 * How the fuzz harness talks to the server: tRPC's own wire formats, spoken directly so that any
 * value can be sent (the typed client would refuse most of them).
 *
 * - `http`: queries as `GET /trpc/<path>?input=<JSON>`, mutations as `POST /trpc/<path>` with the
 *   JSON body (https://trpc.io/docs/rpc).
 * - `sse`: a subscription over HTTP (`GET`, answered as Server-Sent Events).
 * - `ws`: any procedure over a WebSocket of its own (tRPC's JSON-RPC messages, `connectionParams`
 *   first when the role has them), as the SPA does for subscriptions and the bot for everything.
 * - `rawHttp`: bytes on a TCP socket, for REST endpoints, with header values no HTTP client sends.
 *
 * A subscription is read for a bounded window: until it errs or stops, or until it has been quiet
 * for {@link QUIET_MS} since it started or since its last event. The window bounds what is
 * observed, it does not wait for anything to happen.
 *
 * Refusals that are not tRPC answers count as 4xx: a WebSocket closed with 1008 or 1009, a
 * connection closed while a large body was still being sent (codes `WS_CLOSE_1009`,
 * `CLOSED_ON_LARGE_BODY`). A crash hiding behind one is still caught: /healthz is asked after every case.
 */
import { connect } from "node:net";
import WebSocket from "ws";
import type { Credentials } from "./target";

export type Transport = "http" | "sse" | "ws";

/** How long a subscription may stay quiet before the harness closes it (ms). */
export const QUIET_MS = 150;
/** Longest wait for an answer (ms): a request unanswered by then is reported as hanging. */
export const ANSWER_TIMEOUT_MS = 20_000;

/** What the server answered to one call. */
export interface Answer {
  readonly transport: Transport;
  /** The HTTP status (http, sse), or null over WebSocket. */
  readonly status: number | null;
  /** The tRPC error code (`BAD_REQUEST`, `INTERNAL_SERVER_ERROR`, ...), or null on success. */
  readonly code: string | null;
  /** The error message, or null. */
  readonly message: string | null;
  /** The result (queries, mutations) or the events received (subscriptions). */
  readonly data: unknown;
  /** Everything received, as text: the ids an answer hands out are looked up in it. */
  readonly text: string;
  /** The exchange itself failed (no answer in time, the connection dropped), or null. */
  readonly broken: string | null;
}

interface ErrorShape {
  readonly message?: unknown;
  readonly data?: { readonly code?: unknown; readonly httpStatus?: unknown };
}

const codeOf = (error: ErrorShape | undefined): string | null => (typeof error?.data?.code === "string" ? error.data.code : null);
const messageOf = (error: ErrorShape | undefined): string | null => (typeof error?.message === "string" ? error.message : null);

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The query string of a GET call (no `input` when the input is undefined). */
const inputQuery = (input: unknown) => (input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`);

/** A query or mutation over HTTP. */
export const callHttp = async (
  url: string,
  credentials: Credentials,
  path: string,
  type: "query" | "mutation",
  input: unknown,
): Promise<Answer> => {
  const target = `${url}/trpc/${path}${type === "query" ? inputQuery(input) : ""}`;
  let response: Response;
  const sent = type === "mutation" && input !== undefined ? JSON.stringify(input) : undefined;
  try {
    response = await fetch(target, {
      method: type === "query" ? "GET" : "POST",
      headers: { ...credentials.headers, ...(type === "mutation" ? { "content-type": "application/json" } : {}) },
      body: sent,
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
  } catch (error) {
    const why =
      error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}` : String(error);
    // A server may refuse a body too large by closing the connection before reading it all (RFC 9110 15.5.14).
    if ((sent?.length ?? 0) > LARGE_BODY && !/timeout|aborted/i.test(why)) return refused("http", "CLOSED_ON_LARGE_BODY", why);
    return broken("http", `no answer: ${why}`);
  }
  const text = await response.text().catch(() => "");
  const body = parseJson(text) as { result?: { data?: unknown }; error?: ErrorShape } | undefined;
  return {
    transport: "http",
    status: response.status,
    code: body?.error ? (codeOf(body.error) ?? "UNKNOWN") : response.ok ? null : `HTTP_${response.status}`,
    message: body?.error ? messageOf(body.error) : response.ok ? null : text.slice(0, 200),
    data: body?.result?.data,
    text,
    broken: null,
  };
};

/** Bodies above this size (characters) may be refused by closing the connection. */
const LARGE_BODY = 256 * 1024;

/** A refusal without a tRPC answer (a connection closed on a large body, a WebSocket closed with 1008 or 1009): a 4xx. */
const refused = (transport: Transport, code: string, message: string): Answer => ({
  transport,
  status: null,
  code,
  message,
  data: undefined,
  text: "",
  broken: null,
});

const broken = (transport: Transport, why: string): Answer => ({
  transport,
  status: null,
  code: null,
  message: null,
  data: undefined,
  text: "",
  broken: why,
});

/** A subscription over HTTP (Server-Sent Events), read for the bounded window. */
export const callSse = async (url: string, credentials: Credentials, path: string, input: unknown): Promise<Answer> => {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), ANSWER_TIMEOUT_MS);
  try {
    const response = await fetch(`${url}/trpc/${path}${inputQuery(input)}`, {
      headers: { ...credentials.headers, accept: "text/event-stream" },
      signal: controller.signal,
    });
    if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
      const text = await response.text();
      const body = parseJson(text) as { error?: ErrorShape } | undefined;
      return {
        transport: "sse",
        status: response.status,
        code: body?.error ? (codeOf(body.error) ?? "UNKNOWN") : response.ok ? null : `HTTP_${response.status}`,
        message: body?.error ? messageOf(body.error) : null,
        data: undefined,
        text,
        broken: null,
      };
    }
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: Array<unknown> = [];
    let text = "";
    let buffer = "";
    let error: ErrorShape | undefined;
    let ended = false;
    while (!ended && error === undefined) {
      let quiet: ReturnType<typeof setTimeout> | undefined;
      const next = await Promise.race([
        reader.read(),
        new Promise<"quiet">((resolve) => {
          quiet = setTimeout(() => resolve("quiet"), QUIET_MS);
        }),
      ]);
      clearTimeout(quiet);
      if (next === "quiet" || next.done) break;
      text += next.value;
      buffer += next.value;
      // Events are separated by a blank line; each has `event:` and `data:` lines.
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? null;
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === "serialized-error") error = (parseJson(data ?? "") ?? {}) as ErrorShape;
        else if (event === "return") ended = true;
        else if (event === null && data !== undefined) events.push(parseJson(data));
      }
    }
    await reader.cancel().catch(() => {});
    return {
      transport: "sse",
      status: response.status,
      code: error ? (codeOf(error) ?? "UNKNOWN") : null,
      message: error ? messageOf(error) : null,
      data: events,
      text,
      broken: null,
    };
  } catch (error) {
    return broken("sse", `no answer: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
};

/** Any procedure over a WebSocket of its own; a subscription is read for the bounded window, then stopped. */
export const callWs = (
  url: string,
  credentials: Credentials,
  path: string,
  type: "query" | "mutation" | "subscription",
  input: unknown,
): Promise<Answer> =>
  new Promise<Answer>((resolve) => {
    const wsUrl = `${url.replace(/^http/, "ws")}/trpc${credentials.connectionParams ? "?connectionParams=1" : ""}`;
    const ws = new WebSocket(wsUrl, { headers: { ...credentials.headers } });
    const events: Array<unknown> = [];
    let text = "";
    let started = false;
    let settled = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = (answer: Omit<Answer, "transport" | "text" | "status">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(quiet);
      if (started && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id: 1, method: "subscription.stop" }));
      ws.close();
      resolve({ ...answer, transport: "ws", status: null, text });
    };
    const timeout = setTimeout(() => finish({ code: null, message: null, data: events, broken: "no answer in time" }), ANSWER_TIMEOUT_MS);
    const quietAgain = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => finish({ code: null, message: null, data: events, broken: null }), QUIET_MS);
    };
    ws.on("unexpected-response", (_req, res) => {
      finish({ code: `HTTP_${res.statusCode}`, message: `upgrade refused with ${res.statusCode}`, data: undefined, broken: null });
    });
    ws.on("error", (error) => finish({ code: null, message: null, data: events, broken: `socket error: ${error.message}` }));
    ws.on("close", (code, reason) =>
      // 1008 (policy violation) and 1009 (message too big) are the protocol's refusals, a 4xx (RFC 6455 7.4.1).
      code === 1008 || code === 1009
        ? finish({ code: `WS_CLOSE_${code}`, message: reason.toString(), data: events, broken: null })
        : finish({
            code: null,
            message: null,
            data: events,
            broken: `closed by the server (${code} ${reason.toString()}) before answering`,
          }),
    );
    ws.on("open", () => {
      if (credentials.connectionParams) ws.send(JSON.stringify({ method: "connectionParams", data: credentials.connectionParams }));
      ws.send(JSON.stringify({ id: 1, method: type, params: { path, input } }));
    });
    ws.on("message", (raw) => {
      const message = raw.toString();
      if (message === "PING") return void ws.send("PONG");
      text += message;
      const frame = parseJson(message) as
        | { id?: unknown; result?: { type?: string; data?: unknown }; error?: ErrorShape; method?: string }
        | undefined;
      if (frame?.method === "reconnect")
        return finish({ code: null, message: null, data: events, broken: "the server asked to reconnect" });
      if (frame?.id !== 1) return;
      if (frame.error)
        return finish({ code: codeOf(frame.error) ?? "UNKNOWN", message: messageOf(frame.error), data: events, broken: null });
      if (type !== "subscription") return finish({ code: null, message: null, data: frame.result?.data, broken: null });
      if (frame.result?.type === "started") started = true;
      else if (frame.result?.type === "stopped") return finish({ code: null, message: null, data: events, broken: null });
      else events.push(frame.result?.data);
      quietAgain();
    });
  });

/** A chunked transfer-encoded body, decoded (as far as it is well-formed). */
const dechunk = (raw: string): string => {
  let out = "";
  let at = 0;
  for (;;) {
    const end = raw.indexOf("\r\n", at);
    const size = end === -1 ? Number.NaN : Number.parseInt(raw.slice(at, end), 16);
    if (!Number.isFinite(size) || size <= 0) return out;
    out += raw.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
};

/** One raw HTTP/1.1 exchange: the status, and the body as text. */
export interface RawAnswer {
  readonly status: number | null;
  readonly body: string;
  readonly broken: string | null;
}

/**
 * Sends `method path` with exactly these header lines and body bytes on a new TCP connection
 * (`Connection: close` and, unless given, `Content-Length` are added), and reads the answer to
 * the end. Header values may hold anything a socket can carry (control characters, invalid
 * UTF-8), which no HTTP client would send.
 */
export const rawHttp = (
  url: string,
  request: { method: string; path: string; headers: ReadonlyArray<readonly [string, string]>; body: Buffer },
): Promise<RawAnswer> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Array<Buffer> = [];
    let done = false;
    const finish = (answer: RawAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ status: null, body: "", broken: "no answer in time" }), ANSWER_TIMEOUT_MS);
    const parse = (): RawAnswer => {
      const raw = Buffer.concat(chunks).toString("latin1");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1];
      const at = raw.indexOf("\r\n\r\n");
      let body = at === -1 ? "" : raw.slice(at + 4);
      if (/^transfer-encoding: *chunked/im.test(raw.slice(0, at))) body = dechunk(body);
      return status
        ? { status: Number(status), body: Buffer.from(body, "latin1").toString("utf8"), broken: null }
        : {
            status: null,
            body: raw.slice(0, 200),
            broken: chunks.length === 0 ? "connection closed without an answer" : "not an HTTP answer",
          };
    };
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => finish(parse()));
    socket.on("close", () => finish(parse()));
    socket.on("error", (error) => {
      if (chunks.length > 0) return finish(parse());
      // The server may close on a body too large before answering (see `callHttp`).
      if (request.body.length > LARGE_BODY)
        return finish({ status: null, body: `closed while sending a large body: ${error.message}`, broken: null });
      finish({ status: null, body: "", broken: `socket error: ${error.message}` });
    });
    socket.on("connect", () => {
      const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close"];
      const hasLength = request.headers.some(([name]) => name.toLowerCase() === "content-length");
      for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
      if (!hasLength) lines.push(`Content-Length: ${request.body.length}`);
      socket.write(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), request.body]));
      socket.end();
    });
  });
