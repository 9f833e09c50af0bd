/**
 * Broker sessions, kept in memory by the active controller only (a new active controller
 * starts every known broker with a full session, as Kafka's does). A broker not heard from for
 * broker.session.timeout.ms is expired; the controller then fences it.
 *
 * Connection loss shortens a session. A SIGKILLed (or crashed) process's TCP connections are
 * closed by its kernel at once, so the controller sees them close long before the session would
 * run out. When the connection that carried a broker's heartbeats closes, its session is cut to
 * at most broker.session.reconnect.grace.ms from then: a live broker reconnects and heartbeats at
 * once (BrokerLifecycle.nudge) and gets a full session back; a dead one is fenced after the
 * grace. Losses of the other connections to a node (Raft) are remembered until the node is heard
 * from again (`heard`), and a new active controller gives such a silent broker only the grace
 * instead of a full session — that is how the death of the previous active controller (which
 * heartbeats itself locally, over no connection) is noticed quickly.
 */
export interface BrokerSession {
  readonly brokerId: number;
  brokerEpoch: number;
  incarnationId: string | null;
  /** Monotonic time at which the session expires. */
  deadlineMs: number;
  /** Metadata offset the broker must reach before it is unfenced. */
  registeredAtOffset: number;
}

export const MAX_BROKERS = 10_000;

export class BrokerSessions {
  private readonly sessions = new Map<number, BrokerSession>();
  /** Nodes one of whose connections closed and that were not heard from since (id → when). */
  private readonly lost = new Map<number, number>();

  constructor(
    private readonly sessionTimeoutMs: number,
    /** Default: no shortening (the session timeout). */
    private readonly reconnectGraceMs: number = sessionTimeoutMs,
  ) {}

  get(brokerId: number): BrokerSession | undefined {
    return this.sessions.get(brokerId);
  }

  /** The broker was heard from (registration, heartbeat): a full session from nowMs. */
  touch(brokerId: number, brokerEpoch: number, nowMs: number): BrokerSession {
    this.lost.delete(brokerId);
    return this.start(brokerId, brokerEpoch, nowMs + this.sessionTimeoutMs);
  }

  /**
   * A new active controller's session for a known broker: a full one, or only the reconnect
   * grace when a connection to the broker was lost and it has not been heard from since.
   */
  restart(brokerId: number, brokerEpoch: number, nowMs: number): BrokerSession {
    const grace = this.lost.has(brokerId) ? this.reconnectGraceMs : this.sessionTimeoutMs;
    return this.start(brokerId, brokerEpoch, nowMs + Math.min(grace, this.sessionTimeoutMs));
  }

  private start(brokerId: number, brokerEpoch: number, deadlineMs: number): BrokerSession {
    let s = this.sessions.get(brokerId);
    if (s === undefined) {
      if (this.sessions.size >= MAX_BROKERS) throw new RangeError(`more than ${MAX_BROKERS} brokers`);
      s = { brokerId, brokerEpoch, incarnationId: null, deadlineMs, registeredAtOffset: 0 };
      this.sessions.set(brokerId, s);
    }
    s.brokerEpoch = brokerEpoch;
    s.deadlineMs = deadlineMs;
    return s;
  }

  /**
   * A connection from or to node `nodeId` closed. `carriedHeartbeats`: it was the connection the
   * broker heartbeats on, so a live broker notices the close too and heartbeats again at once;
   * its session is cut to the reconnect grace. Otherwise the loss is only remembered (restart).
   */
  connectionLost(nodeId: number, nowMs: number, carriedHeartbeats: boolean): void {
    if (!this.lost.has(nodeId)) {
      if (this.lost.size >= MAX_BROKERS) return;
      this.lost.set(nodeId, nowMs);
    }
    if (!carriedHeartbeats) return;
    const s = this.sessions.get(nodeId);
    if (s !== undefined) s.deadlineMs = Math.min(s.deadlineMs, nowMs + this.reconnectGraceMs);
  }

  /** Something arrived from node `nodeId` (a connection, a message): it is not silent. */
  heard(nodeId: number): void {
    this.lost.delete(nodeId);
  }

  /** Brokers whose session has run out at nowMs. */
  expired(nowMs: number): number[] {
    const out: number[] = [];
    for (const s of this.sessions.values()) if (nowMs > s.deadlineMs) out.push(s.brokerId);
    return out;
  }

  isValid(brokerId: number, nowMs: number): boolean {
    const s = this.sessions.get(brokerId);
    return s !== undefined && nowMs <= s.deadlineMs;
  }

  /** Forgets the sessions (not the lost connections: those are facts about the network). */
  clear(): void {
    this.sessions.clear();
  }
}
