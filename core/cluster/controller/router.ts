/**
 * A ControllerChannel over several controllers: calls the one believed active, follows
 * NOT_CONTROLLER hints, and otherwise tries the next one, with a backoff between rounds,
 * until the call's deadline. Used by brokers (through the TCP RPC of core/cluster/net) and by
 * the simulator.
 */
import type { Clock } from '../../env/clock.js';
import { ControllerError, isControllerError } from './errors.js';
import type { ApiRequest, ApiResponse, ControllerApi, ControllerChannel } from './requests.js';

export interface ControllerRouterOptions {
  readonly controllers: readonly number[];
  readonly channel: (controllerId: number) => ControllerChannel;
  readonly clock: Clock;
  /** Give up after this long (REQUEST_TIMED_OUT). */
  readonly timeoutMs?: number;
  readonly retryBackoffMs?: number;
}

export class ControllerRouter implements ControllerChannel {
  private activeId: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;

  constructor(private readonly opts: ControllerRouterOptions) {
    if (opts.controllers.length === 0) throw new RangeError('no controllers given');
    this.activeId = opts.controllers[0]!;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.backoffMs = opts.retryBackoffMs ?? 100;
  }

  /** The controller this router currently sends to. */
  get target(): number {
    return this.activeId;
  }

  async call<A extends ControllerApi>(api: A, request: ApiRequest<A>): Promise<ApiResponse<A>> {
    const { clock, controllers } = this.opts;
    const deadline = clock.monotonic() + this.timeoutMs;
    let tried = 0;
    let last: unknown = null;
    while (clock.monotonic() < deadline) {
      try {
        return await this.opts.channel(this.activeId).call(api, request);
      } catch (err) {
        last = err;
        const redirect =
          isControllerError(err, 'NOT_CONTROLLER') && err.leaderId !== null && err.leaderId !== this.activeId;
        if (isControllerError(err) && !err.retriable) throw err;
        if (redirect) this.activeId = (err as ControllerError).leaderId!;
        else this.activeId = controllers[(controllers.indexOf(this.activeId) + 1) % controllers.length]!;
        if (!redirect && ++tried % controllers.length === 0) await clock.sleep(this.backoffMs);
      }
    }
    throw new ControllerError(
      'REQUEST_TIMED_OUT',
      `no active controller answered ${api} within ${this.timeoutMs} ms`,
      {
        cause: last,
      },
    );
  }
}
