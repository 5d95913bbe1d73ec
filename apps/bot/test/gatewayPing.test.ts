import type { GuildhallClient } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import type { RunningServer } from "@guildhall/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningBot, startBot } from "../src";
import { PingProbe } from "../src/gatewayPing";
import { startServerFor } from "./helpers";

describe("PingProbe: which heartbeat an ACK answers (ACKs come in send order)", () => {
  it("with no heartbeat of @discordjs/ws sent yet, the ACK answers the probe, timed from the probe", () => {
    const probe = new PingProbe();
    probe.sent(1_000);
    // @discordjs/ws reports latency from its lastHeartbeatAt, -1 before its first heartbeat.
    expect(probe.ack({ ackAt: 1_012, heartbeatAt: -1, latency: 1_013 })).toEqual({
      ack: { ackAt: 1_012, heartbeatAt: 1_000, latency: 12 },
      answeredProbe: true,
    });
    expect(probe.pending).toBe(false);
  });

  it("an unanswered heartbeat sent before the probe is answered first; the next ACK is the probe's", () => {
    const probe = new PingProbe();
    probe.sent(5_000);
    expect(probe.ack({ ackAt: 5_004, heartbeatAt: 4_990, latency: 14 })).toEqual({
      ack: { ackAt: 5_004, heartbeatAt: 4_990, latency: 14 },
      answeredProbe: false,
    });
    expect(probe.ack({ ackAt: 5_009, heartbeatAt: 4_990, latency: 19 })).toEqual({
      ack: { ackAt: 5_009, heartbeatAt: 5_000, latency: 9 },
      answeredProbe: true,
    });
  });

  it("a heartbeat already answered before the probe does not take the probe's ACK", () => {
    const probe = new PingProbe();
    expect(probe.ack({ ackAt: 3_010, heartbeatAt: 3_000, latency: 10 }).answeredProbe).toBe(false);
    probe.sent(7_000);
    expect(probe.ack({ ackAt: 7_020, heartbeatAt: 3_000, latency: 4_020 })).toEqual({
      ack: { ackAt: 7_020, heartbeatAt: 7_000, latency: 20 },
      answeredProbe: true,
    });
  });

  it("a heartbeat sent after the probe is answered after it, and reported as it was", () => {
    const probe = new PingProbe();
    probe.sent(9_000);
    expect(probe.ack({ ackAt: 9_015, heartbeatAt: 9_002, latency: 13 })).toMatchObject({ ack: { latency: 15 }, answeredProbe: true });
    expect(probe.ack({ ackAt: 9_017, heartbeatAt: 9_002, latency: 15 })).toEqual({
      ack: { ackAt: 9_017, heartbeatAt: 9_002, latency: 15 },
      answeredProbe: false,
    });
  });

  it("a new connection forgets a probe the old one never answered", () => {
    const probe = new PingProbe();
    probe.sent(1_000);
    probe.reset();
    expect(probe.pending).toBe(false);
    expect(probe.ack({ ackAt: 2_010, heartbeatAt: 2_000, latency: 10 }).answeredProbe).toBe(false);
  });
});

describe("the bot's ping, through the emulator", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  let staff: GuildhallClient;
  let bot: RunningBot | undefined;

  beforeAll(async () => {
    // A 10-minute heartbeat interval: @discordjs/ws's own first heartbeat (interval * jitter) almost
    // surely comes long after this test, so a ping known in seconds comes from the early heartbeat.
    emulator = await startEmulator({ heartbeatIntervalMs: 600_000 });
    guild = emulator.seedGuild({ seed: 8, members: 50, staff: 3, name: "Ping Test Guild" });
    ({ server, staff } = await startServerFor(guild));
  });

  afterAll(async () => {
    staff?.close();
    await bot?.close();
    await server?.close();
    await emulator?.close();
  });

  it("is reported as a number within a few seconds of READY, not after the first jittered heartbeat", async () => {
    bot = await startBot({
      token: emulator.token,
      apiUrl: emulator.apiUrl,
      cdnUrl: emulator.cdnUrl,
      serverUrl: server.url,
      botKey: server.botKey,
      // No periodic report inside the test: the ping must arrive with the report the measurement triggers.
      heartbeatMs: 600_000,
      log: () => {},
    });
    const shard = await vi.waitFor(
      async () => {
        const status = await staff.trpc.bot.status.query();
        const reported = status.shards.find((s) => s.shardId === 0);
        if (typeof reported?.pingMs !== "number") throw new Error(`no ping reported yet: ${JSON.stringify(status.shards)}`);
        return reported;
      },
      { timeout: 5_000, interval: 50 },
    );
    // A loopback round trip: a real latency, not an ACK timed from @discordjs/ws's "no heartbeat yet" (-1).
    expect(shard.pingMs).toBeGreaterThanOrEqual(0);
    expect(shard.pingMs).toBeLessThan(5_000);
    expect(bot.client.ws.ping).toBeGreaterThanOrEqual(0);
    expect(bot.client.ws.ping).toBeLessThan(5_000);
  });
});
