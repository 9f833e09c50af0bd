/**
 * Record batch v2 benchmark: encode and decode rates (records/s, MB/s of uncompressed batch
 * bytes) for 100 B and 1 KiB values in batches of 1000 records, uncompressed and with each
 * codec; BatchBuilder; validateBatch (CRC-32C) throughput.
 *
 *   npm run build && node dist/bench/records.js
 */
import { pathToFileURL } from 'node:url';
import {
  BatchBuilder,
  COMPRESSION_NAMES,
  crc32cBackend,
  decodeBatch,
  encodeBatch,
  forEachRecord,
  type RecordInput,
  validateBatch,
} from '../core/records/index.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const RECORDS_PER_BATCH = 1000;
const MIN_TIME_MS = 400;

/** Text-like values (compress about 2:1), from a fixed seed so every run sees the same bytes. */
function makeRecords(valueSize: number, count: number): RecordInput[] {
  let seed = 0x2545f491;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const words = ['kafka', 'log', 'offset', 'topic', 'record', 'batch', 'broker', '{"id":', '"ts":', ','];
  const records: RecordInput[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    let s = '';
    while (s.length < valueSize)
      s += `${words[Math.floor(next() * words.length)]}${Math.floor(next() * 1000)} `;
    records.push({ value: Buffer.from(s.slice(0, valueSize)), timestamp: now + i });
  }
  return records;
}

/** Runs fn until MIN_TIME_MS has passed (after a warm-up); returns operations per second. */
function opsPerSecond(fn: () => void): number {
  const warmEnd = performance.now() + MIN_TIME_MS / 4;
  while (performance.now() < warmEnd) fn();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_TIME_MS) {
    for (let i = 0; i < 10; i++) fn();
    ops += 10;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

const mb = (bytes: number): number => bytes / 1e6;

export async function runRecordsBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const add = (name: string, value: number, unit: string, note?: string): void => {
    results.push(note === undefined ? { name, value, unit } : { name, value, unit, note });
  };
  let sink = 0;

  for (const valueSize of [100, 1024]) {
    const records = makeRecords(valueSize, RECORDS_PER_BATCH);
    const plainSize = encodeBatch(records).length;
    for (let codec = 0; codec < COMPRESSION_NAMES.length; codec++) {
      const label = `${COMPRESSION_NAMES[codec]} ${valueSize}B`;
      const opts = { compression: codec };
      const batch = encodeBatch(records, opts);
      const note = `${RECORDS_PER_BATCH} records, ${plainSize} B batch${codec ? ` → ${batch.length} B` : ''}`;
      const enc = opsPerSecond(() => {
        sink ^= encodeBatch(records, opts).length;
      });
      const dec = opsPerSecond(() => {
        sink ^= decodeBatch(batch).records.length;
      });
      add(`encode ${label}`, enc * RECORDS_PER_BATCH, 'records/s', note);
      add(`encode ${label}`, mb(enc * plainSize), 'MB/s');
      add(`decode ${label}`, dec * RECORDS_PER_BATCH, 'records/s', note);
      add(`decode ${label}`, mb(dec * plainSize), 'MB/s');
      if (codec === 0) {
        const both = 1 / (1 / enc + 1 / dec);
        add(
          `encode+decode ${label}`,
          both * RECORDS_PER_BATCH,
          'records/s',
          'one encode then one decode per batch',
        );
        const built = opsPerSecond(() => {
          const builder = new BatchBuilder();
          for (const rec of records) builder.append(rec);
          sink ^= builder.build().length;
        });
        add(
          `BatchBuilder ${label}`,
          built * RECORDS_PER_BATCH,
          'records/s',
          'append each record, then build',
        );
        const each = opsPerSecond(() => {
          forEachRecord(batch, 0, (rec) => {
            sink ^= rec.offset;
          });
        });
        add(`forEachRecord ${label}`, each * RECORDS_PER_BATCH, 'records/s');
      }
    }
  }

  for (const size of [16 * 1024, 1024 * 1024]) {
    const batch = encodeBatch(makeRecords(1024, Math.max(1, Math.floor(size / 1040))));
    const ops = opsPerSecond(() => {
      sink ^= validateBatch(batch) === null ? 1 : 0;
    });
    add(`validateBatch ${batch.length} B`, mb(ops * batch.length), 'MB/s', `CRC-32C via ${crc32cBackend}`);
  }
  if (sink === 0.5) console.log(sink); // keep results observable
  return results;
}

function printTable(results: BenchResult[]): void {
  for (const r of results) {
    const value = r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(2);
    console.log(`${r.name.padEnd(28)} ${value.padStart(14)} ${r.unit.padEnd(10)} ${r.note ?? ''}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runRecordsBench());
}
