/**
 * Broker sessions, kept in memory by the active controller only (a new active controller
 * starts every known broker with a full session, as Kafka's does). A broker not heard from for
 * broker.session.timeout.ms is expired; the controller then fences it.
 */
export interface BrokerSession {
  readonly brokerId: number;
  brokerEpoch: number;
  incarnationId: string | null;
  lastContactMs: number;
  /** Metadata offset the broker must reach before it is unfenced. */
  registeredAtOffset: number;
}

export const MAX_BROKERS = 10_000;

export class BrokerSessions {
  private readonly sessions = new Map<number, BrokerSession>();

  constructor(private readonly sessionTimeoutMs: number) {}

  get(brokerId: number): BrokerSession | undefined {
    return this.sessions.get(brokerId);
  }

  touch(brokerId: number, brokerEpoch: number, nowMs: number): BrokerSession {
    let s = this.sessions.get(brokerId);
    if (s === undefined) {
      if (this.sessions.size >= MAX_BROKERS) throw new RangeError(`more than ${MAX_BROKERS} brokers`);
      s = { brokerId, brokerEpoch, incarnationId: null, lastContactMs: nowMs, registeredAtOffset: 0 };
      this.sessions.set(brokerId, s);
    }
    s.brokerEpoch = brokerEpoch;
    s.lastContactMs = nowMs;
    return s;
  }

  /** Brokers whose session has run out at nowMs. */
  expired(nowMs: number): number[] {
    const out: number[] = [];
    for (const s of this.sessions.values())
      if (nowMs - s.lastContactMs > this.sessionTimeoutMs) out.push(s.brokerId);
    return out;
  }

  isValid(brokerId: number, nowMs: number): boolean {
    const s = this.sessions.get(brokerId);
    return s !== undefined && nowMs - s.lastContactMs <= this.sessionTimeoutMs;
  }

  clear(): void {
    this.sessions.clear();
  }
}
