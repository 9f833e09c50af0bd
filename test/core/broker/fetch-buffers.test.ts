/**
 * The fetch path reads records into reused memory (core/log/read-buffers.ts) and hands it to the
 * socket; a buffer goes back to the pool only when the socket has written it. These tests read
 * fetch responses that were held up in the broker's socket buffer while other fetches ran, and
 * check every byte.
 */
import { createConnection, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../../core/broker/framing.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { decodeResponseFrame, encodeRequestFrame } from '../../../core/protocol/frames.js';
import { batchSize, decodeBatches, encodeBatch, validateBatch } from '../../../core/records/index.js';
import { startTestBroker } from '../../helpers/broker.js';

const TOPIC = 'pooled';
const BATCHES = 48;
const RECORDS_PER_BATCH = 100;
const VALUE_BYTES = 1000;

/** The value of the record at `offset`: its offset, repeated. */
function valueAt(offset: number): Buffer {
  const v = Buffer.alloc(VALUE_BYTES);
  for (let i = 0; i + 8 <= VALUE_BYTES; i += 8) v.writeDoubleBE(offset, i);
  return v;
}

function fetchFrame(correlationId: number, fetchOffset: number, partitionMaxBytes: number): Buffer[] {
  return encodeRequestFrame(
    { apiKey: ApiKey.Fetch, apiVersion: 11, correlationId, clientId: 'slow-reader' },
    {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 64 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes }] }],
      forgottenTopicsData: [],
      rackId: '',
    },
  );
}

/** Every record of a Fetch response's partition, checked (CRC-32C, value = f(offset)); returns the offsets. */
function checkRecords(records: Buffer | null): number[] {
  const offsets: number[] = [];
  if (records === null) return offsets;
  for (let pos = 0; pos < records.length; ) {
    expect(validateBatch(records, pos)).toBeNull(); // framing and CRC-32C
    pos += batchSize(records, pos);
  }
  for (const batch of decodeBatches(records)) {
    for (const r of batch.records) {
      expect(Buffer.compare(Buffer.from(r.value!), valueAt(r.offset))).toBe(0);
      offsets.push(r.offset);
    }
  }
  return offsets;
}

describe('fetch into reused read buffers', () => {
  it('delivers intact bytes to a reader whose responses wait in the socket while other fetches reuse memory', async () => {
    const broker = await startTestBroker();
    broker.broker.logs.createTopic(TOPIC, { partitions: 1 });
    const log = broker.broker.logs.getLog(TOPIC, 0);
    for (let b = 0; b < BATCHES; b++) {
      const base = b * RECORDS_PER_BATCH;
      const values = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ value: valueAt(base + i) }));
      const appended = log.append(encodeBatch(values), { assignOffsets: true });
      expect(appended.firstOffset).toBe(base);
    }
    log.setHighWatermark(log.logEndOffset);

    // The slow reader pipelines one fetch per batch and reads nothing for a while: the broker's
    // socket buffer fills, and the responses after it wait in memory, unwritten.
    const slow: Socket = createConnection({ host: broker.host, port: broker.port });
    await new Promise<void>((res, rej) => slow.once('connect', res).once('error', rej));
    slow.pause();
    for (let b = 0; b < BATCHES; b++) {
      for (const chunk of fetchFrame(b, b * RECORDS_PER_BATCH, 1_000_000)) slow.write(chunk);
    }
    await new Promise((res) => setTimeout(res, 200));

    // Meanwhile a second connection fetches the same log over and over (other offsets first),
    // taking buffers from the pool; a buffer given back too early would be overwritten here.
    const other: Socket = createConnection({ host: broker.host, port: broker.port });
    await new Promise<void>((res, rej) => other.once('connect', res).once('error', rej));
    const otherSplitter = new FrameSplitter(64 * 1024 * 1024);
    let otherAnswers = 0;
    const otherDone = new Promise<void>((resolve, reject) => {
      other.on('data', (chunk: Buffer) => {
        otherSplitter.push(chunk);
        for (let f = otherSplitter.next(); f !== null; f = otherSplitter.next()) {
          try {
            const res = decodeResponseFrame(ApiKey.Fetch, 11, f);
            checkRecords(res.body.responses[0]!.partitions[0]!.records);
          } catch (err) {
            reject(err);
          }
          if (++otherAnswers === 3 * BATCHES) resolve();
        }
      });
      other.on('error', reject);
    });
    for (let i = 0; i < 3 * BATCHES; i++) {
      const b = BATCHES - 1 - (i % BATCHES);
      for (const chunk of fetchFrame(i, b * RECORDS_PER_BATCH, 300_000)) other.write(chunk);
    }
    await otherDone;
    other.destroy();

    // Now the slow reader reads everything: every batch once, in order, every byte as written.
    const splitter = new FrameSplitter(64 * 1024 * 1024);
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      let answers = 0;
      slow.on('data', (chunk: Buffer) => {
        splitter.push(chunk);
        for (let f = splitter.next(); f !== null; f = splitter.next()) {
          try {
            const res = decodeResponseFrame(ApiKey.Fetch, 11, f);
            expect(res.correlationId).toBe(answers);
            const part = res.body.responses[0]!.partitions[0]!;
            expect(part.errorCode).toBe(0);
            const offsets = checkRecords(part.records);
            expect(offsets[0]).toBe(answers * RECORDS_PER_BATCH);
            seen.push(...offsets.filter((o) => o < (answers + 1) * RECORDS_PER_BATCH));
          } catch (err) {
            reject(err);
          }
          if (++answers === BATCHES) resolve();
        }
      });
      slow.on('error', reject);
      slow.resume();
    });
    slow.destroy();
    expect(seen).toEqual(Array.from({ length: BATCHES * RECORDS_PER_BATCH }, (_, i) => i));
    // The memory was reused, not allocated per fetch.
    const pool = broker.broker.replicas.readBuffers;
    expect(pool.reused).toBeGreaterThan(0);
    expect(pool.allocated).toBeLessThan(4 * BATCHES);
  });
});
