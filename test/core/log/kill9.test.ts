/**
 * A real kill -9: a child process appends and flushes in a loop, printing flushedOffset after
 * each flush; the parent SIGKILLs it at a random moment, reopens the log and checks that every
 * offset reported flushed is present and every record recovered is intact. Runs the compiled
 * JavaScript (dist/), which the test suite's global setup builds.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../core/env/random.js';
import { PartitionLog } from '../../../core/log/log.js';
import { decodeBatches } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { config } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST_LOG = path.join(ROOT, 'dist/core/log/log.js');
const SEED = process.env.SEED === undefined ? 99 : Number(process.env.SEED);

const CHILD = `
import { PartitionLog } from ${JSON.stringify(DIST_LOG)};
import { parseLogConfig } from ${JSON.stringify(path.join(ROOT, 'dist/core/log/log-config.js'))};
import { encodeBatch } from ${JSON.stringify(path.join(ROOT, 'dist/core/records/index.js'))};
const [dir, segmentBytes] = process.argv.slice(2);
const log = PartitionLog.open({ dir, topic: 't', partition: 0, config: parseLogConfig({ 'segment.bytes': Number(segmentBytes) }) });
process.stdout.write('ready ' + log.logEndOffset + '\\n');
let n = 0;
async function appender(k) {
  for (;;) {
    const count = 1 + ((n * 7 + k) % 20);
    const base = log.logEndOffset;
    const records = [];
    for (let j = 0; j < count; j++) records.push({ value: Buffer.from('rec-' + (base + j) + '-' + 'x'.repeat((base + j) % 300)) });
    log.append(encodeBatch(records, { now: 1000 }));
    n++;
    if (n % 3 === 0) {
      await log.flush();
      process.stdout.write('flushed ' + log.flushedOffset + '\\n');
    } else {
      await new Promise((r) => setImmediate(r));
    }
  }
}
await Promise.all([appender(0), appender(1), appender(2), appender(3)]);
`;

function runChild(
  script: string,
  dir: string,
  killAfterMs: number,
): Promise<{ maxFlushed: number; started: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [script, dir, '300000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let maxFlushed = -1;
    let started = -1;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      let nl = out.indexOf('\n');
      while (nl >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const [kind, value] = line.split(' ');
        if (kind === 'ready') {
          started = Number(value);
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else if (kind === 'flushed') maxFlushed = Math.max(maxFlushed, Number(value));
        nl = out.indexOf('\n');
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ maxFlushed, started });
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

describe('kill -9 while appending and flushing', () => {
  beforeAll(() => {
    if (!fs.existsSync(DIST_LOG)) {
      try {
        execFileSync(
          process.execPath,
          [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
          {
            cwd: ROOT,
            stdio: 'pipe',
          },
        );
      } catch {
        // type errors elsewhere still emit JavaScript
      }
    }
  }, 120_000);

  it('keeps every flushed offset and serves only intact records', async () => {
    const tmp = tempDir('trib-kill9-');
    const script = path.join(tmp, 'child.mjs');
    fs.writeFileSync(script, CHILD);
    const dir = path.join(tmp, 't-0');
    const rng = new SeededRandom(SEED);
    let previousLeo = 0;
    for (let round = 0; round < 4; round++) {
      const killAfterMs = 100 + rng.int(500);
      const { maxFlushed, started } = await runChild(script, dir, killAfterMs);
      expect(started, `round ${round}: the child reopened at the previous end`).toBe(previousLeo);
      expect(maxFlushed, `round ${round}: the child flushed something (seed ${SEED})`).toBeGreaterThan(
        started,
      );
      const log = PartitionLog.open({
        dir,
        topic: 't',
        partition: 0,
        config: config({ 'segment.bytes': 300000 }),
      });
      expect(log.logEndOffset, `round ${round}: seed ${SEED}`).toBeGreaterThanOrEqual(maxFlushed);
      let offset = 0;
      while (offset < log.logEndOffset) {
        const r = log.read(offset, 4 << 20, { minOneBatch: true });
        for (const b of decodeBatches(Buffer.concat(r.records))) {
          for (const rec of b.records) {
            if (rec.offset < offset) continue;
            expect(rec.offset).toBe(offset);
            expect(rec.value!.toString()).toBe(`rec-${offset}-${'x'.repeat(offset % 300)}`);
            offset++;
          }
        }
      }
      previousLeo = log.logEndOffset;
      log.close();
    }
  }, 60_000);
});
