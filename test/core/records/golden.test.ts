import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  type BatchOptions,
  Compression,
  decodeBatch,
  decodeBatches,
  encodeBatch,
  scanBatches,
  validateRecords,
} from '../../../core/records/index.js';
import { batchFields, fixtureInputs, loadFixture, recordsSha256, toFixtureRecord } from './helpers.js';

const FIXTURES = [
  'kafkajs-basic',
  'kafkajs-nulls-unicode',
  'kafkajs-transactional',
  'kafkajs-varint-sizes',
  'kafkajs-gzip',
  'librdkafka-none',
  'librdkafka-gzip',
  'librdkafka-snappy',
  'librdkafka-lz4',
  'librdkafka-zstd',
];

describe.each(FIXTURES)('fixture %s', (name) => {
  const { bytes, fixture } = loadFixture(name);

  it('decodes to the expected header fields and records', () => {
    const batches = decodeBatches(bytes);
    expect(batches.length).toBe(fixture.batches.length);
    batches.forEach((batch, i) => {
      const { records, recordsSha256: digest, ...header } = fixture.batches[i]!;
      expect(batchFields(batch)).toEqual(header);
      if (digest === undefined) {
        expect(batch.records.map(toFixtureRecord)).toEqual(records);
      } else {
        expect(batch.records.slice(0, records.length).map(toFixtureRecord)).toEqual(records);
        expect(recordsSha256(batch.records)).toBe(digest);
      }
    });
  });

  it('re-encodes to the same bytes (uncompressed) or the same records (compressed)', () => {
    scanBatches(bytes, 0, bytes.length, (pos, size) => {
      const batch = decodeBatch(bytes, pos);
      const again = encodeBatch(batch.records, {
        baseOffset: batch.baseOffset,
        partitionLeaderEpoch: batch.partitionLeaderEpoch,
        compression: batch.compression,
        timestampType: batch.timestampType,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
        transactional: batch.isTransactional,
        control: batch.isControl,
      });
      if (batch.compression === Compression.None) {
        expect(again.equals(bytes.subarray(pos, pos + size))).toBe(true);
      } else {
        expect({ ...decodeBatch(again), crc: 0, batchLength: 0 }).toEqual({
          ...batch,
          crc: 0,
          batchLength: 0,
        });
      }
      return true;
    });
  });

  it('passes the deep record checks', () => {
    scanBatches(bytes, 0, bytes.length, (pos) => {
      expect(validateRecords(bytes, pos)).toBeNull();
      return true;
    });
  });

  if (fixture.encode) {
    const encode = fixture.encode;
    const options: BatchOptions = {
      baseOffset: encode.options.baseOffset as number,
      partitionLeaderEpoch: encode.options.partitionLeaderEpoch as number,
      producerId: encode.options.producerId as number,
      producerEpoch: encode.options.producerEpoch as number,
      baseSequence: encode.options.baseSequence as number,
      transactional: (encode.options.transactional as boolean | undefined) ?? false,
      compression: (encode.options.compression as number | undefined) ?? 0,
    };
    if (options.compression === Compression.None) {
      it('is reproduced byte for byte by encodeBatch', () => {
        expect(encodeBatch(fixtureInputs(fixture), options).equals(bytes)).toBe(true);
      });
    } else {
      it('is reproduced record for record by encodeBatch (compressed bytes differ by library)', () => {
        const ours = decodeBatch(encodeBatch(fixtureInputs(fixture), options));
        const theirs = decodeBatch(bytes);
        expect({ ...ours, crc: 0, batchLength: 0 }).toEqual({ ...theirs, crc: 0, batchLength: 0 });
      });
    }
  }
});

describe('kafkajs reads what we write', () => {
  const require = createRequire(import.meta.url);
  const decodeKafkajs = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{
    records: {
      offset: string;
      timestamp: string;
      key: Buffer | null;
      value: Buffer | null;
      headers: object;
    }[];
  }>;
  const Decoder = require('kafkajs/src/protocol/decoder') as new (buf: Buffer) => unknown;

  it.each([Compression.None, Compression.Gzip])('codec %i', async (codec) => {
    const { fixture } = loadFixture('kafkajs-nulls-unicode');
    const inputs = fixtureInputs(fixture);
    const buf = encodeBatch(inputs, { compression: codec, baseOffset: 42 });
    const theirs = await decodeKafkajs(new Decoder(buf));
    const ours = decodeBatch(buf).records;
    expect(theirs.records.map((r) => [r.offset, r.timestamp, r.key, r.value])).toEqual(
      ours.map((r) => [String(r.offset), String(r.timestamp), r.key, r.value]),
    );
  });
});
