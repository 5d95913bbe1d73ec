/**
 * Discord's interactions endpoint: `POST /api/interactions`. Every request is checked first,
 * before anything is answered (PING included), as Discord requires and probes with deliberately
 * bad signatures: `X-Signature-Ed25519` (hex, 64 bytes) must verify over `X-Signature-Timestamp`
 * (Unix seconds, within 5 minutes of now) + the raw body, against the application's Ed25519
 * public key (DISCORD_PUBLIC_KEY), with node:crypto's `verify`. Then PING is answered with PONG
 * and commands and components with the response of the same handler the bot runs for gateway
 * interactions (@guildhall/api/interactions), as the HTTP body.
 *
 * Statuses: 401 bad or missing signature headers, a stale or future timestamp, a signature that
 * does not verify; 400 a verified body that is not JSON or not an interaction (the field named);
 * 405 not POST; 413 beyond BODY_LIMITS.interactions; 404 when no public key is configured.
 * https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerFor, type DomainError, InteractionsNotConfigured, InvalidInput, InvalidSignature, MethodNotAllowed } from "@guildhall/api";
import { answerInteraction, type InteractionServices } from "@guildhall/api/interactions";
import { readBody, tooLarge } from "./http";

/** SPKI DER prefix of an Ed25519 public key; the raw 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** How far a request's timestamp may be from the server's clock (s): Discord's replay window, 5 minutes. */
export const SIGNATURE_WINDOW_S = 5 * 60;

/**
 * The Ed25519 public key object for `hex` (64 hex characters: the application's `verify_key`,
 * shown as "Public Key" in the developer portal). Throws TypeError for anything else.
 */
export const ed25519PublicKey = (hex: string): KeyObject => {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError("an Ed25519 public key is 64 hex characters");
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, "hex")]), format: "der", type: "spki" });
};

const header = (req: IncomingMessage, name: string): string | null => {
  const value = req.headers[name];
  return typeof value === "string" ? value : null;
};

/**
 * Checks the request's signature headers over `body` against `key`, `nowS` being the server's time
 * (Unix seconds). Returns null when they hold, else the InvalidSignature saying why.
 */
export const checkSignature = (req: IncomingMessage, body: Buffer, key: KeyObject, nowS: number): InvalidSignature | null => {
  const signature = header(req, "x-signature-ed25519");
  const timestamp = header(req, "x-signature-timestamp");
  if (signature === null || timestamp === null)
    return new InvalidSignature({ reason: "X-Signature-Ed25519 and X-Signature-Timestamp are required" });
  if (!/^[0-9a-fA-F]{128}$/.test(signature)) return new InvalidSignature({ reason: "X-Signature-Ed25519 must be 128 hex characters" });
  if (!/^\d{1,12}$/.test(timestamp)) return new InvalidSignature({ reason: "X-Signature-Timestamp must be Unix seconds" });
  if (Math.abs(nowS - Number(timestamp)) > SIGNATURE_WINDOW_S)
    return new InvalidSignature({ reason: "the timestamp is more than 5 minutes from now" });
  const ok = verify(null, Buffer.concat([Buffer.from(timestamp, "utf8"), body]), key, Buffer.from(signature, "hex"));
  return ok ? null : new InvalidSignature({ reason: "the signature does not verify" });
};

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
};

const refuse = (res: ServerResponse, error: DomainError, headers: Record<string, string> = {}) => {
  const { status, message } = answerFor(error);
  send(res, status, { error: message }, headers);
};

/** What the endpoint needs: the public key (null: the endpoint is off), the handlers' services, the body limit (bytes). */
export interface InteractionsEndpointDeps {
  readonly publicKey: KeyObject | null;
  readonly services: InteractionServices;
  readonly bodyLimit: number;
  /** The clock, in ms (tests); default Date.now. */
  readonly now?: () => number;
}

/** Handles one request to `POST /api/interactions` (see the module comment). Never rejects. */
export const handleInteractions = async (deps: InteractionsEndpointDeps, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  if (req.method !== "POST") {
    req.resume();
    return refuse(res, new MethodNotAllowed({ allowed: "POST" }), { allow: "POST", connection: "close" });
  }
  if (deps.publicKey === null) {
    req.resume();
    return refuse(res, new InteractionsNotConfigured(), { connection: "close" });
  }
  let body: Buffer | "too-large";
  try {
    body = await readBody(req, deps.bodyLimit);
  } catch {
    return void res.destroy();
  }
  if (body === "too-large") return refuse(res, tooLarge(deps.bodyLimit, "Interactions"), { connection: "close" });
  const refused = checkSignature(req, body, deps.publicKey, Math.floor((deps.now ?? Date.now)() / 1000));
  if (refused) return refuse(res, refused);
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch (error) {
    return refuse(
      res,
      new InvalidInput({ field: "body", message: `body: not valid JSON (${error instanceof Error ? error.message : String(error)})` }),
    );
  }
  try {
    send(res, 200, await answerInteraction(payload, deps.services));
  } catch (error) {
    if (error instanceof InvalidInput) return refuse(res, error);
    deps.services.log("Error", `interactions endpoint: ${error instanceof Error ? error.message : String(error)}`);
    if (!res.headersSent) send(res, 500, { error: "Internal error." });
  }
};
