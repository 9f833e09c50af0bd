/**
 * Keeps a cluster broker's local logs in line with the committed topic metadata, beside the
 * replication manager (which creates the logs of assigned partitions and runs their roles):
 *
 * - a topic deleted from the cluster, or deleted and created again under the same name (a new
 *   topic id), loses its local replicas on this broker: replication stops, the log is deleted;
 * - a topic none of whose partitions is assigned here any more (reassigned away) is deleted too;
 * - topic config overrides (retention.ms, cleanup.policy, min.insync.replicas, …) are applied to
 *   the local logs, which read them (retention, compaction, acks=all).
 *
 * Local logs carry their own topic ids, so the cluster topic id each local topic belongs to is
 * kept in `<data-dir>/cluster-topic-ids.json`; a broker that was down while its topic was deleted
 * or recreated notices when it comes back. A topic missing from the view only counts as deleted
 * once the view has caught up (ClusterView.caughtUp): a restarting broker's first image may be an
 * old snapshot. Local topics this file does not name (never replicated here) are left alone.
 */
import * as path from 'node:path';
import type { FileSystem } from '../env/fs.js';
import { isLogConfigKey } from '../log/log-config.js';
import type { LogManager } from '../log/log-manager.js';
import type { ClusterView } from './cluster-view.js';
import type { ReplicationManager } from './replication/replication-manager.js';

export const CLUSTER_TOPIC_IDS_FILE = 'cluster-topic-ids.json';

export interface ClusterLogSyncOptions {
  view: ClusterView;
  logs: LogManager;
  replication: ReplicationManager;
  selfId: number;
  fs: FileSystem;
  log?: (msg: string) => void;
}

export class ClusterLogSync {
  /** Local topic name → the cluster topic id its logs belong to. */
  private readonly ids = new Map<string, string>();
  private readonly file: string;
  private readonly unsubscribe: () => void;
  private readonly say: (msg: string) => void;
  private closed = false;

  constructor(private readonly opts: ClusterLogSyncOptions) {
    this.say = opts.log ?? (() => {});
    this.file = path.join(opts.logs.dataDir, CLUSTER_TOPIC_IDS_FILE);
    this.load();
    this.unsubscribe = opts.view.onChange(() => this.sync());
    this.sync();
  }

  /** Applies the view to the local logs; returns the topics whose local logs were deleted. */
  sync(): string[] {
    if (this.closed) return [];
    const { view, logs, replication, selfId } = this.opts;
    const topics = new Map<string, { topicId: string; configs: Record<string, string> }>();
    for (const t of view.topics()) topics.set(t.name, t);
    const held = new Set<string>();
    for (const p of view.partitions()) if (p.replicas.includes(selfId)) held.add(p.topic);
    const caughtUp = view.caughtUp?.() ?? true;
    let dirty = false;
    const removed: string[] = [];
    for (const [name, id] of [...this.ids]) {
      const t = topics.get(name);
      if (t !== undefined && t.topicId === id && held.has(name)) continue;
      if (!caughtUp) continue; // an old image proves nothing yet
      const why =
        t === undefined
          ? 'the topic was deleted'
          : t.topicId !== id
            ? 'the topic was deleted and created again'
            : 'no partition of it is assigned to this broker any more';
      replication.forget(name);
      try {
        if (logs.topic(name)) logs.deleteTopic(name);
        this.say(`${name}: removed the local replicas (${why})`);
      } catch (err) {
        this.say(`${name}: could not remove the local replicas (${why}): ${(err as Error).message}`);
      }
      this.ids.delete(name);
      removed.push(name);
      dirty = true;
    }
    for (const name of held) {
      const t = topics.get(name);
      if (t === undefined || this.ids.has(name)) continue;
      this.ids.set(name, t.topicId);
      dirty = true;
    }
    if (dirty) this.save();
    // a recreated topic gets fresh logs now that the old ones are gone
    if (removed.length > 0) replication.sync();
    for (const name of this.ids.keys()) {
      const t = topics.get(name);
      const local = logs.topic(name);
      if (t === undefined || local === undefined) continue;
      const wanted = Object.fromEntries(Object.entries(t.configs).filter(([k]) => isLogConfigKey(k)));
      if (sameConfigs(wanted, local.overrides)) continue;
      try {
        logs.alterTopicConfig(name, wanted, { incremental: false });
        this.say(`${name}: applied the topic configs ${JSON.stringify(wanted)}`);
      } catch (err) {
        this.say(`${name}: could not apply the topic configs: ${(err as Error).message}`);
      }
    }
    return removed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
  }

  private load(): void {
    const { fs } = this.opts;
    if (!fs.exists(this.file)) return;
    try {
      const parsed = JSON.parse(fs.readFile(this.file).toString('utf8')) as unknown;
      const topics = (parsed as { topics?: unknown } | null)?.topics;
      if (topics === null || typeof topics !== 'object') throw new Error('no "topics" object');
      for (const [name, id] of Object.entries(topics as Record<string, unknown>))
        if (typeof id === 'string') this.ids.set(name, id);
    } catch (err) {
      this.say(`ignoring ${this.file}: ${(err as Error).message}`);
    }
  }

  private save(): void {
    const body = {
      version: 1,
      topics: Object.fromEntries([...this.ids].sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    try {
      this.opts.fs.writeFileAtomic(this.file, Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8'));
    } catch (err) {
      this.say(`writing ${this.file} failed: ${(err as Error).message}`);
    }
  }
}

function sameConfigs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
