/**
 * One client connection on the broker side: frames in, decoded requests to the handler,
 * encoded responses out, in request order.
 *
 * Concurrency contract:
 * - Requests are decoded and handed to the handler in the order they arrive. The handler runs
 *   synchronously up to its first `await`, so work that must follow request order (appending
 *   a producer's batches) belongs before it. Handlers of pipelined requests then run
 *   concurrently, but responses are written strictly in request order: each request takes a
 *   slot in a FIFO queue, and the queue is flushed from its head as slots complete. A handler
 *   returning null (Produce acks=0) leaves an empty slot that the flush skips.
 * - Reading pauses (the socket is paused and no further frame is taken) while the connection
 *   has `queued.max.requests.per.connection` requests in flight, while the broker-wide budget
 *   (`queued.max.requests`, `queued.max.request.bytes`) is spent, and while the socket's write
 *   buffer is full (write() returned false; reading resumes on 'drain').
 *
 * Closing, as Kafka does: an invalid size prefix, an unknown API key, an unsupported version
 * (except ApiVersions, answered with UNSUPPORTED_VERSION and our list: KAFKA-COMPAT pitfall 2),
 * a body that does not decode, or a handler exception closes this connection with a log line;
 * nothing else is affected. Idle connections (no bytes either way and nothing in flight for
 * `connections.max.idle.ms`) are closed too.
 *
 * Per request, this file does a constant amount of work (a header decode, a context object,
 * a slot, one cork/uncork per flush); record batches are never looked at or copied.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../env/clock.js';
import { isLeasedReadBuffer, releaseReadBuffer } from '../log/read-buffers.js';
import { ApiKey, apiName } from '../protocol/api-keys.js';
import {
  decodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  responseHeaderVersion,
} from '../protocol/headers.js';
import {
  type ApiDefinition,
  getApi,
  isSupportedVersion,
  type RequestData,
  type ResponseInput,
  type SupportedApiKey,
  unsupportedApiVersionsResponse,
} from '../protocol/messages/index.js';
import { Reader } from '../protocol/reader.js';
import { decodeMessage, encodeMessage } from '../protocol/schema.js';
import { Writer } from '../protocol/writer.js';
import { FrameSplitter, FramingError } from './framing.js';
import type { SocketConfig } from './socket-config.js';

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** The client's IP address. */
  readonly clientHost: string;
  /** Kafka's form: `localHost:localPort-remoteHost:remotePort-index`. */
  readonly connectionId: string;
  /** The listener name, e.g. 'PLAINTEXT'. */
  readonly listener: string;
  /** Size of the request frame (header and body, without the size prefix). */
  readonly requestSizeBytes: number;
}

/**
 * A handler may return this instead of a response: the responses before it are written, then
 * the connection is closed (Kafka closes the connection when an acks=0 produce fails, since it
 * has no other way to tell the producer).
 */
export const CLOSE_CONNECTION: unique symbol = Symbol('CLOSE_CONNECTION');

/** A response body (the encoder's input for the request's API and version), null, or CLOSE_CONNECTION. */
export type HandlerResult = object | null | typeof CLOSE_CONNECTION;

export interface RequestHandler {
  /**
   * Decoded request in (`RequestData<K>` for `ctx.apiKey === K`), response body out
   * (`ResponseInput<K>`, encoded by the server at `ctx.apiVersion`); null = no response
   * (Produce acks=0). Errors belong in the response's error codes: a throw or a rejection is
   * a bug, logged, and closes the connection.
   */
  handle(ctx: RequestContext, request: unknown): HandlerResult | PromiseLike<HandlerResult>;
}

/** One typed function per API; see {@link routeByApiKey}. */
export type ApiHandlers = {
  readonly [K in SupportedApiKey]?: (
    ctx: RequestContext,
    request: RequestData<K>,
  ) =>
    | ResponseInput<K>
    | null
    | typeof CLOSE_CONNECTION
    | PromiseLike<ResponseInput<K> | null | typeof CLOSE_CONNECTION>;
};

