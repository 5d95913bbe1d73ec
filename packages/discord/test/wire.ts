/**
 * A recording proxy in front of the emulator, for the port's tests: every request the port
 * sends passes through it on its way to the emulator, so a test can count the requests that
 * reached the emulator and read the headers they carried (X-Audit-Log-Reason). It can also
 * answer a request itself with a fault the emulator cannot produce yet (a 5xx, a 429 with
 * Discord's headers and body, an error code such as 50013, no answer at all); those requests
 * are recorded as `injected` and never reach the emulator. The emulator's own REST routes,
 * bodies and error codes answer everything else, unchanged.
 */
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request as it arrived. */
export interface WireRequest {
  readonly method: string;
  /** The path after `/api/v10`, without the query, e.g. `/guilds/123/members`. */
  readonly route: string;
  /** The query string without `?` ("" for none). */
  readonly query: string;
  /** The X-Audit-Log-Reason header as sent (URL-encoded), or null. */
  readonly auditLogReason: string | null;
  /** True when the wire answered with an injected fault; false when the emulator answered. */
  readonly injected: boolean;
}

/** An answer the wire gives instead of the emulator, to the next `times` requests matching `method` and `route`. */
export interface Fault {
  readonly method: string;
  readonly route: string;
  /** HTTP status; ignored with `hang`. */
  readonly status?: number;
  /** JSON body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Never answer (the client's timeout must end the call). */
  readonly hang?: boolean;
  /** How many matching requests get this answer (default 1). */
  readonly times?: number;
}

/** Discord's 429: `Retry-After` (s), `X-RateLimit-Scope`, `X-RateLimit-Global` when global, body `{message, retry_after, global}`. */
export const rateLimited = (retryAfterS: number, options: { global?: boolean } = {}): Pick<Fault, "status" | "body" | "headers"> => ({
  status: 429,
  body: { message: "You are being rate limited.", retry_after: retryAfterS, global: options.global ?? false },
  headers: {
    "retry-after": String(retryAfterS),
    "x-ratelimit-scope": options.global ? "global" : "user",
    ...(options.global ? { "x-ratelimit-global": "true" } : {}),
  },
});

/** Discord's JSON error body `{message, code}`. */
export const discordError = (status: number, code: number, message: string): Pick<Fault, "status" | "body"> => ({
  status,
  body: { message, code },
});

export class Wire {
  readonly requests: WireRequest[] = [];
  private readonly faults: Array<Fault & { left: number }> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  /** Starts a wire on a free loopback port in front of `target` (the emulator's base URL, e.g. `http://127.0.0.1:PORT`). */
  static async start(target: string): Promise<Wire> {
    let wire: Wire | undefined;
    const server = createServer((req, res) => wire?.handle(req, res));
    wire = new Wire(server, new URL(target));
    server.on("connection", (socket) => {
      wire?.sockets.add(socket);
      socket.once("close", () => wire?.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return wire;
  }

  /** The `api` option for the port: requests go through the wire. */
  get apiUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
  }

  /** Answers the next matching request(s) with `fault` instead of forwarding them. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** The requests for `method` and `route` (every request when both are omitted). */
  seen(method?: string, route?: string): WireRequest[] {
    return this.requests.filter((r) => (method === undefined || r.method === method) && (route === undefined || r.route === route));
  }

  /** Forgets recorded requests and unused faults. */
  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://wire");
    const route = url.pathname.replace(/^\/api\/v10/, "");
    const method = req.method ?? "GET";
    const reason = req.headers["x-audit-log-reason"];
    const fault = this.faults.find((f) => f.left > 0 && f.method === method && f.route === route);
    this.requests.push({
      method,
      route,
      query: url.search.replace(/^\?/, ""),
      auditLogReason: typeof reason === "string" ? reason : null,
      injected: fault !== undefined,
    });
    if (fault) {
      fault.left--;
      req.resume();
      if (fault.hang) return;
      const body = fault.body === undefined ? "" : JSON.stringify(fault.body);
      res.writeHead(fault.status ?? 500, {
        ...(body ? { "content-type": "application/json" } : {}),
        ...fault.headers,
      });
      res.end(body);
      return;
    }
    const upstream = forward(
      { host: this.target.hostname, port: this.target.port, method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => res.destroy(error));
    req.pipe(upstream);
  }
}
