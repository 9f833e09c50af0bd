/**
 * A ControllerChannel over several controllers: calls the one believed active (the leader this
 * node's Raft follows, when `leaderHint` tells) and, when that fails, re-resolves the active controller at once — the failed controller's NOT_CONTROLLER
 * hint, else this node's own Raft view of the leader (`leaderHint`), else the next controller —
 * with a backoff after every round of failures, until the call's deadline. Each attempt is
 * bounded (`attemptTimeoutMs`): a controller that stops answering (a deposed leader whose
 * proposal waits for an outcome, a dead connection that has not closed yet) does not hold the
 * call for the whole timeout. Used by brokers (through the TCP RPC of core/cluster/net) and by
 * the simulator.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';
import { ControllerError, isControllerError } from './errors.js';
import type { ApiRequest, ApiResponse, CallOptions, ControllerApi, ControllerChannel } from './requests.js';

export interface ControllerRouterOptions {
  readonly controllers: readonly number[];
  readonly channel: (controllerId: number) => ControllerChannel;
  readonly clock: Clock;
  /** Give up after this long (REQUEST_TIMED_OUT). Default 30000. */
  readonly timeoutMs?: number;
  /** Pause after each round of failed attempts (one per controller). Default 100. */
  readonly retryBackoffMs?: number;
  /** Give up on one controller after this long and try the next. Default 5000. */
  readonly attemptTimeoutMs?: number;
  /** The controller this node's Raft state says leads (null: unknown); asked when a controller fails without a hint. */
  readonly leaderHint?: () => number | null;
  /**
   * Bound of one brokerHeartbeat attempt (the heartbeat interval: a heartbeat is idempotent, so
   * giving up on a silent controller early and re-sending costs nothing). Other calls keep
   * attemptTimeoutMs: re-sending a createTopics whose first attempt did commit answers "already
   * exists". Default: attemptTimeoutMs.
   */
  readonly heartbeatAttemptTimeoutMs?: number;
}

/** How often an attempt checks whether this node's Raft has learnt of another leader. */
const LEADER_POLL_MS = 100;

export class ControllerRouter implements ControllerChannel {
  private activeId: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly attemptTimeoutMs: number;

  constructor(private readonly opts: ControllerRouterOptions) {
    if (opts.controllers.length === 0) throw new RangeError('no controllers given');
    this.activeId = opts.controllers[0]!;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.backoffMs = opts.retryBackoffMs ?? 100;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 5000;
  }

  /** The controller this router currently sends to. */
  get target(): number {
    return this.activeId;
  }

  /**
   * Calls the active controller. options.timeoutMs replaces the router's deadline for this call
   * (a client request's timeoutMs, so that the answer comes before the client gives up).
   */
  async call<A extends ControllerApi>(
    api: A,
    request: ApiRequest<A>,
    options?: CallOptions,
  ): Promise<ApiResponse<A>> {
    const { clock, controllers } = this.opts;
    const timeoutMs =
      options?.timeoutMs !== undefined && Number.isFinite(options.timeoutMs) && options.timeoutMs > 0
        ? options.timeoutMs
        : this.timeoutMs;
    const deadline = clock.monotonic() + timeoutMs;
    let failures = 0;
    let last: unknown = null;
    // the leader this node's Raft follows is the active controller (or soon will be)
    const raftLeader = this.opts.leaderHint?.();
    if (raftLeader !== null && raftLeader !== undefined && controllers.includes(raftLeader))
      this.activeId = raftLeader;
    while (clock.monotonic() < deadline) {
      const target = this.activeId;
      try {
        const perAttempt =
          api === 'brokerHeartbeat'
            ? Math.min(this.attemptTimeoutMs, this.opts.heartbeatAttemptTimeoutMs ?? this.attemptTimeoutMs)
            : this.attemptTimeoutMs;
        const budget = Math.min(perAttempt, Math.max(1, deadline - clock.monotonic()));
        return await this.attempt(target, api, request, budget);
      } catch (err) {
        last = err;
        if (isControllerError(err) && !err.retriable) throw err;
        // other calls may have moved on already; only the one that saw this target fail moves it
        if (this.activeId === target) this.activeId = this.nextTarget(target, err);
        if (++failures % controllers.length === 0) {
          const left = deadline - clock.monotonic();
          if (left <= 0) break;
          await clock.sleep(Math.min(this.backoffMs, left));
        }
      }
    }
    throw new ControllerError(
      'REQUEST_TIMED_OUT',
      `no active controller answered ${api} within ${timeoutMs} ms`,
      {
        cause: last,
      },
    );
  }

  private attempt<A extends ControllerApi>(
    target: number,
    api: A,
    request: ApiRequest<A>,
    timeoutMs: number,
  ): Promise<ApiResponse<A>> {
    return new Promise<ApiResponse<A>>((resolve, reject) => {
      let timer: TimerHandle | null = this.opts.clock.setTimeout(() => {
        timer = null;
        settle();
        reject(
          new ControllerError(
            'REQUEST_TIMED_OUT',
            `controller ${target} did not answer ${api} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      // a silent controller (cut off, not closed) answers nothing: once this node's Raft follows
      // another leader, the attempt is abandoned and the call goes there (NOT_CONTROLLER's hint)
      const hint = this.opts.leaderHint;
      const hintAtStart = hint?.() ?? null;
      let poll: TimerHandle | null = null;
      const settle = (): void => {
        timer?.cancel();
        timer = null;
        poll?.cancel();
        poll = null;
      };
      const watch = (): void => {
        poll = this.opts.clock.setTimeout(() => {
          poll = null;
          const now = hint?.() ?? null;
          if (now !== null && now !== target && now !== hintAtStart && this.opts.controllers.includes(now)) {
            settle();
            reject(
              new ControllerError('NOT_CONTROLLER', `node ${now} leads now; left controller ${target}`, {
                leaderId: now,
              }),
            );
          } else watch();
        }, LEADER_POLL_MS);
      };
      if (hint !== undefined) watch();
      let pending: Promise<ApiResponse<A>>;
      try {
        pending = this.opts.channel(target).call(api, request);
      } catch (err) {
        settle();
        reject(err);
        return;
      }
      pending.then(
        (v) => {
          settle();
          resolve(v);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  }

  /** Where to go after `failed` failed: its hint, this node's Raft leader, else the next controller. */
  private nextTarget(failed: number, err: unknown): number {
    const { controllers } = this.opts;
    const usable = (id: number | null | undefined): id is number =>
      id !== null && id !== undefined && id !== failed && controllers.includes(id);
    if (isControllerError(err, 'NOT_CONTROLLER') && usable(err.leaderId)) return err.leaderId;
    const local = this.opts.leaderHint?.();
    if (usable(local)) return local;
    return controllers[(controllers.indexOf(failed) + 1) % controllers.length]!;
  }
}
