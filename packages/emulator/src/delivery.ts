/**
 * Interactions over HTTP: when the application has an interactions endpoint URL, interactions are
 * POSTed to it instead of INTERACTION_CREATE, signed with the application's Ed25519 key
 * (`X-Signature-Ed25519`: hex signature of `X-Signature-Timestamp` + the raw body; the timestamp in Unix
 * seconds). The endpoint's answer is the interaction's first response (JSON, or multipart with
 * `payload_json`); 202 with no body means the app answers through the callback route instead. A non-2xx
 * answer, no answer within the response window (3 s), or an answer that is not a valid response makes
 * the interaction fail.
 *
 * Setting the URL validates it as Discord does: a signed PING must be answered 200 with `{"type": 1}`
 * (PONG) and JSON content type, and requests with invalid signatures must be refused with 401. The same
 * bad-signature probes run again on demand (Discord's routine security checks), and an endpoint that
 * accepts one loses its URL.
 * https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint
 */
import type { KeyObject } from "node:crypto";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { InteractionType } from "discord-api-types/v10";
import { DiscordHttpError } from "./discorderrors";
import { EmulatorError } from "./errors";
import type { EndpointCheck, EndpointVerdict, InteractionDelivery } from "./integrationtypes";
import { checkHttpUrl } from "./oauth2";
import { newSnowflake } from "./snowflake";

/** What delivery needs from the emulator. */
export interface DeliveryContext {
  readonly applicationId: string;
  /** The application's Ed25519 private key (Application.signingKey). */
  readonly signingKey: KeyObject;
  /** How long the endpoint has to answer, in ms (Discord: 3 s, the interaction response window). */
  readonly responseWindowMs: number;
  /** http://127.0.0.1:PORT/cdn, for the attachments of a multipart answer. */
  readonly cdnUrl: string;
  /** Applies the endpoint's answer as the interaction's first callback; throws DiscordHttpError for an invalid one. */
  respond(interactionId: string, token: string, body: unknown, files: unknown[]): void;
  /** Marks an interaction failed: later callbacks get 404 / 10062. */
  fail(interactionId: string): void;
  log(line: string): void;
}

/** The interaction fields delivery reads. */
interface InteractionPayload {
  id: string;
  token: string;
}

/** A fetched answer: status, content type, and the body read within the deadline. */
interface Answer {
  status: number;
  contentType: string;
  text: string;
  form: FormData | null;
}

const USER_AGENT = "Discord-Interactions/1.0 (+https://discord.com)";
/** How many delivery outcomes are kept for inspection. */
const MAX_KEPT = 10_000;

/** The signature headers for `body` signed with `key` at `timestamp` (Unix seconds). */
function signatureHeaders(key: KeyObject, timestamp: string, body: string): Record<string, string> {
  return {
    "x-signature-ed25519": sign(null, Buffer.from(timestamp + body), key).toString("hex"),
    "x-signature-timestamp": timestamp,
  };
}

/** The application's interactions endpoint and the deliveries made to it. One per emulator. */
export class InteractionEndpoint {
  private url: string | null = null;
  private readonly outcomes = new Map<string, InteractionDelivery & { via: "http" }>();
  /** A key that is not the application's, for the wrong-key probe. */
  private readonly strangerKey = generateKeyPairSync("ed25519").privateKey;

  constructor(private readonly ctx: DeliveryContext) {}

  /** The interactions endpoint URL, or null (interactions go over the gateway). */
  get endpointUrl(): string | null {
    return this.url;
  }

  /**
   * Sets the interactions endpoint URL after validating it (see the module comment); a URL that fails
   * is not saved, as Discord's portal refuses it. `null` removes it (no checks). Resolves to the verdict.
   * Throws EmulatorError 400 for a URL that is not absolute http(s).
   */
  async set(url: string | null): Promise<EndpointVerdict> {
    if (url === null) {
      this.url = null;
      this.ctx.log("interactions endpoint removed: interactions go over the gateway");
      return { url: null, ok: true, reasons: [], checks: [], endpointUrl: null };
    }
    const checked = checkHttpUrl(url, "url");
    const checks = await this.run(checked, true);
    const ok = checks.every((c) => c.ok);
    if (ok) this.url = checked;
    this.ctx.log(`interactions endpoint ${checked} ${ok ? "validated and saved" : "refused"}`);
    return verdict(checked, checks, this.url);
  }

