/**
 * Runs an S3SinkTask the way the Connect runtime does, but in the test's hands: a consumer in a
 * group reads the topics, records go to put(), and offsets are committed only as preCommit()
 * returns them. `crash()` abandons the task mid-flight, as a SIGKILL would: no close(), no stop(),
 * no offset commit.
 */

import type { Schema, SinkOffsets, SinkRecord } from '../../../connect/sdk.js';
import { tpKey } from '../../../connect/sdk.js';
import { S3SinkTask, type S3SinkTaskOptions } from '../../../connectors/s3-sink/index.js';
import type { Consumer, ConsumerRecord, KafkaClient } from '../../../core/client/types.js';

export type ValueOf = (r: ConsumerRecord) => { schema: Schema | null; value: unknown };

export const jsonValue: ValueOf = (r) => ({
  schema: null,
  value: r.value === null ? null : JSON.parse(r.value.toString('utf8')),
});
export const bytesValue: ValueOf = (r) => ({ schema: null, value: r.value });

export function sinkRecord(r: ConsumerRecord, toValue: ValueOf): SinkRecord {
  const { schema, value } = toValue(r);
  return {
    topic: r.topic,
    kafkaPartition: r.partition,
    kafkaOffset: r.offset,
    keySchema: null,
    key: r.key?.toString('utf8') ?? null,
    valueSchema: schema,
    value,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    headers: [],
    originalTopic: r.topic,
    originalKafkaPartition: r.partition,
    originalKafkaOffset: r.offset,
  };
}

export interface DrivenSink {
  readonly task: S3SinkTask;
  /** Polls until `done()` (checked after each round), committing every `commitEvery` rounds. */
  runUntil(done: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** preCommit + commit now. */
  commit(): Promise<void>;
  /** Records put so far. */
  readonly put: number;
  /** Abandons everything as a SIGKILL would (the consumer leaves without committing). */
  crash(): Promise<void>;
  /** A clean stop: commit, close, stop. */
  stop(): Promise<void>;
}

export async function driveSink(opts: {
  client: KafkaClient;
  topics: string[];
  group: string;
  props: Record<string, string>;
  toValue?: ValueOf;
  task?: S3SinkTaskOptions;
  commitEvery?: number;
  maxRecords?: number;
}): Promise<DrivenSink> {
  const task = new S3SinkTask(opts.task);
  task.start(opts.props);
  const consumer: Consumer = opts.client.consumer({
    'group.id': opts.group,
    'enable.auto.commit': false,
    'auto.offset.reset': 'earliest',
  });
  await consumer.subscribe(opts.topics, {
    onPartitionsAssigned: (tps) => task.open(tps),
    onPartitionsRevoked: async (tps) => {
      await commit();
      await task.close(tps);
    },
  });
  const current: SinkOffsets = new Map();
  let put = 0;
  let crashed = false;
  const toValue = opts.toValue ?? jsonValue;
  async function commit(): Promise<void> {
    if (crashed || current.size === 0) return;
    const safe = await task.preCommit(new Map([...current].map(([k, v]) => [k, { ...v }])));
    if (crashed) return;
    const offsets = [...safe.values()].map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
    }));
    if (offsets.length > 0) await consumer.commit(offsets);
  }
  let rounds = 0;
  return {
    task,
    get put() {
      return put;
    },
    commit,
    async runUntil(done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!crashed) {
        const records = await consumer.poll({ timeoutMs: 100, maxRecords: opts.maxRecords ?? 500 });
        if (crashed) return;
        if (records.length > 0) {
          await task.put(records.map((r) => sinkRecord(r, toValue)));
          if (crashed) return;
          put += records.length;
          for (const r of records)
            current.set(tpKey(r.topic, r.partition), {
              topic: r.topic,
              partition: r.partition,
              offset: r.offset + 1,
            });
        } else {
          await task.put([]);
        }
        if (++rounds % (opts.commitEvery ?? 1) === 0) await commit();
        if (await done()) return;
        if (Date.now() > deadline)
          throw new Error(`the sink did not finish in ${timeoutMs} ms (${put} records put)`);
      }
    },
    async crash() {
      crashed = true;
      await consumer.close().catch(() => {});
    },
    async stop() {
      await commit();
      await consumer.close();
      await task.stop();
    },
  };
}
