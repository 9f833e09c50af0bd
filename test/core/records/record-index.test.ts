/**
 * The record index (RecordSetReader.readIndex, core/records/record-index.ts) against the object
 * decoder (RecordSetReader.read): the same records from every golden batch real clients wrote
 * (kcat/librdkafka, kafkajs, kafka-python; every codec), the same errors at the same record
 * under fuzzing, and offsets below `minOffset` left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Compression,
  CorruptRecordError,
  type DecodedRecord,
  encodeBatch,
  HEADERS_START,
  INDEX_FIELDS,
  KEY_LENGTH,
  KEY_START,
  RecordIndex,
  RecordSetReader,
  readIndexedHeaders,
  updateBatchCrc,
  VALUE_LENGTH,
  VALUE_START,
} from '../../../core/records/index.js';
import { mulberry32, randomBytes } from './helpers.js';

const DIR = new URL('../../fixtures/records/', import.meta.url);
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20241124);

/** The records of an index, rebuilt as DecodedRecords. */
function fromIndex(index: RecordIndex<string>): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (let r = 0; r < index.runs.length; r++) {
    const run = index.runs[r]!;
    const end = r + 1 < index.runs.length ? index.runs[r + 1]!.first : index.count;
    for (let i = run.first; i < end; i++) {
      const f = i * INDEX_FIELDS;
      const bytes = (start: number, length: number): Buffer | null =>
        length < 0 ? null : run.data.subarray(start, start + length);
      out.push({
        offset: index.offsets[i]!,
        timestamp: index.timestamps[i]!,
        key: bytes(index.fields[f + KEY_START]!, index.fields[f + KEY_LENGTH]!),
        value: bytes(index.fields[f + VALUE_START]!, index.fields[f + VALUE_LENGTH]!),
        headers: readIndexedHeaders(run.data, index.fields[f + HEADERS_START]!),
      });
    }
  }
  return out;
}

type Outcome = { records: DecodedRecord[]; error: string | null };

function byObjects(buf: Buffer, minOffset: number, step: number): Outcome {
  const records: DecodedRecord[] = [];
  try {
    const reader = new RecordSetReader(buf, 0, buf.length, { verifyCrc: false });
    while (!reader.done) reader.read(step, (r) => (r.offset >= minOffset ? records.push(r) : 0));
    return { records, error: null };
  } catch (e) {
    if (!(e instanceof CorruptRecordError)) throw e;
    return { records, error: e.code };
  }
}

function byIndex(buf: Buffer, minOffset: number, step: number): Outcome {
  const index = new RecordIndex<string>(1);
  try {
    const reader = new RecordSetReader(buf, 0, buf.length, { verifyCrc: false });
    while (!reader.done) reader.readIndex(step, index, 'tag', minOffset);
    return { records: fromIndex(index), error: null };
  } catch (e) {
    if (!(e instanceof CorruptRecordError)) throw e;
    return { records: fromIndex(index), error: e.code };
  }
}

describe('record index', () => {
  const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.bin'));

  it.each(fixtures)('indexes %s as the object decoder decodes it', (name) => {
    const buf = readFileSync(new URL(name, DIR));
    const expected = byObjects(buf, 0, 1000);
    expect(expected.error).toBeNull();
    expect(expected.records.length).toBeGreaterThan(0);
    for (const step of [1, 7, 1000]) expect(byIndex(buf, 0, step)).toEqual(expected);
    const mid = expected.records[Math.floor(expected.records.length / 2)]!.offset;
    expect(byIndex(buf, mid, 3)).toEqual(byObjects(buf, mid, 3));
    expect(byIndex(buf, mid, 3).records[0]!.offset).toBe(mid);
  });

  it('grows, and tags runs by buffer and batch', () => {
    const a = encodeBatch(
      Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })),
      { baseOffset: 0 },
    );
    const b = encodeBatch(
      Array.from({ length: 30 }, (_, i) => ({ value: Buffer.from(`w${i}`) })),
      { baseOffset: 50, compression: Compression.Gzip },
    );
    const set = Buffer.concat([a, b]);
    const index = new RecordIndex<string>(1);
    const reader = new RecordSetReader(set);
    expect(reader.remaining).toBe(80);
    while (!reader.done) reader.readIndex(64, index, 'p0', 0);
    expect(reader.remaining).toBe(0);
    expect(index.count).toBe(80);
    expect(index.runs.map((r) => [r.first, r.tag, r.batch.baseOffset])).toEqual([
      [0, 'p0', 0],
      [50, 'p0', 50],
      [64, 'p0', 50],
    ]);
    expect(fromIndex(index).map((r) => r.value?.toString())).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `v${i}`),
      ...Array.from({ length: 30 }, (_, i) => `w${i}`),
    ]);
  });

  it.each([Compression.None, Compression.Gzip, Compression.Lz4, Compression.Zstd])(
    'fails where the object decoder fails, with the same records before, on mutated codec %i batches',
    (codec) => {
      let failed = 0;
      for (let i = 0; i < 500; i++) {
        const seed = BASE_SEED + codec * 10_000 + i;
        const rand = mulberry32(seed);
        const records = Array.from({ length: 1 + Math.floor(rand() * 20) }, (_, j) => ({
          key: rand() < 0.3 ? null : randomBytes(rand, Math.floor(rand() * 20)),
          value: rand() < 0.1 ? null : randomBytes(rand, Math.floor(rand() * 300)),
          headers: rand() < 0.3 ? [{ key: `h${j}`, value: rand() < 0.5 ? null : randomBytes(rand, 5) }] : [],
          timestamp: 1_700_000_000_000 + Math.floor(rand() * 1e9) - 5e8,
        }));
        const buf = encodeBatch(records, { compression: codec, baseOffset: Math.floor(rand() * 1e6) });
        const mutations = Math.floor(rand() * 4);
        for (let m = 0; m < mutations; m++) {
          const at = 61 + Math.floor(rand() * (buf.length - 61));
          buf[at] = rand() < 0.5 ? buf[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
        }
        updateBatchCrc(buf, 0);
        const step = 1 + Math.floor(rand() * 10);
        const expected = byObjects(buf, 0, step);
        const got = byIndex(buf, 0, step);
        expect(got.error, `seed ${seed}`).toBe(expected.error);
        expect(got.records, `seed ${seed}`).toEqual(expected.records);
        if (got.error !== null) failed++;
      }
      expect(failed).toBeGreaterThan(20); // the mutations do reach the record framing
    },
  );
});
