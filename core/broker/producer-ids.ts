/**
 * Producer id allocation for idempotent producers (InitProducerId). Ids are handed out from
 * blocks; the end of the current block is persisted before any id of it is used, so a restart
 * (even after kill -9) never hands out an id twice.
 *
 * File `producer-ids.json` in the data directory: {"version":1,"nextBlockStart":N}.
 */
import * as path from 'node:path';
import type { FileSystem } from '../env/fs.js';

const BLOCK_SIZE = 1000;
const FILE = 'producer-ids.json';

export class ProducerIdManager {
  private next: number;
  private blockEnd: number;

  constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string,
  ) {
    const file = path.join(dataDir, FILE);
    let start = 0;
    if (fs.exists(file)) {
      const parsed = JSON.parse(fs.readFile(file).toString('utf8')) as { nextBlockStart?: unknown };
      if (typeof parsed.nextBlockStart !== 'number' || !Number.isSafeInteger(parsed.nextBlockStart)) {
        throw new Error(`${file} is corrupt: expected {"version":1,"nextBlockStart":N}`);
      }
      start = parsed.nextBlockStart;
    }
    this.next = start;
    this.blockEnd = start;
  }

  /** A producer id never handed out before by this data directory. */
  nextProducerId(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + BLOCK_SIZE;
      const body = JSON.stringify({ version: 1, nextBlockStart: this.blockEnd });
      this.fs.writeFileAtomic(path.join(this.dataDir, FILE), Buffer.from(body));
    }
    return this.next++;
  }
}
