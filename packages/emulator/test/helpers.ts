/** Shared test helpers: a raw gateway client and the OpenAPI response validator. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type {
  APIChatInputApplicationCommandGuildInteraction,
  APIMessageComponentGuildInteraction,
  GatewayDispatchPayload,
} from "discord-api-types/v10";
import { InteractionType } from "discord-api-types/v10";
import WebSocket from "ws";

// ---------------------------------------------------------------------------------------------
// Raw gateway client

/** INTERACTION_CREATE as the emulator sends it: a guild slash command or a guild component interaction. */
export type GuildInteraction = APIChatInputApplicationCommandGuildInteraction | APIMessageComponentGuildInteraction;

/** Dispatch data (`d`) by event name (`t`), as discord-api-types describes it (interactions: {@link GuildInteraction}). */
export type DispatchData = Omit<{ [P in GatewayDispatchPayload as `${P["t"]}`]: P["d"] }, "INTERACTION_CREATE"> & {
  INTERACTION_CREATE: GuildInteraction;
};

/** Narrows an INTERACTION_CREATE payload to a slash command; throws for anything else. */
export function asCommand(d: GuildInteraction): APIChatInputApplicationCommandGuildInteraction {
  if (d.type !== InteractionType.ApplicationCommand) throw new Error(`expected a slash command interaction, got type ${d.type}`);
  return d;
}
/** A dispatch event name, e.g. "GUILD_CREATE". */
export type DispatchName = keyof DispatchData;

/** A gateway frame as received; `d` is whatever JSON the emulator sent until narrowed (see {@link RawGateway.dispatch}). */
export interface Frame<D = unknown> {
  op: number;
  d: D;
  s: number | null;
  t: string | null;
}

/** A bare `ws` client that records frames, for checking exact gateway behaviour. */
export class RawGateway {
  readonly frames: Frame[] = [];
  private waiters: Array<{ test: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => this.ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects to `${gatewayUrl}?v=10&encoding=json` and waits for HELLO. */
  static async connect(gatewayUrl: string): Promise<RawGateway> {
    const gw = new RawGateway(`${gatewayUrl}?v=10&encoding=json`);
    await gw.next((f) => f.op === 10);
    return gw;
  }

  send(op: number, d: unknown): void {
    this.ws.send(JSON.stringify({ op, d }));
  }

  /** The first recorded frame matching `test`, or the next one to arrive (rejects after `timeoutMs`). */
  next(test: (f: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a gateway frame")), timeoutMs);
      this.waiters.push({
        test,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Waits for dispatch `t` (optionally matching `test`); `d` is typed as discord-api-types has it. */
  async dispatch<T extends DispatchName>(
    t: T,
    test: (d: DispatchData[T]) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Frame<DispatchData[T]>> {
    const frame = await this.next((f) => f.op === 0 && f.t === t && test(f.d as DispatchData[T]), timeoutMs);
    return frame as Frame<DispatchData[T]>;
  }

  /** The dispatches `t` received so far, in order. */
  dispatches<T extends DispatchName>(t: T): Array<Frame<DispatchData[T]>> {
    return this.frames.filter((f) => f.op === 0 && f.t === t) as Array<Frame<DispatchData[T]>>;
  }

  /** Sends IDENTIFY and waits for READY. */
  async identify(token: string, intents: number, extra: Record<string, unknown> = {}): Promise<Frame<DispatchData["READY"]>> {
    this.send(2, { token, intents, properties: { os: "linux", browser: "test", device: "test" }, ...extra });
    return this.dispatch("READY");
  }

  close(): void {
    this.ws.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// OpenAPI validation

/**
 * Discord's OpenAPI spec, `shared/discord-api-spec/openapi.json` beside the repository (see DESIGN.md),
 * found by walking up from this file so it is found from a git worktree too.
 */
function specPath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, "shared", "discord-api-spec", "openapi.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error("shared/discord-api-spec/openapi.json not found above packages/emulator/test");
  }
}
const SPEC_ID = "https://discord.com/openapi.json";

/** A response of the spec: inline, or a `$ref` into components.responses. */
interface SpecResponse {
  $ref?: string;
  content?: { "application/json"?: { schema?: unknown } };
}

/** The parts of the OpenAPI document the validators read. */
interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, SpecResponse> }>>;
  components: { responses?: Record<string, SpecResponse> } & Record<string, unknown>;
}

let cached: { spec: OpenApi; ajv: Ajv2020 } | null = null;

function load(): { spec: OpenApi; ajv: Ajv2020 } {
  if (cached) return cached;
  const spec = JSON.parse(readFileSync(specPath(), "utf8")) as OpenApi;
  // OpenAPI 3.1 schemas are JSON Schema 2020-12 plus annotations (description, format values such as snowflake).
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
    addFormatsModule) as typeof addFormatsModule;
  addFormats(ajv);
  ajv.addFormat("snowflake", /^(0|[1-9][0-9]*)$/);
  // The whole components section under one $id so every "#/components/schemas/..." resolves.
  ajv.addSchema({ $id: SPEC_ID, components: spec.components });
  cached = { spec, ajv };
  return cached;
}

const validators = new Map<string, ValidateFunction>();

/**
 * The validator for the JSON body Discord's spec declares for `method path` answering `status`
 * (falling back to the 4XX response), e.g. responseValidator("/guilds/{guild_id}", "get", 200).
 */
export function responseValidator(path: string, method: string, status: number): ValidateFunction {
  const key = `${method} ${path} ${status}`;
  const existing = validators.get(key);
  if (existing) return existing;
  const { spec, ajv } = load();
  const operation = spec.paths[path]?.[method];
  if (!operation) throw new Error(`the spec has no ${method} ${path}`);
  let response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
  if (!response) throw new Error(`the spec has no ${status} response for ${method} ${path}`);
  if (typeof response.$ref === "string") response = spec.components.responses?.[response.$ref.split("/").pop() as string];
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`no JSON schema for ${status} ${method} ${path}`);
  const validate = ajv.compile({ $id: `${SPEC_ID}/${encodeURIComponent(key)}`, ...(rebase(schema) as Record<string, unknown>) });
  validators.set(key, validate);
  return validate;
}

/** The schema of a component, e.g. "ErrorResponse". */
export function componentValidator(name: string): ValidateFunction {
  const key = `component ${name}`;
  const existing = validators.get(key);
  if (existing) return existing;
  const validate = load().ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/${name}` });
  validators.set(key, validate);
  return validate;
}

/** Points local "#/components/..." refs of an inline schema at the registered spec document. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema))
    out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${SPEC_ID}${v}` : rebase(v);
  return out;
}

/** The rate limit headers every spec'd response declares. */
export const RATE_LIMIT_HEADERS = [
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "x-ratelimit-reset-after",
  "x-ratelimit-bucket",
];

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A copy of a Discord error body whose inner `_errors[].code` strings ("BASE_TYPE_REQUIRED", ...) are 0:
 * the spec types them as integers while Discord sends strings
 * (https://discord.com/developers/docs/reference#error-messages), so 50035 bodies are validated this way.
 */
export function withNumericInnerCodes(body: unknown): unknown {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== "object" || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] =
        key === "_errors" && Array.isArray(value)
          ? value.map((e: Record<string, unknown>) => ({ ...e, code: typeof e.code === "string" ? 0 : e.code }))
          : walk(value);
    }
    return out;
  };
  return walk(body);
}
