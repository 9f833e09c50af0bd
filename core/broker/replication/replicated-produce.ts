/**
 * Produce on a broker of a multi-node cluster (ReplicaManager delegates here when replication is
 * on): only the leader appends, stamping its leader epoch; acks=all is refused with
 * NOT_ENOUGH_REPLICAS when the ISR is smaller than min.insync.replicas, and otherwise waits until
 * the high watermark passes the batch (Kafka's DelayedProduce), bounded by the request's timeout
 * (REQUEST_TIMED_OUT). When the leader is alone in the ISR the batch is also fsynced, so that
 * acks=all keeps meaning durable.
 */
import { LogError } from '../../log/errors.js';
import type { PartitionLog } from '../../log/log.js';
import { ErrorCode } from '../../protocol/errors.js';
import { failProduceResult, startProduceResult } from '../produce-result.js';
import type { PartitionProduce, PartitionProduceResult } from '../replica-manager.js';
import type { ReplicationManager } from './replication-manager.js';

export interface ProduceDeps {
  /** 0 when this broker leads the partition, else the Kafka error code. */
  leaderCheck(topic: string, partition: number): number;
  /** Wakes fetches (followers' long polls) waiting on the log. */
  wake(log: PartitionLog): void;
  /** Throws INVALID_RECORD for keyless records (compacted topics). */
  requireKeys(topic: string, records: Buffer): void;
}

/** Produce on a cluster broker: leaders only; acks=all waits for the high watermark. */
export async function produceReplicated(
  repl: ReplicationManager,
  entries: readonly PartitionProduce[],
  opts: { acks: number; timeoutMs: number },
  deps: ProduceDeps,
): Promise<PartitionProduceResult[]> {
  const { acks } = opts;
  const results: PartitionProduceResult[] = [];
  const waits: Promise<void>[] = [];
  for (const e of entries) {
    const result = startProduceResult(e, acks);
    results.push(result);
    if (result.errorCode !== 0) continue;
    try {
      result.errorCode = deps.leaderCheck(e.topic, e.partition);
      if (result.errorCode !== 0) {
        result.errorMessage = `this broker (${repl.selfId}) does not lead ${e.topic}-${e.partition}`;
        continue;
      }
      const p = repl.partition(e.topic, e.partition)!;
      const log = p.log;
      if (!e.records || e.records.length === 0) {
        throw new LogError('CORRUPT_MESSAGE', `produce to ${e.topic}-${e.partition} carried no record batch`);
      }
      const minIsr = log.config['min.insync.replicas'];
      if (acks === -1 && p.isr.length < minIsr) {
        result.errorCode = ErrorCode.NOT_ENOUGH_REPLICAS;
        result.errorMessage =
          `${e.topic}-${e.partition} requires min.insync.replicas=${minIsr} ` +
          `but its ISR is [${p.isr.join(',')}]`;
        continue;
      }
      if (log.config['cleanup.policy'].includes('compact')) deps.requireKeys(e.topic, e.records);
      const appended = log.append(e.records, { assignOffsets: true, leaderEpoch: p.leaderEpoch });
      result.baseOffset = appended.firstOffset;
      result.logAppendTime = appended.logAppendTime;
      result.logStartOffset = appended.logStartOffset;
      if (!appended.duplicate) {
        deps.wake(log); // followers long-polling for data
        p.maybeAdvanceHighWatermark();
      }
      if (acks !== -1) continue;
      const end = appended.lastOffset + 1;
      const flushed = p.aloneInIsr ? log.flush() : Promise.resolve();
      waits.push(
        (async () => {
          try {
            const [, code] = await Promise.all([
              flushed,
              p.waitForHighWatermark(end, opts.timeoutMs, minIsr),
            ]);
            // The ISR may have shrunk to this broker while the batch waited: durable before the ack.
            if (code === 0 && p.aloneInIsr && log.flushedOffset < end) await log.flush();
            if (code === 0) return;
            result.errorCode = code;
            result.errorMessage =
              code === ErrorCode.REQUEST_TIMED_OUT
                ? `the in-sync replicas of ${e.topic}-${e.partition} did not all confirm within ${opts.timeoutMs} ms`
                : null;
          } catch (err) {
            result.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
            result.errorMessage = `fsync failed: ${(err as Error).message}`;
          }
        })(),
      );
    } catch (err) {
      failProduceResult(result, err);
    }
  }
  if (waits.length > 0) await Promise.all(waits);
  return results;
}
