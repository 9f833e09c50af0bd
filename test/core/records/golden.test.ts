/**
 * Golden record batches (test/fixtures/records/, README.md there):
 *
 * - `<scenario>.produce-*`: batches real clients wrote into Produce requests (kcat on
 *   librdkafka 2.0.2 and 2.12.0, kafkajs 2.2.4, kafka-python 2.0.2), one per codec, captured by
 *   tools/capture/; `<scenario>.fetch-transactional`: transactional batches as the broker
 *   (librdkafka's mock) returned them. Their JSON has the records the client was given
 *   (`input`) and kafka-python's decoding of the bytes (`batches`), an implementation
 *   independent of ours.
 * - `kafkajs-*`: batches encoded by kafkajs 2.2.4's RecordBatch encoder from the JSON's
 *   `encode` inputs (tools/capture/kafkajs-batches.mjs); uncompressed ones our encoder must
 *   reproduce byte for byte.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  type BatchOptions,
  Compression,
  type DecodedBatch,
  type DecodedRecord,
  decodeBatch,
  decodeBatches,
  encodeBatch,
  scanBatches,
  validateRecords,
} from '../../../core/records/index.js';
import {
  batchFields,
  type FixtureBatch,
  type FixtureBytes,
  type FixtureRecord,
  fixtureInputs,
  loadFixture,
  recordsSha256,
  toFixtureRecord,
} from './helpers.js';

const DIR = new URL('../../fixtures/records/', import.meta.url);
const HEADER_SIZE = 61;

/** Batches encoded by kafkajs's encoder from inputs; all other fixtures are captures. */
const KAFKAJS = [
  'kafkajs-basic',
  'kafkajs-nulls-unicode',
  'kafkajs-transactional',
  'kafkajs-varint-sizes',
  'kafkajs-gzip',
];

// ------------------------------------------------------------------------- captured batches

interface InputRecord {
  key: FixtureBytes;
  value: FixtureBytes;
  headers: [string, FixtureBytes][];
}

/** A list, or for long ones its length, first three items and SHA-256 of JSON.stringify. */
type Listed<T> = T[] | { count: number; first: T[]; sha256: string };

interface CapturedFixture {
  source: string;
  writtenBy: string;
  codec?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  abortedTransactions?: { producerId: number; firstOffset: number }[];
  input: Listed<InputRecord>;
  batches: (Omit<FixtureBatch, 'records' | 'recordsSha256'> & {
    crc: number;
    records: Listed<FixtureRecord>;
  })[];
}

const CAPTURED = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .filter((name) => !KAFKAJS.includes(name))
  .sort();

function loadCaptured(name: string): { bytes: Buffer; fixture: CapturedFixture } {
  return {
    bytes: readFileSync(new URL(`${name}.bin`, DIR)),
    fixture: JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as CapturedFixture,
  };
}

const sha256 = (items: unknown[]) => createHash('sha256').update(JSON.stringify(items)).digest('hex');

function expectListed<T>(actual: T[], expected: Listed<T>): void {
  if (Array.isArray(expected)) {
    expect(actual).toEqual(expected);
  } else {
    expect(actual.length).toBe(expected.count);
    expect(actual.slice(0, expected.first.length)).toEqual(expected.first);
    expect(sha256(actual)).toBe(expected.sha256);
  }
}

const asInput = (r: DecodedRecord): InputRecord => {
  const { key, value, headers } = toFixtureRecord(r);
  return { key, value, headers };
};

function optionsOf(batch: DecodedBatch): BatchOptions {
  return {
    baseOffset: batch.baseOffset,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    compression: batch.compression as Compression,
    timestampType: batch.timestampType,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    transactional: batch.isTransactional,
    control: batch.isControl,
  };
}

/** The first bytes of each codec's compressed records, as each client frames them. */
const GZIP = '1f8b';
const LZ4_FRAME = '04224d18';
const ZSTD_FRAME = '28b52ffd';
const XERIAL = '82534e4150505900';

it('covers every codec for every client that has it', () => {
  const got = CAPTURED.filter((n) => /\.produce-(none|gzip|snappy|lz4|zstd)$/.test(n));
  const expected = [
    ...['none', 'gzip', 'snappy', 'lz4', 'zstd'].flatMap((c) => [
      `kcat-librdkafka-2.0.2.produce-${c}`,
      `kcat-librdkafka-2.12.0.produce-${c}`,
      `kafka-python-2.0.2.produce-${c}`,
    ]),
    // No zstd codec for kafkajs builds on Node 20 (see tools/capture/README.md).
    ...['none', 'gzip', 'snappy', 'lz4'].map((c) => `kafkajs-2.2.4.produce-${c}`),
  ];
  expect(got.sort()).toEqual(expected.sort());
});

