#!/usr/bin/env node
/**
 * Re-creates test/fixtures/records/kafkajs-*.bin with kafkajs 2.2.4's own RecordBatch and
 * Record encoders (node_modules/kafkajs/src/protocol/recordBatch/), from the inputs in each
 * fixture's JSON `encode` section, and checks the result against the committed bytes (a gzip
 * batch is compared by content: its compressed bytes depend on the zlib build).
 *
 *   node tools/capture/kafkajs-batches.mjs          # check
 *   node tools/capture/kafkajs-batches.mjs --write  # overwrite the .bin files
 *
 * Uncompressed record batches are deterministic, so our encoder must reproduce these bytes
 * exactly (test/core/records/golden.test.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const Decoder = require('kafkajs/src/protocol/decoder');
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');

const DIR = fileURLToPath(new URL('../../test/fixtures/records/', import.meta.url));
const NAMES = [
  'kafkajs-basic',
  'kafkajs-gzip',
  'kafkajs-nulls-unicode',
  'kafkajs-transactional',
  'kafkajs-varint-sizes',
];

/** A fixture input value: string, null, {hex}, or {repeat, count}. */
function bytes(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if ('hex' in v) return Buffer.from(v.hex, 'hex');
  return Buffer.from(v.repeat.repeat(v.count), 'utf8');
}

async function encode(fixture) {
  const { options, records } = fixture.encode;
  const firstTimestamp = records[0].timestamp;
  const maxTimestamp = Math.max(...records.map((r) => r.timestamp));
  const encoded = records.map((r, i) =>
    Record({
      offsetDelta: i,
      timestampDelta: r.timestamp - firstTimestamp,
      key: bytes(r.key),
      value: bytes(r.value),
      // kafkajs takes headers as an object; a repeated key is an array of values.
      headers: (r.headers ?? []).reduce((h, [k, v]) => {
        const value = bytes(v);
        if (k in h) h[k] = [].concat(h[k], value);
        else h[k] = value;
        return h;
      }, {}),
    }),
  );
  const batch = await RecordBatch({
    compression: options.compression ?? 0,
    firstOffset: BigInt(options.baseOffset).toString(),
    firstTimestamp,
    maxTimestamp,
    partitionLeaderEpoch: options.partitionLeaderEpoch,
    lastOffsetDelta: records.length - 1,
    transactional: options.transactional ?? false,
    producerId: BigInt(options.producerId).toString(),
    producerEpoch: options.producerEpoch,
    firstSequence: options.baseSequence,
    records: encoded,
  });
  return batch.buffer;
}

const summary = async (buf) => {
  const d = await decodeBatch(new Decoder(buf));
  return JSON.stringify(d.records.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers]));
};

const write = process.argv.includes('--write');
let failed = 0;
for (const name of NAMES) {
  const fixture = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
  const ours = await encode(fixture);
  const committed = readFileSync(join(DIR, `${name}.bin`));
  const compressed = (fixture.encode.options.compression ?? 0) !== 0;
  const same = compressed ? (await summary(ours)) === (await summary(committed)) : ours.equals(committed);
  console.log(
    `${name}: ${same ? 'reproduced' : 'DIFFERS'}${compressed ? ' (by content)' : ' (byte for byte)'}`,
  );
  if (!same) failed++;
  if (write) writeFileSync(join(DIR, `${name}.bin`), ours);
}
process.exitCode = failed && !write ? 1 : 0;
