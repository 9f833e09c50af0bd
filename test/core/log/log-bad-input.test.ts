import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../../core/log/errors.js';
import type { PartitionLog } from '../../../core/log/log.js';
import { updateBatchCrc } from '../../../core/records/index.js';
import { batch, openLog, readAll } from './helpers.js';

function snapshotDir(log: PartitionLog): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(log.dir).sort()) {
    out[name] = fs.readFileSync(path.join(log.dir, name)).toString('hex');
  }
  return out;
}

function refuses(log: PartitionLog, bytes: Buffer, code: string, message?: RegExp): void {
  const leo = log.logEndOffset;
  const before = snapshotDir(log);
  let caught: unknown;
  try {
    log.append(bytes);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'the append should have thrown').toBeInstanceOf(LogError);
  expect((caught as LogError).code).toBe(code);
  if (message) expect((caught as LogError).message).toMatch(message);
  expect(log.logEndOffset).toBe(leo);
  expect(snapshotDir(log)).toEqual(before);
}

describe('PartitionLog refuses bad input and stays unchanged', () => {
  it('refuses a batch with a bad CRC', () => {
    const log = openLog();
    log.append(batch(3));
    const b = batch(2);
    b[b.length - 1] ^= 0xff;
    refuses(log, b, 'CORRUPT_MESSAGE', /CRC/);
    log.close();
  });

  it('refuses a bad CRC in the middle of a multi-batch append: nothing is appended', () => {
    const log = openLog();
    log.append(batch(3));
    const bad = batch(2);
    bad[70] ^= 0x01;
    refuses(log, Buffer.concat([batch(1), bad, batch(1)]), 'CORRUPT_MESSAGE');
    expect(readAll(log).length).toBe(3);
    log.close();
  });

  it('refuses bad lengths: too small, longer than the buffer, trailing garbage', () => {
    const log = openLog();
    log.append(batch(1));
    const small = batch(1);
    small.writeInt32BE(10, 8);
    refuses(log, small, 'CORRUPT_MESSAGE', /batchLength 10/);
    const long = batch(1);
    long.writeInt32BE(long.length, 8);
    refuses(log, long, 'CORRUPT_MESSAGE');
    refuses(log, Buffer.concat([batch(1), Buffer.from([1, 2, 3])]), 'CORRUPT_MESSAGE', /truncated/);
    log.close();
  });

  it('refuses a batch with the wrong magic', () => {
    const log = openLog();
    const b = batch(1);
    b[16] = 1;
    refuses(log, b, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', /magic 1/);
    log.close();
  });

  it('refuses a batch over max.message.bytes, saying the sizes', () => {
    const log = openLog({ 'max.message.bytes': 1000 });
    const b = batch(20, { valueBytes: 100 });
    refuses(log, b, 'MESSAGE_TOO_LARGE', new RegExp(`${b.length} bytes.*max.message.bytes \\(1000\\)`));
    log.append(batch(1));
    log.close();
  });

  it('refuses an append larger than segment.bytes', () => {
    const log = openLog({ 'segment.bytes': 1000 });
    refuses(
      log,
      Buffer.concat([batch(5, { valueBytes: 100 }), batch(5, { valueBytes: 100 })]),
      'RECORD_LIST_TOO_LARGE',
    );
    log.close();
  });

  it('refuses a producer batch whose record count does not match lastOffsetDelta', () => {
    const log = openLog();
    const b = batch(3);
    b.writeInt32BE(5, 23); // lastOffsetDelta 5 for 3 records: legal after compaction, not from a producer
    updateBatchCrc(b, 0);
    refuses(log, b, 'INVALID_RECORD', /lastOffsetDelta 5/);
    b.writeInt32BE(1, 23); // fewer offsets than records: never legal
    updateBatchCrc(b, 0);
    refuses(log, b, 'INVALID_RECORD');
    log.close();
  });

  it('refuses control batches from clients', () => {
    const log = openLog();
    refuses(log, batch(1, { control: true }), 'INVALID_RECORD', /control/);
    log.close();
  });
});
