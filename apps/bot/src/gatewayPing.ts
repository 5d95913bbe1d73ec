/**
 * The gateway ping, known moments after READY instead of after the first heartbeat.
 *
 * discord.js reports a shard's ping from heartbeat ACKs (op 11), and @discordjs/ws sends the first
 * heartbeat `heartbeat_interval * random()` after HELLO: up to ~41 s with no ping. Discord lets a
 * client heartbeat before the interval elapses ("You can send heartbeats before the
 * heartbeat_interval elapses, but you should avoid doing so unless necessary",
 * https://discord.com/developers/docs/events/gateway#sending-heartbeats), and answers every
 * heartbeat with an ACK. So on each connection, right after READY or RESUMED, this sends one
 * heartbeat (op 1) and times its ACK: the same measurement discord.js makes, made once, early.
 *
 * {@link EarlyPingShardingStrategy} is @discordjs/ws's SimpleShardingStrategy (every shard in this
 * process) rebuilt from that package's public parts (WebSocketShard, SimpleContextFetchingStrategy,
 * managerToFetchingStrategyOptions), handed to discord.js through its documented
 * `ws.buildStrategy` client option. No private field is read or patched.
 */
import { Collection } from "@discordjs/collection";
import {
  type IShardingStrategy,
  managerToFetchingStrategyOptions,
  SimpleContextFetchingStrategy,
  type WebSocketManager,
  WebSocketShard,
  type WebSocketShardDestroyOptions,
  WebSocketShardEvents,
  type WebSocketShardStatus,
} from "@discordjs/ws";
import { GatewayOpcodes, type GatewaySendPayload } from "discord-api-types/v10";

/** What @discordjs/ws reports for a heartbeat ACK (ms since the Unix epoch; latency in ms). */
export interface HeartbeatAck {
  readonly ackAt: number;
  readonly heartbeatAt: number;
  readonly latency: number;
}

/**
 * Attributes heartbeat ACKs on one connection to the probe or to @discordjs/ws's own heartbeats.
 * The gateway answers heartbeats in the order they were sent. @discordjs/ws reports every ACK as
 * answering its own latest heartbeat (`heartbeatAt`, -1 before the first), so an ACK answers the
 * probe unless one of its own heartbeats was sent before the probe and is still unanswered.
 */
export class PingProbe {
  /** When the unanswered probe was sent (ms since the Unix epoch), or null. */
  private probeAt: number | null = null;
  /** `heartbeatAt` of the last ACK that answered one of @discordjs/ws's own heartbeats. */
  private lastOwnAck = -1;

  /** A new connection (HELLO): no heartbeat of the old one will be answered. */
  reset(): void {
    this.probeAt = null;
    this.lastOwnAck = -1;
  }

  /** Records that the probe went out at `at` (ms since the Unix epoch). */
  sent(at: number): void {
    this.probeAt = at;
  }

  /** The probe did not go out after all: expect no ACK for it. */
  cancel(): void {
    this.probeAt = null;
  }

  /** True while a probe waits for its ACK. */
  get pending(): boolean {
    return this.probeAt !== null;
  }

  /**
   * The ACK as it should be reported: answering the probe, it is timed from the probe
   * (`heartbeatAt` = when the probe went out); answering a heartbeat of @discordjs/ws, unchanged.
   * `answeredProbe` tells which.
   */
  ack(event: HeartbeatAck): { readonly ack: HeartbeatAck; readonly answeredProbe: boolean } {
    const probeAt = this.probeAt;
    const ownHeartbeatUnanswered = event.heartbeatAt !== this.lastOwnAck && event.heartbeatAt < (probeAt ?? Number.POSITIVE_INFINITY);
    if (probeAt === null || ownHeartbeatUnanswered) {
      this.lastOwnAck = event.heartbeatAt;
      return { ack: event, answeredProbe: false };
    }
    this.probeAt = null;
    return { ack: { ackAt: event.ackAt, heartbeatAt: probeAt, latency: event.ackAt - probeAt }, answeredProbe: true };
  }
}

/** Options for {@link EarlyPingShardingStrategy}. */
export interface EarlyPingOptions {
  /** Called when a probe's ACK arrives, with the shard id and the round trip in ms. */
  readonly onPing?: (shardId: number, latencyMs: number) => void;
}