describe.each(CAPTURED)('captured %s', (name) => {
  const { bytes, fixture } = loadCaptured(name);

  it('decodes (CRC-32C checked) to the batches kafka-python read', () => {
    const batches = decodeBatches(bytes);
    expect(batches.length).toBe(fixture.batches.length);
    let end = 0;
    batches.forEach((batch, i) => {
      const { records, ...header } = fixture.batches[i]!;
      expect({ ...batchFields(batch), crc: batch.crc }).toEqual(header);
      expectListed(batch.records.map(toFixtureRecord), records);
      end += batch.batchLength + 12;
    });
    expect(end).toBe(bytes.length);
  });

  it('holds exactly the records the client was given', () => {
    const records = decodeBatches(bytes)
      .filter((b) => !b.isControl)
      .flatMap((b) => b.records.map(asInput));
    expectListed(records, fixture.input);
  });

  it('passes the deep record checks', () => {
    const { batches, error } = scanBatches(bytes, 0, bytes.length, (pos) => {
      expect(validateRecords(bytes, pos)).toBeNull();
      return true;
    });
    expect(error).toBeNull();
    expect(batches).toBe(fixture.batches.length);
  });

  it("compresses with the client's framing", () => {
    for (const batch of decodeBatches(bytes)) expect(batch.compression).toBe(codecNumber(fixture.codec));
    const start = bytes.subarray(HEADER_SIZE).toString('hex');
    const xerial = fixture.writtenBy.startsWith('kafka-python');
    switch (fixture.codec) {
      case 'gzip':
        expect(start.startsWith(GZIP)).toBe(true);
        break;
      case 'snappy':
        // kafka-python frames snappy as the Java client does (xerial); librdkafka and
        // kafkajs-snappy write one raw block.
        expect(start.startsWith(XERIAL)).toBe(xerial);
        break;
      case 'lz4':
        expect(start.startsWith(LZ4_FRAME)).toBe(true);
        break;
      case 'zstd':
        expect(start.startsWith(ZSTD_FRAME)).toBe(true);
        break;
      default:
        expect(decodeBatches(bytes).every((b) => b.compression === Compression.None)).toBe(true);
    }
  });

  it('re-encodes to the same bytes (uncompressed) or the same batch (compressed)', () => {
    scanBatches(bytes, 0, bytes.length, (pos, size) => {
      const batch = decodeBatch(bytes, pos);
      const again = encodeBatch(batch.records, optionsOf(batch));
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
});

function codecNumber(codec: CapturedFixture['codec']): number {
  if (codec === undefined) return Compression.None;
  return {
    none: Compression.None,
    gzip: Compression.Gzip,
    snappy: Compression.Snappy,
    lz4: Compression.Lz4,
    zstd: Compression.Zstd,
  }[codec];
}

describe('multi-block compressed batches', () => {
  it('librdkafka LZ4 frames of more than one block decode', () => {
    for (const lib of ['2.0.2', '2.12.0']) {
      const { bytes } = loadCaptured(`kcat-librdkafka-${lib}.produce-many-lz4`);
      const [batch] = decodeBatches(bytes);
      expect(batch!.recordCount).toBe(2000);
      // Frame: magic, FLG, BD (0x40: 64 KB blocks), [content size], HC; then blocks, each
      // a little-endian size (high bit: stored uncompressed) and data; then a 0 end mark.
      const flg = bytes[HEADER_SIZE + 4]!;
      expect(bytes[HEADER_SIZE + 5]).toBe(0x40);
      let pos = HEADER_SIZE + 7 + (flg & 0x08 ? 8 : 0);
      let blocks = 0;
      for (let size = bytes.readUInt32LE(pos); size !== 0; size = bytes.readUInt32LE(pos)) {
        pos += 4 + (size & 0x7fffffff) + (flg & 0x10 ? 4 : 0);
        blocks++;
      }
      expect(pos + 4 + (flg & 0x04 ? 4 : 0)).toBe(bytes.length);
      expect(blocks).toBeGreaterThan(1);
    }
  });

  it('kafka-python xerial snappy of more than one 32 KB block decodes', () => {
    const { bytes } = loadCaptured('kafka-python-2.0.2.produce-many-snappy');
    const [batch] = decodeBatches(bytes);
    expect(batch!.recordCount).toBe(2000);
    // After the 16-byte xerial header: [int32 length, block] repeated.
    let pos = HEADER_SIZE + 16;
    let blocks = 0;
    while (pos < bytes.length) {
      pos += 4 + bytes.readInt32BE(pos);
      blocks++;
    }
    expect(pos).toBe(bytes.length);
    expect(blocks).toBeGreaterThan(1);
  });
});

describe('batches a broker stored and returned', () => {
  it('keep the producer id, epoch, sequence and transactional flag of the Produce request', () => {
    for (const scenario of ['kcat-librdkafka-2.0.2', 'kcat-librdkafka-2.12.0']) {
      const produced = decodeBatches(loadCaptured(`${scenario}.produce-transactional-zstd`).bytes);
      const fetched = decodeBatches(loadCaptured(`${scenario}.fetch-transactional`).bytes);
      expect(fetched.map(optionsOf)).toEqual(produced.map(optionsOf));
      expect(fetched.every((b) => b.isTransactional && b.producerId >= 0)).toBe(true);
      expect(fetched.flatMap((b) => b.records)).toEqual(produced.flatMap((b) => b.records));
    }
  });
});

// ------------------------------------------------------------------------- kafkajs encoder

describe.each(KAFKAJS)('kafkajs encoder fixture %s', (name) => {
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

  it('passes the deep record checks', () => {
    scanBatches(bytes, 0, bytes.length, (pos) => {
      expect(validateRecords(bytes, pos)).toBeNull();
      return true;
    });
  });

  const encode = fixture.encode!;
  const options: BatchOptions = {
    baseOffset: encode.options.baseOffset as number,
    partitionLeaderEpoch: encode.options.partitionLeaderEpoch as number,
    producerId: encode.options.producerId as number,
    producerEpoch: encode.options.producerEpoch as number,
    baseSequence: encode.options.baseSequence as number,
    transactional: (encode.options.transactional as boolean | undefined) ?? false,
    compression: ((encode.options.compression as number | undefined) ?? 0) as Compression,
  };
  it('is reproduced by encodeBatch from the same inputs', () => {
    const ours = encodeBatch(fixtureInputs(fixture), options);
    if (options.compression === Compression.None) {
      expect(ours.equals(bytes)).toBe(true);
    } else {
      // Compressed bytes differ by library: compare what they hold.
      expect({ ...decodeBatch(ours), crc: 0, batchLength: 0 }).toEqual({
        ...decodeBatch(bytes),
        crc: 0,
        batchLength: 0,
      });
    }
  });
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
