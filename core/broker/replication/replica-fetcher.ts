/**
 * A follower's fetcher for the partitions one leader broker leads (Kafka's ReplicaFetcherThread):
 * new partitions first truncate their log to the leader's with OffsetForLeaderEpoch, then Fetch
 * (replicaId = this broker) from the log end, append with the leader's offsets
 * (assignOffsets=false) and take the leader's high watermark. One connection, one request at a
 * time; a request in flight is answered with the epochs it was sent with, and its results are
 * dropped for partitions whose state changed meanwhile.
 */
import type { Clock } from '../../env/clock.js';
import type { PartitionLog } from '../../log/log.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { RequestInput, ResponseData, SupportedApiKey } from '../../protocol/messages/index.js';
import type { BrokerEndpoint } from '../cluster-view.js';
import type { Partition } from './partition.js';
import { PeerConnection } from './peer-connection.js';

/** Fixed versions of the requests a follower sends (within every Tributary broker's range). */
const FETCH_VERSION = 11;
const OFFSET_FOR_LEADER_EPOCH_VERSION = 3;

export interface FetcherConfig {
  /** replica.fetch.wait.max.ms */
  maxWaitMs: number;
  /** replica.fetch.max.bytes (per partition) */
  partitionMaxBytes: number;
  /** replica.fetch.response.max.bytes */
  responseMaxBytes: number;
  /** replica.fetch.backoff.ms: after an error */
  backoffMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_FETCHER_CONFIG: Readonly<FetcherConfig> = Object.freeze({
  maxWaitMs: 500,
  partitionMaxBytes: 1_048_576,
  responseMaxBytes: 10_485_760,
  backoffMs: 100,
  requestTimeoutMs: 30_000,
});

/** A follower's connection to a leader: requests matched to responses (PeerConnection over TCP). */
export interface PeerClient {
  request<K extends SupportedApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    timeoutMs: number,
  ): Promise<ResponseData<K>>;
  close(): void;
}

/**
 * Opens a connection to a leader broker. The default is TCP (PeerConnection); the deterministic
 * simulation passes one over its simulated network.
 */
export type PeerConnector = (leader: BrokerEndpoint, clientId: string, clock: Clock) => PeerClient;

export const tcpPeerConnector: PeerConnector = (leader, clientId, clock) =>
  new PeerConnection(leader.host, leader.port, clock, clientId);

interface Fetching {
  state: 'truncating' | 'fetching';
  /** The leader epoch this follower state belongs to. */
  epoch: number;
}

export class ReplicaFetcher {
  private readonly parts = new Map<Partition, Fetching>();
  private conn: PeerClient | undefined;
  /** The leader address conn was opened to. */
  private connTo: BrokerEndpoint | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(
    readonly leaderId: number,
    private readonly selfId: number,
    private readonly endpointOf: (nodeId: number) => BrokerEndpoint | undefined,
    private readonly clock: Clock,
    private readonly config: FetcherConfig,
    private readonly log: (msg: string) => void,
    private readonly connect: PeerConnector = tcpPeerConnector,
    /**
     * Called right after a log was truncated, before anything is appended to it: the log manager
     * checkpoints the recovery points (the truncated log's is now at most its new end), so that
     * recovery after a power loss never trusts bytes written after the truncation as fsynced.
     */
    private readonly afterTruncate: (log: PartitionLog) => void = () => {},
  ) {
    this.loop = this.run();
  }

  get size(): number {
    return this.parts.size;
  }

  /** Starts (or restarts, after a new epoch) replicating the partition: truncate, then fetch. */
  add(p: Partition): void {
    this.parts.set(p, { state: 'truncating', epoch: p.leaderEpoch });
    this.wake();
  }

  remove(p: Partition): void {
    this.parts.delete(p);
  }

  has(p: Partition): boolean {
    return this.parts.has(p);
  }