  /** Runs the PING and bad-signature checks on the current URL without changing it. Throws EmulatorError 409 when none is set. */
  async validate(): Promise<EndpointVerdict> {
    const url = this.require();
    return verdict(url, await this.run(url, true), this.url);
  }

  /**
   * Discord's routine security check: the bad-signature probes only. An endpoint that does not refuse
   * one with 401 loses its URL (interactions go over the gateway again). Throws EmulatorError 409 when none is set.
   */
  async probe(): Promise<EndpointVerdict> {
    const url = this.require();
    const checks = await this.run(url, false);
    if (!checks.every((c) => c.ok) && this.url === url) {
      this.url = null;
      this.ctx.log(`interactions endpoint ${url} accepted an invalid signature: removed`);
    }
    return verdict(url, checks, this.url);
  }

  private require(): string {
    if (this.url === null) throw new EmulatorError(409, "the application has no interactions endpoint URL");
    return this.url;
  }

  private async run(url: string, withPing: boolean): Promise<EndpointCheck[]> {
    const checks: EndpointCheck[] = [];
    const now = () => String(Math.floor(Date.now() / 1000));
    if (withPing) {
      const body = JSON.stringify(this.ping());
      const ts = now();
      checks.push(
        await this.check(
          "PING with a valid signature answered 200 with PONG",
          url,
          body,
          signatureHeaders(this.ctx.signingKey, ts, body),
          (a) => {
            if (a.status !== 200) return `answered ${a.status}, not 200`;
            if (!a.contentType.toLowerCase().startsWith("application/json"))
              return `Content-Type is ${a.contentType || "missing"}, not application/json`;
            let parsed: unknown;
            try {
              parsed = JSON.parse(a.text);
            } catch {
              return "the body is not JSON";
            }
            return typeof parsed === "object" && parsed !== null && (parsed as { type?: unknown }).type === 1
              ? null
              : `answered ${a.text.slice(0, 200)}, not {"type": 1}`;
          },
        ),
      );
    }
    const refused = (a: Answer) => (a.status === 401 ? null : `answered ${a.status}, not 401`);
    const stranger = JSON.stringify(this.ping());
    const ts1 = now();
    checks.push(
      await this.check(
        "signature from another key refused with 401",
        url,
        stranger,
        signatureHeaders(this.strangerKey, ts1, stranger),
        refused,
      ),
    );
    const signed = JSON.stringify(this.ping());
    const altered = JSON.stringify(this.ping());
    const ts2 = now();
    checks.push(
      await this.check("altered body refused with 401", url, altered, signatureHeaders(this.ctx.signingKey, ts2, signed), refused),
    );
    const body3 = JSON.stringify(this.ping());
    const ts3 = now();
    const headers3 = { ...signatureHeaders(this.ctx.signingKey, ts3, body3), "x-signature-timestamp": String(Number(ts3) - 1) };
    checks.push(await this.check("altered timestamp refused with 401", url, body3, headers3, refused));
    return checks;
  }

  private async check(
    name: string,
    url: string,
    body: string,
    headers: Record<string, string>,
    judge: (answer: Answer) => string | null,
  ): Promise<EndpointCheck> {
    const answer = await this.post(url, body, headers);
    if ("error" in answer) return { name, ok: false, status: null, reason: answer.error };
    const reason = judge(answer);
    return { name, ok: reason === null, status: answer.status, reason };
  }

  /** A PING interaction (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object). */
  private ping(): Record<string, unknown> {
    return {
      app_permissions: "0",
      application_id: this.ctx.applicationId,
      entitlements: [],
      id: newSnowflake(),
      token: `aW50ZXJhY3Rpb246${randomBytes(48).toString("base64url")}`,
      type: InteractionType.Ping,
      version: 1,
    };
  }