/**
 * A RequestHandler from one typed function per API key. A request for an API without a
 * function closes the connection (as for an API the broker does not know).
 */
export function routeByApiKey(handlers: ApiHandlers): RequestHandler {
  const table = new Map<
    number,
    (ctx: RequestContext, request: unknown) => HandlerResult | PromiseLike<HandlerResult>
  >();
  for (const [key, fn] of Object.entries(handlers)) {
    if (fn) table.set(Number(key), fn as (ctx: RequestContext, request: unknown) => HandlerResult);
  }
  return {
    handle(ctx, request) {
      const fn = table.get(ctx.apiKey);
      if (fn === undefined) throw new Error(`no handler for ${apiName(ctx.apiKey)} (API key ${ctx.apiKey})`);
      return fn(ctx, request);
    },
  };
}

/**
 * The broker-wide limit on requests being handled (`queued.max.requests`) and their bytes
 * (`queued.max.request.bytes`, -1 = none). Non-strict, like Kafka's memory pool: a request is
 * admitted while there is any room, so one large request never starves.
 */
export class RequestBudget {
  inFlightRequests = 0;
  inFlightBytes = 0;
  private readonly waiters = new Set<() => void>();
  private wakeScheduled = false;

  constructor(
    readonly maxRequests: number,
    readonly maxBytes: number,
  ) {}

  hasRoom(): boolean {
    return (
      this.inFlightRequests < this.maxRequests && (this.maxBytes < 0 || this.inFlightBytes < this.maxBytes)
    );
  }

  acquire(bytes: number): void {
    this.inFlightRequests++;
    this.inFlightBytes += bytes;
  }

  release(bytes: number): void {
    this.inFlightRequests--;
    this.inFlightBytes -= bytes;
    if (this.waiters.size > 0 && !this.wakeScheduled && this.hasRoom()) {
      // Woken from a fresh task, not from inside another connection's completion.
      this.wakeScheduled = true;
      setImmediate(() => this.wake());
    }
  }

  /** Calls `resume` once when there is room again. */
  waitForRoom(resume: () => void): void {
    this.waiters.add(resume);
  }

  cancelWait(resume: () => void): void {
    this.waiters.delete(resume);
  }

  private wake(): void {
    this.wakeScheduled = false;
    for (const resume of [...this.waiters]) {
      if (!this.hasRoom()) return;
      this.waiters.delete(resume);
      resume();
    }
  }
}

export interface BrokerConnectionOptions {
  readonly connectionId: string;
  readonly listener: string;
  readonly handler: RequestHandler;
  readonly config: SocketConfig;
  readonly budget: RequestBudget;
  readonly clock: Clock;
  readonly log: (msg: string) => void;
  /** Called once, when the socket has closed. */
  readonly onClose: (conn: BrokerConnection) => void;
}

/** Slot states. */
const PENDING = 0;
const READY = 1;
const NO_RESPONSE = 2;
const CLOSE = 3;
type SlotState = typeof PENDING | typeof READY | typeof NO_RESPONSE | typeof CLOSE;

/** A request's place in the response order. */
interface Slot {
  state: SlotState;
  chunks: Buffer[] | null;
  readonly api: ApiDefinition;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly sizeBytes: number;
}

/** Why reading is paused (bits). */
const MUTE_IN_FLIGHT = 1;
const MUTE_BUDGET = 2;
const MUTE_SOCKET = 4;
const MUTE_CLOSING = 8;

/** Bytes of apiKey + apiVersion + correlationId, present in every request header version. */
const MIN_HEADER_BYTES = 8;