/**
 * @discordjs/ws's simple sharding strategy (all shards in this process) plus one early heartbeat
 * per connection; see the module comment. Pass it as discord.js's
 * `ws: { buildStrategy: (manager) => new EarlyPingShardingStrategy(manager) }`.
 */
export class EarlyPingShardingStrategy implements IShardingStrategy {
  private readonly shards = new Collection<number, WebSocketShard>();

  constructor(
    private readonly manager: WebSocketManager,
    private readonly options: EarlyPingOptions = {},
  ) {}

  /** {@inheritDoc IShardingStrategy.spawn} */
  async spawn(shardIds: number[]): Promise<void> {
    const fetching = await managerToFetchingStrategyOptions(this.manager);
    for (const shardId of shardIds) {
      const context = new SimpleContextFetchingStrategy(this.manager, fetching);
      const shard = new WebSocketShard(context, shardId);
      const probe = new PingProbe();
      this.relay(shard, shardId, probe);
      const sendProbe = async () => {
        // d: the last sequence number received, as in any heartbeat.
        const session = await context.retrieveSessionInfo(shardId);
        probe.sent(Date.now());
        await shard.send({ op: GatewayOpcodes.Heartbeat, d: session?.sequence ?? null });
      };
      const probeNow = () => {
        sendProbe().catch((error: unknown) => {
          probe.cancel();
          this.manager.emit(WebSocketShardEvents.Debug, {
            message: `early heartbeat not sent: ${error instanceof Error ? error.message : String(error)}`,
            shardId,
          });
        });
      };
      shard.on(WebSocketShardEvents.Ready, probeNow);
      shard.on(WebSocketShardEvents.Resumed, probeNow);
      this.shards.set(shardId, shard);
    }
  }

  /** Forwards every shard event to the manager, as SimpleShardingStrategy does, with ACKs attributed by `probe`. */
  private relay(shard: WebSocketShard, shardId: number, probe: PingProbe): void {
    const manager = this.manager;
    shard.on(WebSocketShardEvents.Closed, (payload) => manager.emit(WebSocketShardEvents.Closed, { ...payload, shardId }));
    shard.on(WebSocketShardEvents.Debug, (payload) => manager.emit(WebSocketShardEvents.Debug, { ...payload, shardId }));
    shard.on(WebSocketShardEvents.Dispatch, (payload) => manager.emit(WebSocketShardEvents.Dispatch, { ...payload, shardId }));
    shard.on(WebSocketShardEvents.Error, (payload) => manager.emit(WebSocketShardEvents.Error, { ...payload, shardId }));
    shard.on(WebSocketShardEvents.Hello, () => {
      probe.reset();
      manager.emit(WebSocketShardEvents.Hello, { shardId });
    });
    shard.on(WebSocketShardEvents.Ready, (payload) => manager.emit(WebSocketShardEvents.Ready, { ...payload, shardId }));
    shard.on(WebSocketShardEvents.Resumed, () => manager.emit(WebSocketShardEvents.Resumed, { shardId }));
    shard.on(WebSocketShardEvents.HeartbeatComplete, (payload) => {
      const { ack, answeredProbe } = probe.ack(payload);
      manager.emit(WebSocketShardEvents.HeartbeatComplete, { ...ack, shardId });
      if (answeredProbe) this.options.onPing?.(shardId, ack.latency);
    });
  }

  /** {@inheritDoc IShardingStrategy.connect} */
  async connect(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.connect()));
  }

  /** {@inheritDoc IShardingStrategy.destroy} */
  async destroy(options?: Omit<WebSocketShardDestroyOptions, "recover">): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.destroy(options)));
    this.shards.clear();
  }

  /** {@inheritDoc IShardingStrategy.send} Throws RangeError for a shard this strategy does not hold. */
  async send(shardId: number, payload: GatewaySendPayload): Promise<void> {
    const shard = this.shards.get(shardId);
    if (!shard) throw new RangeError(`Shard ${shardId} not found`);
    return shard.send(payload);
  }

  /** {@inheritDoc IShardingStrategy.fetchStatus} */
  async fetchStatus(): Promise<Collection<number, WebSocketShardStatus>> {
    return this.shards.mapValues((shard) => shard.status);
  }
}