  /** The leader's address changed (a restart on a new port): reconnect. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.conn?.close();
    this.wake();
    await this.loop;
  }

  private connection(): PeerClient | undefined {
    const ep = this.endpointOf(this.leaderId);
    if (!ep || ep.port === 0) return undefined;
    if (this.conn && (this.connTo?.host !== ep.host || this.connTo?.port !== ep.port)) {
      this.conn.close();
      this.conn = undefined;
    }
    if (!this.conn) {
      this.conn = this.connect(ep, `tributary-replica-${this.selfId}`, this.clock);
      this.connTo = ep;
    }
    return this.conn;
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        t.cancel();
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const conn = this.connection();
      if (this.parts.size === 0 || !conn) {
        await this.pause(this.parts.size === 0 ? 60_000 : this.config.backoffMs);
        continue;
      }
      let ok: boolean;
      try {
        ok = (await this.truncate(conn)) && (await this.fetch(conn));
      } catch (err) {
        if (!this.stopped) this.log(`fetch from broker ${this.leaderId}: ${(err as Error).message}`);
        this.conn?.close();
        this.conn = undefined;
        ok = false;
      }
      if (!ok) await this.pause(this.config.backoffMs);
    }
  }

  /** OffsetForLeaderEpoch for the partitions that need it; false when something failed. */
  private async truncate(conn: PeerClient): Promise<boolean> {
    const todo = [...this.parts].filter(([, f]) => f.state === 'truncating');
    if (todo.length === 0) return true;
    const byKey = indexed(todo);
    const asked = new Map(todo.map(([p, f]) => [p, { epoch: f.epoch, latest: p.log.latestEpoch }]));
    const res = await conn.request(
      ApiKey.OffsetForLeaderEpoch,
      OFFSET_FOR_LEADER_EPOCH_VERSION,
      {
        replicaId: this.selfId,
        topics: byTopic(todo.map(([p]) => p)).map(([topic, ps]) => ({
          topic,
          partitions: ps.map((p) => ({
            partition: p.partition,
            currentLeaderEpoch: asked.get(p)!.epoch,
            leaderEpoch: asked.get(p)!.latest,
          })),
        })),
      },
      this.config.requestTimeoutMs,
    );
    let ok = true;
    const synced: Promise<void>[] = [];
    for (const t of res.topics) {
      for (const r of t.partitions) {
        const entry = byKey.get(`${t.topic}\u0000${r.partition}`);
        if (!entry) continue;
        const [p, f] = entry;
        if (this.parts.get(p) !== f || f.epoch !== asked.get(p)!.epoch) continue; // changed meanwhile
        if (r.errorCode !== 0) {
          ok = false;
          continue;
        }
        const log = p.log;
        let to: number;
        if (r.leaderEpoch < 0 || r.endOffset < 0) to = log.highWatermark;
        else if (r.leaderEpoch === asked.get(p)!.latest) to = Math.min(r.endOffset, log.logEndOffset);
        else {
          const mine = log.endOffsetForEpoch(r.leaderEpoch);
          to = Math.min(r.endOffset, mine.endOffset < 0 ? log.logEndOffset : mine.endOffset);
        }
        if (to < log.logEndOffset) {
          this.log(
            `${p.topic}-${p.partition}: truncating from ${log.logEndOffset} to ${to} (leader ${this.leaderId}, epoch ${f.epoch})`,
          );
          log.truncateTo(to);
          this.afterTruncate(log);
          // Durable before anything is fetched: the leader's next batches get a new epoch entry
          // in leader-epoch-checkpoint (written at once), and a power loss must not bring back
          // the truncated batches of an older epoch under it.
          synced.push(log.flush());
        }
        f.state = 'fetching';
      }
    }
    if (synced.length > 0) await Promise.all(synced);
    return ok;
  }

