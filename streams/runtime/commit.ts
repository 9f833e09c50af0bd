/**
 * The commit protocol, in one place (exactly-once with transactions would replace this class):
 *
 *  1. send what the tasks produced and wait for it (output records, changelog records);
 *  2. per store: its dirty entries to its changelog, then a marker `{ seq, offsets }`; wait;
 *  3. per store: the same entries to LevelDB in one batch; then the task's checkpoint file;
 *  4. commit the input offsets to the consumer group.
 *
 * A crash anywhere loses nothing: restore applies only commits whose markers all landed and
 * resumes input from that commit's offsets (markers.ts). Output records may repeat after a crash
 * (at-least-once), with the same values, so the latest value per key is exact.
 */
import { join } from 'node:path';
import type { Consumer, Producer, ProducerRecord, TopicPartitionOffset } from '../../core/client/types.js';
import type { BackendWrite } from '../state/backend.js';
import { type Checkpoint, writeCheckpoint } from './checkpoint.js';
import { encodeMarker, MARKER_HEADER, markerKey } from './markers.js';
import type { Task } from './task.js';

export interface CommitHost {
  producer: Producer;
  consumer: Consumer;
  taskDir(task: Task): string;
  changelogTopic(store: string): string;
  /** Sends the buffered output and resolves when everything sent so far is acknowledged. */
  flushOutput(): Promise<void>;
}

export class CommitProtocol {
  commits = 0;

  constructor(private readonly host: CommitHost) {}

  /** Commits the given tasks (those with something new). */
  async commit(tasks: readonly Task[], force = false): Promise<void> {
    const due = tasks.filter((t) => force || t.hasUncommitted);
    await this.host.flushOutput();
    if (due.length === 0) return;
    const writes = new Map<Task, Map<string, BackendWrite[]>>();
    const markerSends: Promise<{ task: Task; store: string; offset: number }>[] = [];
    const changelogSends: Promise<unknown>[] = [];
    for (const task of due) {
      const offsets = Object.fromEntries(task.positions);
      const perStore = new Map<string, BackendWrite[]>();
      writes.set(task, perStore);
      if (task.stores.size === 0) continue;
      const seq = task.commitSeq + 1;
      for (const [name, ts] of task.stores) {
        const topic = this.host.changelogTopic(name);
        const dirty = ts.store.dirtyWrites();
        perStore.set(name, dirty);
        const records: ProducerRecord[] = dirty.map((w) => ({
          topic,
          partition: task.partition,
          key: w.key,
          value: w.value,
        }));
        if (records.length > 0) changelogSends.push(this.host.producer.sendAll(records));
        markerSends.push(
          this.host.producer
            .send({
              topic,
              partition: task.partition,
              key: markerKey(seq),
              value: encodeMarker({
                seq,
                offsets,
                streamTimeMs: task.streamTime(),
                applied: Object.fromEntries(task.applied),
              }),
              headers: [{ key: MARKER_HEADER, value: null }],
            })
            .then((m) => ({ task, store: name, offset: m.offset })),
        );
      }
    }
    await this.host.producer.flush();
    await Promise.all(changelogSends);
    const markers = await Promise.all(markerSends);
    for (const task of due) {
      const perStore = writes.get(task)!;
      const changelog: Record<string, number> = {};
      for (const [name, ts] of task.stores) {
        await ts.store.backend!.write(perStore.get(name) ?? []);
        ts.store.markClean();
        const m = markers.find((x) => x.task === task && x.store === name);
        if (m && !ts.inMemory) changelog[name] = m.offset + 1;
      }
      if (task.stores.size > 0) {
        task.commitSeq++;
        const cp: Checkpoint = {
          version: 1,
          seq: task.commitSeq,
          offsets: Object.fromEntries(task.positions),
          streamTimeMs: task.streamTime(),
          applied: Object.fromEntries(task.applied),
          changelog,
        };
        writeCheckpoint(this.host.taskDir(task), cp);
      }
    }
    const offsets: TopicPartitionOffset[] = [];
    for (const task of due) {
      for (const [topic, offset] of task.positions)
        offsets.push({ topic, partition: task.partition, offset });
      task.committedPositions = new Map(task.positions);
    }
    if (offsets.length > 0) await this.host.consumer.commit(offsets);
    this.commits++;
  }
}

export function taskDirOf(stateDir: string, applicationId: string, partition: number): string {
  return join(stateDir, applicationId, String(partition));
}
