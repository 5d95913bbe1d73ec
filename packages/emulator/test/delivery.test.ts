import type { KeyObject } from "node:crypto";
import { createPublicKey, verify } from "node:crypto";
import type { IncomingHttpHeaders, Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GatewayIntentBits as I } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, SeededGuild } from "../src/index";
import { EmulatorControl, EmulatorControlError, startEmulator } from "../src/index";
import { RawGateway, responseValidator } from "./helpers";

/** SPKI DER prefix of an Ed25519 public key; the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The application's public key from its hex form, as an app would load DISCORD_PUBLIC_KEY. */
function publicKeyFromHex(hex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, "hex")]), format: "der", type: "spki" });
}

/** The file a multipart answer attaches. */
const ROSTER_CSV = "id,name\n1,ada\n";

type Mode = "verify" | "accept-all" | "fail-500" | "hang" | "invalid" | "defer-202" | "multipart";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the signature verified with node:crypto against the application's public key. */
  verified: boolean;
}

/** A tiny interactions endpoint: verifies signatures (in "verify" mode) and answers PING with PONG and commands per `mode`. */
class TestEndpoint {
  readonly received: Received[] = [];
  mode: Mode = "verify";
  private readonly server: Server;

  constructor(
    private readonly key: KeyObject,
    private readonly apiUrl: string,
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const signature = String(req.headers["x-signature-ed25519"] ?? "");
        const timestamp = String(req.headers["x-signature-timestamp"] ?? "");
        let verified = false;
        try {
          verified = verify(null, Buffer.from(timestamp + body), this.key, Buffer.from(signature, "hex"));
        } catch {
          verified = false;
        }
        this.received.push({ headers: req.headers, body, verified });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(value));
        };
        if (this.mode !== "accept-all" && !verified) return json(401, { error: "invalid request signature" });
        const interaction = JSON.parse(body) as { id: string; token: string; type: number };
        if (interaction.type === 1) return json(200, { type: 1 });
        switch (this.mode) {
          case "fail-500":
            return json(500, { error: "boom" });
          case "hang":
            return; // never answers
          case "invalid":
            return json(200, { type: 99 });
          case "defer-202":
            res.writeHead(202);
            res.end();
            void fetch(`${this.apiUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ type: 4, data: { content: "answered through the callback route" } }),
            });
            return;
          case "multipart": {
            // The answer with a file: multipart/form-data with payload_json (https://discord.com/developers/docs/reference#uploading-files).
            const form = new FormData();
            form.set(
              "payload_json",
              JSON.stringify({ type: 4, data: { content: "see attached", attachments: [{ id: 0, filename: "roster.csv" }] } }),
            );
            form.set("files[0]", new Blob([ROSTER_CSV], { type: "text/csv" }), "roster.csv");
            const encoded = new Response(form);
            void encoded.arrayBuffer().then((bytes) => {
              res.writeHead(200, { "content-type": encoded.headers.get("content-type") ?? "" });
              res.end(Buffer.from(bytes));
            });
            return;
          }
          default:
            return json(200, { type: 4, data: { content: "Pong over HTTP" } });
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/interactions`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let emulator: Emulator;
let guild: SeededGuild;
let endpoint: TestEndpoint;
let url: string;

async function registerPing(target: Emulator, guildId: string): Promise<void> {
  const res = await fetch(`${target.apiUrl}/v10/applications/${target.applicationId}/guilds/${guildId}/commands`, {
    method: "PUT",
    headers: { authorization: `Bot ${target.token}`, "content-type": "application/json" },
    body: JSON.stringify([{ name: "ping", description: "Ping", type: 1 }]),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  emulator = await startEmulator();
  guild = emulator.seedGuild({ seed: 41, members: 20, staff: 2 });
  await registerPing(emulator, guild.guildId);
  endpoint = new TestEndpoint(publicKeyFromHex(emulator.publicKey), emulator.apiUrl);
  url = await endpoint.start();
});
afterAll(async () => {
  await emulator.close();
  await endpoint.close();
});

describe("the interactions endpoint URL", () => {
  it("is validated when set: a verifying endpoint passes the PING and the bad-signature probes and is saved", async () => {
    endpoint.mode = "verify";
    const before = endpoint.received.length;
    const verdict = await emulator.setInteractionsEndpoint(url);
    expect(verdict).toMatchObject({ ok: true, url, endpointUrl: url, reasons: [] });
    expect(verdict.checks.map((c) => [c.ok, c.status])).toEqual([
      [true, 200],
      [true, 401],
      [true, 401],
      [true, 401],
    ]);
    const requests = endpoint.received.slice(before);
    expect(requests.map((r) => r.verified)).toEqual([true, false, false, false]);
    expect(requests.every((r) => JSON.parse(r.body).type === 1)).toBe(true);
    expect(requests[0]?.headers["user-agent"]).toMatch(/^Discord-Interactions/);
    const app = await (
      await fetch(`${emulator.apiUrl}/v10/applications/@me`, { headers: { authorization: `Bot ${emulator.token}` } })
    ).json();
    expect((app as { interactions_endpoint_url: string }).interactions_endpoint_url).toBe(url);
  });

  it("an endpoint that accepts everything fails the probes and is not saved", async () => {
    endpoint.mode = "accept-all";
    const verdict = await emulator.setInteractionsEndpoint(`${url}?lenient`);
    expect(verdict.ok).toBe(false);
    expect(verdict.endpointUrl).toBe(url);
    expect(verdict.reasons).toHaveLength(3);
    expect(verdict.reasons.join("\n")).toMatch(/another key refused with 401: answered 200/);
    expect(verdict.reasons.join("\n")).toMatch(/altered body/);
    expect(verdict.reasons.join("\n")).toMatch(/altered timestamp/);
    endpoint.mode = "verify";
  });

  it("delivers interactions signed (verified with node:crypto) instead of INTERACTION_CREATE; the HTTP answer is the response", async () => {
    endpoint.mode = "verify";
    const gw = await RawGateway.connect(emulator.gatewayUrl);
    try {
      await gw.identify(emulator.token, I.Guilds | I.GuildMembers);
      const before = endpoint.received.length;
      const id = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "ping");
      const record = await emulator.waitForInteraction(id, (r) => r.original !== null);
      expect(record.original?.content).toBe("Pong over HTTP");
      expect(record.acknowledged?.type).toBe(4);
      expect(record.delivery).toMatchObject({ via: "http", url, status: 200, error: null });
      const request = endpoint.received.slice(before).find((r) => JSON.parse(r.body).id === id)!;
      expect(request.verified).toBe(true);
      expect(request.headers["content-type"]).toBe("application/json");
      expect(Number(request.headers["x-signature-timestamp"])).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(JSON.parse(request.body)).toMatchObject({ type: 2, data: { name: "ping" }, guild_id: guild.guildId });
      // Frames arrive in order: once a later event is in, an INTERACTION_CREATE sent before it would be too.
      const joined = emulator.addMember(guild.guildId, {});
      await gw.dispatch("GUILD_MEMBER_ADD", (d) => d.user.id === joined.userId);
      expect(gw.dispatches("INTERACTION_CREATE")).toHaveLength(0);
    } finally {
      gw.close();
    }
  });

  it("202 with no body: the app answers through the callback route", async () => {
    endpoint.mode = "defer-202";
    const id = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "ping");
    const record = await emulator.waitForInteraction(id, (r) => r.original !== null);
    expect(record.original?.content).toBe("answered through the callback route");
    expect(record.delivery).toMatchObject({ via: "http", status: 202, error: null });
    endpoint.mode = "verify";
  });

  it("a multipart answer (payload_json and a file) becomes a response with the attachment", async () => {
    endpoint.mode = "multipart";
    const id = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "ping");
    const record = await emulator.waitForInteraction(
      id,
      (r) => r.original !== null || (r.delivery?.via === "http" && r.delivery.error !== null),
    );
    expect(record.original?.content).toBe("see attached");
    expect(record.original?.attachments).toMatchObject([{ filename: "roster.csv", size: Buffer.byteLength(ROSTER_CSV) }]);
    endpoint.mode = "verify";
  });

  it("a non-2xx answer or an invalid response makes the interaction fail; its callback is then 10062", async () => {
    endpoint.mode = "fail-500";
    const failed = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "ping");
    const record = await emulator.waitForInteraction(failed, (r) => r.delivery?.via === "http" && r.delivery.error !== null);
    expect(record.delivery).toMatchObject({ status: 500, error: "the endpoint answered 500" });
    expect(record.acknowledged).toBeNull();
    const state = endpoint.received.find((r) => JSON.parse(r.body).id === failed)!;
    const token = (JSON.parse(state.body) as { token: string }).token;
    const late = await fetch(`${emulator.apiUrl}/v10/interactions/${failed}/${token}/callback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: 4, data: { content: "too late" } }),
    });
    expect(late.status).toBe(404);
    expect(((await late.json()) as { code: number }).code).toBe(10062);

    endpoint.mode = "invalid";
    const invalid = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "ping");
    const bad = await emulator.waitForInteraction(invalid, (r) => r.delivery?.via === "http" && r.delivery.error !== null);
    expect(bad.delivery?.via === "http" && bad.delivery.error).toMatch(/not a valid interaction response: 50035/);
    endpoint.mode = "verify";
  });

  it("the probes again on demand: an endpoint that starts accepting bad signatures loses its URL; interactions go back to the gateway", async () => {
    const control = new EmulatorControl(emulator.url);
    endpoint.mode = "verify";
    expect((await control.validateInteractionsEndpoint()).ok).toBe(true);
    expect((await control.probeInteractionsEndpoint()).ok).toBe(true);
    endpoint.mode = "accept-all";
    const probed = await control.probeInteractionsEndpoint();
    expect(probed).toMatchObject({ ok: false, url, endpointUrl: null });
    expect(probed.checks).toHaveLength(3);
    endpoint.mode = "verify";
    const gw = await RawGateway.connect(emulator.gatewayUrl);
    try {
      await gw.identify(emulator.token, I.Guilds);
      const id = emulator.invokeCommand(guild.guildId, guild.admins[0]!, "ping");
      await gw.dispatch("INTERACTION_CREATE", (d) => d.id === id);
      expect(emulator.interaction(id).delivery).toEqual({ via: "gateway" });
    } finally {
      gw.close();
    }
    await expect(control.validateInteractionsEndpoint()).rejects.toBeInstanceOf(EmulatorControlError);
    expect((await control.setInteractionsEndpoint(url)).endpointUrl).toBe(url);
    expect((await control.setInteractionsEndpoint(null)).endpointUrl).toBeNull();
  });

  it("PATCH /applications/@me sets interactions_endpoint_url after the same checks (400 / 50035 when they fail)", async () => {
    const patch = (value: unknown) =>
      fetch(`${emulator.apiUrl}/v10/applications/@me`, {
        method: "PATCH",
        headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
        body: JSON.stringify({ interactions_endpoint_url: value }),
      });
    endpoint.mode = "accept-all";
    const refused = await patch(url);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 50035,
      errors: { interactions_endpoint_url: { _errors: [{ code: "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID" }] } },
    });
    endpoint.mode = "verify";
    const saved = await patch(url);
    expect(saved.status).toBe(200);
    const body = await saved.json();
    const validate = responseValidator("/applications/@me", "patch", 200);
    if (!validate(body)) throw new Error(JSON.stringify(validate.errors, null, 1));
    expect((body as { interactions_endpoint_url: string }).interactions_endpoint_url).toBe(url);
    expect((await (await patch(null)).json()) as object).toMatchObject({ interactions_endpoint_url: null });
  });
});

describe("the 3 s deadline", () => {
  it("an endpoint that does not answer within the response window fails the interaction", async () => {
    const quick = await startEmulator({ interactionResponseWindowMs: 300 });
    const slow = new TestEndpoint(publicKeyFromHex(quick.publicKey), quick.apiUrl);
    const slowUrl = await slow.start();
    try {
      const g = quick.seedGuild({ seed: 42, members: 10, staff: 1 });
      await registerPing(quick, g.guildId);
      expect((await quick.setInteractionsEndpoint(slowUrl)).ok).toBe(true);
      slow.mode = "hang";
      const id = quick.invokeCommand(g.guildId, g.admins[0]!, "ping");
      const record = await quick.waitForInteraction(id, (r) => r.delivery?.via === "http" && r.delivery.error !== null);
      expect(record.delivery).toMatchObject({ status: null, error: "no answer within 300 ms" });
      expect(record.acknowledged).toBeNull();
    } finally {
      await quick.close();
      await slow.close();
    }
  });
});