export class BrokerConnection {
  readonly connectionId: string;
  readonly clientHost: string;
  private readonly splitter: FrameSplitter;
  private slots: Slot[] = [];
  /** Index of the oldest slot not yet written. */
  private slotHead = 0;
  private mute = 0;
  private closed = false;
  /** Nothing more is written (destroyed, or ended). */
  private writeDone = false;
  /** The client half-closed: end once every response is written. */
  private readEnded = false;
  /** Inside processFrames (which must not re-enter, nor end the socket before it is done). */
  private processing = false;
  private lastActivityMs: number;
  private idleTimer: TimerHandle | null = null;
  private readonly maxInFlight: number;
  private readonly idleMs: number;
  private drained: Promise<void> | null = null;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly opts: BrokerConnectionOptions,
  ) {
    this.connectionId = opts.connectionId;
    this.clientHost = socket.remoteAddress ?? 'unknown';
    this.splitter = new FrameSplitter(opts.config['socket.request.max.bytes']);
    this.maxInFlight = opts.config['queued.max.requests.per.connection'];
    this.idleMs = opts.config['connections.max.idle.ms'];
    this.lastActivityMs = opts.clock.monotonic();
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.onSocketError(err));
    socket.on('close', () => this.onSocketClose());
    this.armIdleTimer(this.idleMs);
  }

  /** Requests taken from the socket whose responses are not yet written. */
  get inFlight(): number {
    return this.slots.length - this.slotHead;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when the socket has closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /**
   * Graceful close: reads no more requests, lets those in flight finish, writes their
   * responses, then ends the socket. Resolves when it has closed.
   */
  drain(): Promise<void> {
    if (this.drained === null) {
      this.setMute(MUTE_CLOSING);
      this.splitter.clear();
      this.drained = this.closedPromise;
      this.endIfDone();
    }
    return this.drained;
  }

  /** Closes at once, dropping unwritten responses. */
  destroy(reason?: string): void {
    if (reason !== undefined) this.opts.log(`closing connection ${this.connectionId}: ${reason}`);
    this.setMute(MUTE_CLOSING);
    this.writeDone = true;
    this.socket.destroy();
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  private onData(chunk: Buffer): void {
    this.lastActivityMs = this.opts.clock.monotonic();
    if (this.closed || (this.mute & MUTE_CLOSING) !== 0) return;
    this.splitter.push(chunk);
    this.processFrames();
  }

  private processFrames(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      this.takeFrames();
    } finally {
      this.processing = false;
    }
    this.endIfDone();
  }

  private takeFrames(): void {
    const budget = this.opts.budget;
    while (this.mute === 0) {
      if (this.inFlight >= this.maxInFlight) {
        this.setMute(MUTE_IN_FLIGHT);
        return;
      }
      if (!budget.hasRoom()) {
        this.setMute(MUTE_BUDGET);
        budget.waitForRoom(this.onBudgetRoom);
        return;
      }
      let frame: Buffer | null;
      try {
        frame = this.splitter.next();
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        this.destroy(`${err.message} (socket.request.max.bytes) from ${this.clientHost}`);
        return;
      }
      if (frame === null) return;
      this.handleFrame(frame);
    }
  }

  private readonly onBudgetRoom = (): void => {
    this.clearMute(MUTE_BUDGET);
  };

  private setMute(bit: number): void {
    if (this.mute === 0 && !this.closed) this.socket.pause();
    this.mute |= bit;
  }

  private clearMute(bit: number): void {
    if ((this.mute & bit) === 0) return;
    this.mute &= ~bit;
    if (this.mute === 0 && !this.closed) {
      this.processFrames();
      if (this.mute === 0) this.socket.resume();
      this.endIfDone();
    }
  }

  private handleFrame(frame: Buffer): void {
    if (frame.length < MIN_HEADER_BYTES) {
      this.destroy(`request of ${frame.length} bytes is too short for a request header`);
      return;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const api = getApi(apiKey);
    if (api === undefined) {
      this.destroy(`unknown API key ${apiKey} (version ${apiVersion}) from ${this.clientHost}`);
      return;
    }
    if (!isSupportedVersion(apiKey, apiVersion)) {
      if (apiKey === ApiKey.ApiVersions) {
        this.answerUnsupportedApiVersions(api, frame);
      } else {
        this.destroy(
          `unsupported version ${apiVersion} of ${api.name} (we support ${api.minVersion}-${api.maxVersion}) from ${this.clientHost}`,
        );
      }
      return;
    }
    const reader = new Reader(frame);
    let header: RequestHeader;
    let request: unknown;
    try {
      header = decodeRequestHeader(reader);
      request = decodeMessage(api.request, apiVersion, reader);
    } catch (err) {
      this.destroy(
        `cannot decode ${api.name} v${apiVersion} request from ${this.clientHost}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    const slot: Slot = {
      state: PENDING,
      chunks: null,
      api,
      apiVersion,
      correlationId: header.correlationId,
      sizeBytes: frame.length,
    };
    this.slots.push(slot);
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      clientHost: this.clientHost,
      connectionId: this.connectionId,
      listener: this.opts.listener,
      requestSizeBytes: frame.length,
    };
    this.opts.budget.acquire(frame.length);
    let result: HandlerResult | PromiseLike<HandlerResult>;
    try {
      result = this.opts.handler.handle(ctx, request);
    } catch (err) {
      this.handlerFailed(slot, err);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (r) => this.complete(slot, r),
        (err: unknown) => this.handlerFailed(slot, err),
      );
    } else {
      this.complete(slot, result);
    }
  }

  /** ApiVersions at a version we do not support: error 35 and our list, as v0; the connection stays open. */
  private answerUnsupportedApiVersions(api: ApiDefinition, frame: Buffer): void {
    const correlationId = frame.readInt32BE(4);
    this.opts.log(
      `ApiVersions v${frame.readInt16BE(2)} from ${this.clientHost} is not supported: answering UNSUPPORTED_VERSION with v0`,
    );
    const slot: Slot = {
      state: PENDING,
      chunks: null,
      api,
      apiVersion: 0,
      correlationId,
      sizeBytes: frame.length,
    };
    this.slots.push(slot);
    this.opts.budget.acquire(frame.length);
    this.complete(slot, unsupportedApiVersionsResponse());
  }

  private handlerFailed(slot: Slot, err: unknown): void {
    this.opts.budget.release(slot.sizeBytes);
    if (this.writeDone) return;
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.destroy(`handler for ${slot.api.name} v${slot.apiVersion} failed: ${detail}`);
  }

  private complete(slot: Slot, result: HandlerResult): void {
    this.opts.budget.release(slot.sizeBytes);
    if (this.writeDone) return;
    if (result === null) {
      slot.state = NO_RESPONSE;
    } else if (result === CLOSE_CONNECTION) {
      slot.state = CLOSE;
    } else {
      try {
        slot.chunks = encodeResponse(slot, result);
      } catch (err) {
        this.destroy(
          `cannot encode ${slot.api.name} v${slot.apiVersion} response: ${err instanceof Error ? err.message : String(err)}`,
        );
        return;
      }
      slot.state = READY;
    }
    this.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** Writes every completed response at the head of the queue, in one cork/uncork. */
  private flush(): void {
    const socket = this.socket;
    let corked = false;
    let full = false;
    let close = false;
    while (this.slotHead < this.slots.length) {
      const slot = this.slots[this.slotHead]!;
      if (slot.state === PENDING) break;
      this.slotHead++;
      if (slot.state === CLOSE) {
        close = true;
        break;
      }
      if (slot.state === READY) {
        if (!corked) {
          socket.cork();
          corked = true;
        }
        for (const chunk of slot.chunks!) {
          // A leased read buffer (fetched records) goes back to its pool once the kernel has it.
          const ok = isLeasedReadBuffer(chunk)
            ? socket.write(chunk, () => releaseReadBuffer(chunk))
            : socket.write(chunk);
          if (!ok) full = true;
        }
        slot.chunks = null;
      }
    }
    if (corked) {
      socket.uncork();
      this.lastActivityMs = this.opts.clock.monotonic();
    }
    if (this.slotHead === this.slots.length) {
      this.slots.length = 0;
      this.slotHead = 0;
    } else if (this.slotHead >= 1024) {
      this.slots = this.slots.slice(this.slotHead);
      this.slotHead = 0;
    }
    if (close) {
      this.opts.log(`closing connection ${this.connectionId} as the request handler asked`);
      this.endSocket();
      return;
    }
    if (full && (this.mute & MUTE_SOCKET) === 0) {
      this.setMute(MUTE_SOCKET);
      socket.once('drain', this.onDrain);
    }
    if ((this.mute & MUTE_IN_FLIGHT) !== 0 && this.inFlight < this.maxInFlight)
      this.clearMute(MUTE_IN_FLIGHT);
    this.endIfDone();
  }

  private readonly onDrain = (): void => {
    this.lastActivityMs = this.opts.clock.monotonic();
    this.clearMute(MUTE_SOCKET);
  };

  /** After a graceful close or the client's half-close, ends the socket once nothing is in flight. */
  private endIfDone(): void {
    if (this.writeDone || this.processing || this.inFlight > 0) return;
    // After a half-close, frames still queued behind a pause are answered first.
    if (this.drained !== null || (this.readEnded && this.mute === 0)) this.endSocket();
  }

  /** Sends FIN after what is buffered, then closes. */
  private endSocket(): void {
    this.setMute(MUTE_CLOSING);
    this.writeDone = true;
    this.splitter.clear();
    this.socket.end(() => this.socket.destroy());
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  private onEnd(): void {
    // The client will send nothing more; answer what it sent, then close (Kafka closes on EOF).
    this.readEnded = true;
    this.endIfDone();
  }

  private onSocketError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ECONNRESET' && code !== 'EPIPE') {
      this.opts.log(`connection ${this.connectionId} failed: ${err.message}`);
    }
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.splitter.clear();
    this.idleTimer?.cancel();
    this.idleTimer = null;
    this.opts.budget.cancelWait(this.onBudgetRoom);
    this.opts.onClose(this);
    this.resolveClosed();
  }

  private armIdleTimer(delayMs: number): void {
    this.idleTimer = this.opts.clock.setTimeout(this.onIdleTimer, delayMs);
  }

  /** Lazy idle check: activity only updates a timestamp; the timer re-arms for what remains. */
  private readonly onIdleTimer = (): void => {
    this.idleTimer = null;
    if (this.closed) return;
    const now = this.opts.clock.monotonic();
    if (this.inFlight > 0) this.lastActivityMs = now;
    const idleForMs = now - this.lastActivityMs;
    if (idleForMs >= this.idleMs) {
      this.destroy(`idle for ${Math.round(idleForMs)} ms (connections.max.idle.ms=${this.idleMs})`);
      return;
    }
    this.armIdleTimer(this.idleMs - idleForMs);
  };
}

function isThenable(v: unknown): v is PromiseLike<HandlerResult> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Initial segment hint for a message writer. Kept at or below the Writer's slab threshold so
 * every message is written into the shared slab (a larger hint makes the Writer allocate a
 * private segment whenever the slab's free tail is between the two sizes).
 */
const INITIAL_WRITER_BYTES = 1024;

/** Size prefix + response header + body, as chunks (record buffers are not copied). */
function encodeResponse(slot: Slot, body: object): Buffer[] {
  const w = new Writer(INITIAL_WRITER_BYTES);
  try {
    const size = w.reserveInt32();
    encodeResponseHeader(
      w,
      { correlationId: slot.correlationId },
      responseHeaderVersion(slot.api.apiKey, slot.apiVersion),
    );
    encodeMessage(slot.api.response, slot.apiVersion, body, w);
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
  } catch (err) {
    w.abandon();
    throw err;
  }
}
