/**
 * The broker's side of liveness: register with the active controller, then heartbeat every
 * broker.heartbeat.interval.ms, reporting the metadata offset applied so far. A new
 * registration starts fenced; the broker asks to stay fenced (wantFence) until its own metadata
 * holds its registration, and the controller unfences it after that. If the controller answers STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED
 * (say, after its session expired), the broker registers again. shutdown() is Kafka's
 * controlled shutdown: leaderships move away before the broker stops.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';
import type { Random } from '../../env/random.js';
import type { MetadataSource } from '../metadata/listener.js';
import { isControllerError } from './errors.js';
import type { BrokerHeartbeatRequest, ControllerChannel } from './requests.js';

export type BrokerState = 'registering' | 'fenced' | 'running' | 'shuttingDown' | 'stopped';

export interface BrokerLifecycleOptions {
  readonly brokerId: number;
  readonly host: string;
  readonly port: number;
  readonly rack?: string | null;
  readonly controller?: boolean;
  readonly channel: ControllerChannel;
  readonly metadata: MetadataSource;
  readonly clock: Clock;
  readonly random: Random;
  readonly heartbeatIntervalMs?: number;
  readonly onStateChange?: (state: BrokerState, brokerEpoch: number) => void;
}

export class BrokerLifecycle {
  private _state: BrokerState = 'registering';
  private epoch = -1;
  private timer: TimerHandle | null = null;
  private readonly incarnationId: string;
  private readonly intervalMs: number;
  private inFlight = false;

  constructor(private readonly opts: BrokerLifecycleOptions) {
    const b = new Uint8Array(16);
    opts.random.fill(b);
    this.incarnationId = Buffer.from(b).toString('base64url');
    this.intervalMs = opts.heartbeatIntervalMs ?? 2000;
  }

  get state(): BrokerState {
    return this._state;
  }

  get brokerEpoch(): number {
    return this.epoch;
  }

  start(): void {
    this.tick(0);
  }

  stop(): void {
    this.set('stopped');
    this.timer?.cancel();
    this.timer = null;
  }

  /**
   * Heartbeat now rather than at the next interval: the connection to a controller closed (the
   * active controller then gives this broker only broker.session.reconnect.grace.ms to come
   * back), or another controller leads (it starts a session for us). A call in flight retries
   * by itself (ControllerRouter).
   */
  nudge(): void {
    if (this.inFlight || this._state === 'stopped' || this._state === 'shuttingDown') return;
    if (this.timer === null && this._state === 'registering') return; // not started
    this.tick(0);
  }

  /** Controlled shutdown: resolves once the controller has moved leaderships away (or on timeout). */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    if (this._state === 'stopped') return;
    this.timer?.cancel();
    this.timer = null;
    this.set('shuttingDown');
    const deadline = this.opts.clock.monotonic() + timeoutMs;
    while (this.epoch >= 0 && this.opts.clock.monotonic() < deadline) {
      try {
        const r = await this.opts.channel.call('brokerHeartbeat', this.heartbeatRequest(true));
        if (r.shouldShutdown) break;
      } catch {
        await this.opts.clock.sleep(Math.min(this.intervalMs, 500));
      }
    }
    this.stop();
  }

  private set(state: BrokerState): void {
    if (this._state === state || this._state === 'stopped') return;
    this._state = state;
    this.opts.onStateChange?.(state, this.epoch);
  }

  private tick(delayMs: number): void {
    if (this._state === 'stopped' || this._state === 'shuttingDown') return;
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      void this.beat();
    }, delayMs);
  }

  private heartbeatRequest(wantShutdown: boolean): BrokerHeartbeatRequest {
    const image = this.opts.metadata.image();
    return {
      brokerId: this.opts.brokerId,
      brokerEpoch: this.epoch,
      metadataOffset: image.offset,
      // not caught up until this broker's metadata holds its own registration
      wantFence: image.brokers.get(this.opts.brokerId)?.epoch !== this.epoch,
      wantShutdown,
    };
  }

  private async beat(): Promise<void> {
    if (this.inFlight) return this.tick(this.intervalMs);
    this.inFlight = true;
    try {
      if (this._state === 'registering' || this.epoch < 0) {
        const r = await this.opts.channel.call('registerBroker', {
          brokerId: this.opts.brokerId,
          incarnationId: this.incarnationId,
          host: this.opts.host,
          port: this.opts.port,
          rack: this.opts.rack ?? null,
          controller: this.opts.controller ?? false,
        });
        this.epoch = r.brokerEpoch;
        this.set('fenced');
        this.tick(0);
        return;
      }
      const r = await this.opts.channel.call('brokerHeartbeat', this.heartbeatRequest(false));
      this.set(r.isFenced ? 'fenced' : 'running');
      // while fenced, check back sooner: unfencing waits for the metadata to catch up
      this.tick(r.isFenced ? Math.min(this.intervalMs, 250) : this.intervalMs);
    } catch (err) {
      if (
        isControllerError(err, 'STALE_BROKER_EPOCH') ||
        isControllerError(err, 'BROKER_ID_NOT_REGISTERED')
      ) {
        this.epoch = -1;
        this.set('registering');
      }
      this.tick(Math.min(this.intervalMs, 500));
    } finally {
      this.inFlight = false;
    }
  }
}