  private async fetch(conn: PeerClient): Promise<boolean> {
    const todo = [...this.parts].filter(([, f]) => f.state === 'fetching');
    if (todo.length === 0) return true;
    const byKey = indexed(todo);
    const sent = new Map(todo.map(([p, f]) => [p, { f, offset: p.log.logEndOffset }]));
    const res = await conn.request(
      ApiKey.Fetch,
      FETCH_VERSION,
      {
        replicaId: this.selfId,
        maxWaitMs: this.config.maxWaitMs,
        minBytes: 1,
        maxBytes: this.config.responseMaxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: byTopic(todo.map(([p]) => p)).map(([topic, ps]) => ({
          topic,
          partitions: ps.map((p) => ({
            partition: p.partition,
            currentLeaderEpoch: sent.get(p)!.f.epoch,
            fetchOffset: sent.get(p)!.offset,
            logStartOffset: p.log.logStartOffset,
            partitionMaxBytes: this.config.partitionMaxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      this.config.requestTimeoutMs + this.config.maxWaitMs,
    );
    let ok = true;
    for (const t of res.responses) {
      for (const r of t.partitions) {
        const entry = byKey.get(`${t.topic}\u0000${r.partitionIndex}`);
        if (!entry) continue;
        const [p, f] = entry;
        const s = sent.get(p)!;
        if (this.parts.get(p) !== f || p.log.logEndOffset !== s.offset) continue; // changed meanwhile
        if (r.errorCode !== 0) {
          ok = false;
          if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            if (r.logStartOffset > s.offset) {
              // Far behind: the leader deleted what comes next (retention). Start over at its log start.
              this.log(
                `${p.topic}-${p.partition}: restarting the log at the leader's start ${r.logStartOffset}`,
              );
              p.log.truncateFullyAndStartAt(r.logStartOffset);
              this.afterTruncate(p.log);
            } else f.state = 'truncating';
          }
          continue;
        }
        const records = r.records;
        if (records && records.length > 0) {
          try {
            appendAsFollower(p.log, skipBelow(records, s.offset));
          } catch (err) {
            this.log(`${p.topic}-${p.partition}: follower append failed: ${(err as Error).message}`);
            f.state = 'truncating';
            ok = false;
            continue;
          }
        }
        p.log.setHighWatermark(Math.min(r.highWatermark, p.log.logEndOffset));
      }
    }
    return ok;
  }
}

function indexed(entries: [Partition, Fetching][]): Map<string, [Partition, Fetching]> {
  return new Map(entries.map((e) => [`${e[0].topic}\u0000${e[0].partition}`, e]));
}

function byTopic(parts: readonly Partition[]): [string, Partition[]][] {
  const m = new Map<string, Partition[]>();
  for (const p of parts) {
    const list = m.get(p.topic);
    if (list) list.push(p);
    else m.set(p.topic, [p]);
  }
  return [...m];
}

/**
 * Appends the leader's batches with their offsets. A fetch response may be larger than the
 * partition's segment.bytes (the leader wrote them in several appends, each within a segment),
 * so it is appended in chunks of whole batches that each fit in one segment.
 */
function appendAsFollower(log: PartitionLog, records: Buffer): void {
  const max = log.config['segment.bytes'];
  if (records.length <= max) {
    log.append(records, { assignOffsets: false });
    return;
  }
  let start = 0;
  let pos = 0;
  while (pos + 12 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos > start && pos + size - start > max) {
      log.append(records.subarray(start, pos), { assignOffsets: false });
      start = pos;
    }
    pos += size;
  }
  if (start < records.length) log.append(records.subarray(start), { assignOffsets: false });
}

/** Drops whole batches that end below offset (a read starting inside a batch returns it whole). */
function skipBelow(records: Buffer, offset: number): Buffer {
  let pos = 0;
  while (pos + 61 <= records.length) {
    const base = Number(records.readBigInt64BE(pos));
    const lastOffsetDelta = records.readInt32BE(pos + 23);
    if (base + lastOffsetDelta >= offset) break;
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return pos === 0 ? records : records.subarray(pos);
}
