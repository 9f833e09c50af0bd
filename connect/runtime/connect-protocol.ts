/**
 * Kafka Connect's group protocol, eager version (CONNECT_PROTOCOL_V0, protocol name "default"),
 * in Kafka's byte layout (int16 string lengths, int32 array counts, big-endian):
 *
 *   WorkerState  = version:int16 url:string configOffset:int64
 *   Assignment   = version:int16 error:int16 leader:string leaderUrl:string configOffset:int64
 *                  [connector:string [task:int32]]     (task -1 is the connector itself)
 *
 * Eager: at every rebalance each worker stops all its connectors and tasks before rejoining, and
 * the leader hands out everything again (round-robin: connectors first, then tasks). Simple and
 * correct; work moves more than with Kafka's incremental cooperative protocol.
 */

export const CONNECT_PROTOCOL = 'default';
export const CONNECTOR_TASK = -1;
export const ASSIGNMENT_NO_ERROR = 0;
export const CONFIG_MISMATCH = 1;

export interface WorkerState {
  url: string;
  configOffset: number;
}

export interface ConnectAssignment {
  error: number;
  leader: string;
  leaderUrl: string;
  configOffset: number;
  /** connector → task ids (-1 for the connector itself) */
  assignment: Map<string, number[]>;
}

class Writer {
  private parts: Buffer[] = [];
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64(): number {
    const v = Number(this.buf.readBigInt64BE(this.at));
    this.at += 8;
    return v;
  }
  string(): string {
    const n = this.int16();
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}

export function encodeWorkerState(s: WorkerState): Buffer {
  return new Writer().int16(0).string(s.url).int64(s.configOffset).done();
}

export function decodeWorkerState(buf: Buffer): WorkerState {
  const r = new Reader(buf);
  r.int16();
  return { url: r.string(), configOffset: r.int64() };
}

export function encodeAssignment(a: ConnectAssignment): Buffer {
  const w = new Writer()
    .int16(0)
    .int16(a.error)
    .string(a.leader)
    .string(a.leaderUrl)
    .int64(a.configOffset)
    .int32(a.assignment.size);
  for (const [connector, tasks] of a.assignment) {
    w.string(connector).int32(tasks.length);
    for (const t of tasks) w.int32(t);
  }
  return w.done();
}

export function decodeAssignment(buf: Buffer): ConnectAssignment {
  const r = new Reader(buf);
  r.int16();
  const error = r.int16();
  const leader = r.string();
  const leaderUrl = r.string();
  const configOffset = r.int64();
  const n = r.int32();
  const assignment = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const c = r.string();
    const count = r.int32();
    const tasks: number[] = [];
    for (let j = 0; j < count; j++) tasks.push(r.int32());
    assignment.set(c, tasks);
  }
  return { error, leader, leaderUrl, configOffset, assignment };
}

/** Round-robin over members (sorted by id): every connector, then every task. */
export function assignRoundRobin(
  memberIds: readonly string[],
  work: readonly { connector: string; tasks: number }[],
): Map<string, Map<string, number[]>> {
  const members = [...memberIds].sort();
  const out = new Map(members.map((m) => [m, new Map<string, number[]>()]));
  let next = 0;
  const give = (connector: string, task: number) => {
    const m = out.get(members[next++ % members.length]!)!;
    const list = m.get(connector) ?? [];
    list.push(task);
    m.set(connector, list);
  };
  const sorted = [...work].sort((a, b) =>
    a.connector < b.connector ? -1 : a.connector > b.connector ? 1 : 0,
  );
  for (const w of sorted) give(w.connector, CONNECTOR_TASK);
  for (const w of sorted) for (let t = 0; t < w.tasks; t++) give(w.connector, t);
  return out;
}
