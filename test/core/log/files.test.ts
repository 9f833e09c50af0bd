import { describe, expect, it } from 'vitest';
import {
  filenamePrefixFromOffset,
  indexFileName,
  logFileName,
  parsePartitionDirName,
  parseSegmentFileName,
  partitionDirName,
  timeIndexFileName,
} from '../../../core/log/files.js';

describe('file names', () => {
  it('pads base offsets to 20 digits', () => {
    expect(filenamePrefixFromOffset(368769)).toBe('00000000000000368769');
    expect(logFileName(0)).toBe('00000000000000000000.log');
    expect(indexFileName(5, '.swap')).toBe('00000000000000000005.index.swap');
    expect(timeIndexFileName(5)).toBe('00000000000000000005.timeindex');
    expect(() => filenamePrefixFromOffset(-1)).toThrow();
  });

  it('parses segment file names', () => {
    expect(parseSegmentFileName('00000000000000000042.log')).toEqual({
      baseOffset: 42,
      kind: 'log',
      suffix: '',
    });
    expect(parseSegmentFileName('00000000000000000042.timeindex.deleted')).toEqual({
      baseOffset: 42,
      kind: 'timeindex',
      suffix: '.deleted',
    });
    expect(parseSegmentFileName('00000000000000000042.log.cleaned')?.suffix).toBe('.cleaned');
    expect(parseSegmentFileName('42.log')).toBeNull();
    expect(parseSegmentFileName('leader-epoch-checkpoint')).toBeNull();
  });

  it('formats and parses partition directories', () => {
    expect(partitionDirName('orders', 3)).toBe('orders-3');
    expect(parsePartitionDirName('my-topic-12')).toEqual({ topic: 'my-topic', partition: 12 });
    expect(parsePartitionDirName('orders')).toBeNull();
    expect(parsePartitionDirName('orders-')).toBeNull();
    expect(parsePartitionDirName('orders-3.abc-delete')).toBeNull();
  });
});