  private async post(url: string, body: string, headers: Record<string, string>): Promise<Answer | { error: string }> {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": USER_AGENT, ...headers },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.ctx.responseWindowMs),
      });
      const contentType = res.headers.get("content-type") ?? "";
      if (res.ok && contentType.toLowerCase().startsWith("multipart/form-data")) {
        return { status: res.status, contentType, text: "", form: await res.formData() };
      }
      return { status: res.status, contentType, text: await res.text(), form: null };
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      if (name === "TimeoutError" || name === "AbortError") return { error: `no answer within ${this.ctx.responseWindowMs} ms` };
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
      return { error: `the request failed${cause || (err instanceof Error ? `: ${err.message}` : "")}` };
    }
  }

  /**
   * Delivers an interaction (the INTERACTION_CREATE payload) to the endpoint and applies its answer;
   * the outcome is kept for {@link outcome}. Returns at once; the delivery runs in the background.
   */
  deliver(payload: InteractionPayload): void {
    const url = this.url;
    if (url === null) throw new Error("deliver() without an interactions endpoint URL");
    if (this.outcomes.size >= MAX_KEPT) this.outcomes.delete(this.outcomes.keys().next().value as string);
    const record: InteractionDelivery & { via: "http" } = { via: "http", url, status: null, error: null, durationMs: null };
    this.outcomes.set(payload.id, record);
    void this.run1(url, payload, record);
  }

  private async run1(url: string, payload: InteractionPayload, record: InteractionDelivery & { via: "http" }): Promise<void> {
    const started = performance.now();
    const body = JSON.stringify(payload);
    const answer = await this.post(url, body, signatureHeaders(this.ctx.signingKey, String(Math.floor(Date.now() / 1000)), body));
    record.durationMs = Math.round(performance.now() - started);
    const failWith = (why: string) => {
      record.error = why;
      this.ctx.fail(payload.id);
      this.ctx.log(`interaction ${payload.id}: delivery to ${url} failed: ${why}`);
    };
    if ("error" in answer) return failWith(answer.error);
    record.status = answer.status;
    if (answer.status < 200 || answer.status > 299) return failWith(`the endpoint answered ${answer.status}`);
    let json: unknown;
    let files: unknown[] = [];
    if (answer.form) {
      const payloadJson = answer.form.get("payload_json");
      if (typeof payloadJson !== "string") return failWith("the multipart answer has no payload_json");
      json = parseJson(payloadJson);
      files = this.attachments(answer.form);
    } else if (answer.text.trim() === "") {
      if (answer.status === 202) return; // the app answers through POST /interactions/{id}/{token}/callback
      return failWith(`the endpoint answered ${answer.status} with no body`);
    } else json = parseJson(answer.text);
    if (json === undefined) return failWith("the answer is not JSON");
    try {
      this.ctx.respond(payload.id, payload.token, json, files);
    } catch (err) {
      if (err instanceof DiscordHttpError) {
        const detail = err.errors ? ` ${JSON.stringify(err.errors)}` : "";
        return failWith(`the answer is not a valid interaction response: ${err.code} ${err.message}${detail}`);
      }
      return failWith(`the answer could not be applied: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private attachments(form: FormData): unknown[] {
    const out: unknown[] = [];
    form.forEach((value) => {
      if (typeof value === "string") return;
      const id = newSnowflake();
      const url = `${this.ctx.cdnUrl}/attachments/${id}/${encodeURIComponent(value.name)}`;
      out.push({ id, filename: value.name, size: value.size, url, proxy_url: url, content_type: value.type || "application/octet-stream" });
    });
    return out;
  }

  /** How an interaction was delivered over HTTP (status, error, duration), or null when it went over the gateway. */
  outcome(interactionId: string): (InteractionDelivery & { via: "http" }) | null {
    const record = this.outcomes.get(interactionId);
    return record ? { ...record } : null;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function verdict(url: string, checks: EndpointCheck[], endpointUrl: string | null): EndpointVerdict {
  const reasons = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.reason ?? "failed"}`);
  return { url, ok: reasons.length === 0, reasons, checks, endpointUrl };
}
