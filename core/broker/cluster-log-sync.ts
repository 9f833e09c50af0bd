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
 * Every local log records the cluster topic id it belongs to (the replication manager creates it
 * with that id; each partition directory keeps it in partition.metadata, as in Kafka). Data is
 * only removed on positive evidence, and only once the view has caught up
 * (ClusterView.caughtUp — a restarting broker's first image may be an old snapshot):
 *
 * - deleted: this process saw the topic, with the log's id, in a caught-up image and then saw it
 *   leave (or come back under another id) without losing track in between. A topic merely
 *   missing from the image is never deleted on that ground: after a restart it may have been
 *   deleted meanwhile, or the controllers' metadata may have been wiped, or this broker points
 *   at the wrong quorum. It is left alone, not served, and a warning says how to remove it.
 * - reassigned away: the image has the topic with the log's id and no replica of it here.
 * - set aside: the image has the name under another topic id than the log's (an earlier topic of
 *   the name, recreated while this broker was away, or a log of unknown origin). The directories
 *   are renamed `<topic>-<p>.<32 hex>-stray`, kept, and the partition starts empty. Until then
 *   the replication manager does not serve such a log.
 *
 * A removal that fails is retried on the next change of the view; meanwhile the log stays
 * quarantined and no new log of that name is created.
 */
import { isLogConfigKey } from '../log/log-config.js';
import type { LogManager } from '../log/log-manager.js';
import type { ClusterView } from './cluster-view.js';
import type { ReplicationManager } from './replication/replication-manager.js';

export interface ClusterLogSyncOptions {
  view: ClusterView;
  logs: LogManager;
  replication: ReplicationManager;
  selfId: number;
  log?: (msg: string) => void;
}

export class ClusterLogSync {
  /**
   * Local topic → its topic id, for topics this process saw in a caught-up image with the log's
   * id. Cleared whenever the view is not caught up (restart, re-registration): only a removal
   * seen while continuously caught up counts as a deletion.
   */
  private readonly seen = new Map<string, string>();
  /** Warnings already given (orphaned topics, failed removals), so each is said once. */
  private readonly noted = new Set<string>();
  private readonly unsubscribe: () => void;
  private readonly say: (msg: string) => void;
  private closed = false;

  constructor(private readonly opts: ClusterLogSyncOptions) {
    this.say = opts.log ?? (() => {});
    this.unsubscribe = opts.view.onChange(() => this.sync());
    this.sync();
  }

  /** Applies the view to the local logs; returns the topics whose local logs were removed. */
  sync(): string[] {
    if (this.closed) return [];
    const { view, logs, replication, selfId } = this.opts;
    const topics = new Map<string, { topicId: string; configs: Record<string, string> }>();
    for (const t of view.topics()) topics.set(t.name, t);
    const held = new Set<string>();
    for (const p of view.partitions()) if (p.replicas.includes(selfId)) held.add(p.topic);
    const caughtUp = view.caughtUp?.() ?? true;
    const removed: string[] = [];
    if (!caughtUp) {
      this.seen.clear(); // an old image proves nothing yet
    } else {
      for (const local of logs.topics()) {
        const name = local.name;
        const t = topics.get(name);
        if (t !== undefined && t.topicId === local.topicId) {
          if (held.has(name)) {
            this.seen.set(name, t.topicId);
            continue;
          }
          if (this.remove(name, 'delete', 'no partition of it is assigned to this broker any more'))
            removed.push(name);
          continue;
        }
        if (this.seen.get(name) === local.topicId) {
          const why = t === undefined ? 'the topic was deleted' : 'the topic was deleted and created again';
          if (this.remove(name, 'delete', why)) removed.push(name);
          continue;
        }
        if (t !== undefined) {
          const why = `the local log belongs to topic id ${local.topicId}, the cluster's topic '${name}' is ${t.topicId}`;
          if (this.remove(name, 'set aside', why)) removed.push(name);
          continue;
        }
        this.once(
          `orphan\u0000${name}\u0000${local.topicId}`,
          `${name}: the local topic (id ${local.topicId}) is not in the cluster metadata: kept but not served. ` +
            "It was deleted while this broker was away, or the controllers do not hold this cluster's metadata " +
            `(wiped, or the wrong --controller-quorum). If it is not needed, stop the broker and remove ${logs.dataDir}/${name}-<partition>`,
        );
      }
    }
    // a recreated topic gets fresh logs now that the old ones are gone
    if (removed.length > 0) replication.sync();
    for (const local of logs.topics()) {
      const t = topics.get(local.name);
      if (t === undefined || t.topicId !== local.topicId) continue; // not this topic's log
      const wanted = Object.fromEntries(Object.entries(t.configs).filter(([k]) => isLogConfigKey(k)));
      if (sameConfigs(wanted, local.overrides)) continue;
      try {
        logs.alterTopicConfig(local.name, wanted, { incremental: false });
        this.say(`${local.name}: applied the topic configs ${JSON.stringify(wanted)}`);
      } catch (err) {
        this.say(`${local.name}: could not apply the topic configs: ${(err as Error).message}`);
      }
    }
    return removed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
  }

  /** Stops replicating a topic and deletes or sets aside its local logs; false when that failed. */
  private remove(name: string, how: 'delete' | 'set aside', why: string): boolean {
    const { logs, replication } = this.opts;
    replication.forget(name);
    try {
      if (how === 'delete') {
        logs.deleteTopic(name);
        this.say(`${name}: deleted the local replicas (${why})`);
      } else {
        const dirs = logs.setAsideTopic(name);
        this.say(
          `${name}: set the local replicas aside (${why}): moved to ${dirs.join(', ')}; remove them once not needed`,
        );
      }
    } catch (err) {
      // kept (and not served) until a later sync manages it
      this.once(
        `failed\u0000${name}\u0000${how}`,
        `${name}: could not ${how} the local replicas (${why}): ${(err as Error).message}; retrying on the next metadata change`,
      );
      return false;
    }
    this.seen.delete(name);
    for (const k of [...this.noted]) if (k.endsWith(`\u0000${name}\u0000${how}`)) this.noted.delete(k);
    return true;
  }

  private once(key: string, message: string): void {
    if (this.noted.has(key)) return;
    this.noted.add(key);
    this.say(message);
  }
}

function sameConfigs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
