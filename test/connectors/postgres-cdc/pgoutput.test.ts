/** The pgoutput and replication-protocol decoders against hand-built messages (PostgreSQL's documented layouts). */
import { describe, expect, it } from 'vitest';
import {
  decodePgOutput,
  decodeReplicationMessage,
  encodeStandbyStatus,
  formatLsn,
  PG_EPOCH_OFFSET_US,
  parseLsn,
} from '../../../connectors/postgres-cdc/pgoutput.js';
import { ReplicationStream } from '../../../connectors/postgres-cdc/stream.js';
import {
  bigintToBytes,
  bytesToBigint,
  parseArrayText,
  parseDecimal,
  parseIntervalMicros,
  parseTimestampMicros,
} from '../../../connectors/postgres-cdc/types.js';

class W {
  private parts: Buffer[] = [];
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string) {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(`${s}\0`));
    return this;
  }
  bytes(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  tuple(cols: (string | null | 'u')[]) {
    this.i16(cols.length);
    for (const c of cols) {
      if (c === null) this.ch('n');
      else if (c === 'u') this.ch('u');
      else {
        const b = Buffer.from(c);
        this.ch('t').i32(b.length).bytes(b);
      }
    }
    return this;
  }
  get buf() {
    return Buffer.concat(this.parts);
  }
}

describe('pgoutput decoding', () => {
  it('Begin, Commit, Origin, Type', () => {
    expect(decodePgOutput(new W().ch('B').u64(0x1_0000_0010).u64(42).i32(777).buf)).toEqual({
      tag: 'begin',
      finalLsn: 0x1_0000_0010,
      commitTimeUs: 42,
      xid: 777,
    });
    expect(decodePgOutput(new W().ch('C').u8(0).u64(100).u64(120).u64(5).buf)).toEqual({
      tag: 'commit',
      flags: 0,
      commitLsn: 100,
      endLsn: 120,
      commitTimeUs: 5,
    });
    expect(decodePgOutput(new W().ch('O').u64(99).str('node_a').buf)).toEqual({
      tag: 'origin',
      commitLsn: 99,
      name: 'node_a',
    });
    expect(decodePgOutput(new W().ch('Y').i32(16400).str('public').str('mood').buf)).toEqual({
      tag: 'type',
      oid: 16400,
      namespace: 'public',
      name: 'mood',
    });
  });

  it('Relation (an empty namespace is pg_catalog), Insert, Update with old key or row, Delete', () => {
    const rel = decodePgOutput(
      new W()
        .ch('R')
        .i32(16384)
        .str('')
        .str('t')
        .ch('f')
        .i16(2)
        .u8(1)
        .str('id')
        .i32(23)
        .i32(-1)
        .u8(0)
        .str('v')
        .i32(25)
        .i32(-1).buf,
    );
    expect(rel).toEqual({
      tag: 'relation',
      oid: 16384,
      namespace: 'pg_catalog',
      name: 't',
      replicaIdentity: 'f',
      columns: [
        { flags: 1, name: 'id', typeOid: 23, typeMod: -1 },
        { flags: 0, name: 'v', typeOid: 25, typeMod: -1 },
      ],
    });
    expect(decodePgOutput(new W().ch('I').i32(16384).ch('N').tuple(['1', null]).buf)).toEqual({
      tag: 'insert',
      relationOid: 16384,
      newTuple: [{ kind: 'text', text: '1' }, { kind: 'null' }],
    });
    expect(
      decodePgOutput(new W().ch('U').i32(1).ch('O').tuple(['1', 'a']).ch('N').tuple(['1', 'u']).buf),
    ).toEqual({
      tag: 'update',
      relationOid: 1,
      oldKind: 'O',
      oldTuple: [
        { kind: 'text', text: '1' },
        { kind: 'text', text: 'a' },
      ],
      newTuple: [{ kind: 'text', text: '1' }, { kind: 'unchanged' }],
    });
    expect(decodePgOutput(new W().ch('U').i32(1).ch('N').tuple(['2']).buf)).toMatchObject({
      oldKind: null,
      oldTuple: null,
    });
    expect(decodePgOutput(new W().ch('D').i32(1).ch('K').tuple(['1', null]).buf)).toMatchObject({
      tag: 'delete',
      oldKind: 'K',
    });
  });

  it('Truncate and Message', () => {
    expect(decodePgOutput(new W().ch('T').i32(2).u8(3).i32(10).i32(11).buf)).toEqual({
      tag: 'truncate',
      cascade: true,
      restartIdentity: true,
      relationOids: [10, 11],
    });
    expect(
      decodePgOutput(new W().ch('M').u8(1).u64(55).str('p').i32(3).bytes(Buffer.from('abc')).buf),
    ).toEqual({
      tag: 'message',
      transactional: true,
      lsn: 55,
      prefix: 'p',
      content: Buffer.from('abc'),
    });
  });

  it('refuses unknown and truncated messages', () => {
    expect(() => decodePgOutput(Buffer.from('Z'))).toThrow(/unknown pgoutput message 'Z'/);
    expect(() => decodePgOutput(new W().ch('B').u64(1).buf)).toThrow(/truncated/);
    expect(() => decodePgOutput(new W().ch('I').i32(1).ch('N').i16(1).ch('b').buf)).toThrow(/binary/);
    expect(() => decodePgOutput(new W().ch('I').i32(1).ch('N').i16(1).ch('t').i32(-5).buf)).toThrow(
      /truncated message: need -5 bytes at 13 of 13/,
    );
    // A message among others in one buffer: nothing is read past its end, even a NUL or a value.
    const origin = new W().ch('w').u64(1).u64(2).u64(0).ch('O').u64(9).bytes(Buffer.from('abc')).buf;
    const both = Buffer.concat([origin, new W().str('').ch('t').i32(1).ch('x').buf]);
    expect(() => decodeReplicationMessage(both, 0, origin.length)).toThrow(/unterminated string/);
    const ins = new W().ch('w').u64(1).u64(2).u64(0).ch('I').i32(7).ch('N').i16(1).ch('t').i32(3).buf;
    const withValue = Buffer.concat([Buffer.from('junk'), ins, Buffer.from('abc')]);
    expect(() => decodeReplicationMessage(withValue, 4, 4 + ins.length)).toThrow(
      /truncated message: need 3 bytes at 38 of 38/,
    );
    expect(decodeReplicationMessage(withValue, 4, withValue.length)).toMatchObject({
      message: { tag: 'insert', newTuple: [{ kind: 'text', text: 'abc' }] },
    });
  });

  it('XLogData, keepalives and standby status updates', () => {
    const x = decodeReplicationMessage(
      new W().ch('w').u64(1000).u64(2000).u64(3).bytes(new W().ch('Y').i32(1).str('s').str('n').buf).buf,
    );
    expect(x).toMatchObject({ kind: 'xlogdata', dataStart: 1000, walEnd: 2000, message: { tag: 'type' } });
    // Timestamps are signed: before 2000-01-01 they are negative.
    const before2000 = new W().ch('k').u64(5000).u64(0).u8(0).buf;
    before2000.writeBigInt64BE(-86_400_000_001n, 9);
    expect(decodeReplicationMessage(before2000)).toMatchObject({ sendTimeUs: -86_400_000_001 });
    expect(decodeReplicationMessage(new W().ch('k').u64(5000).u64(7).u8(1).buf)).toEqual({
      kind: 'keepalive',
      walEnd: 5000,
      sendTimeUs: 7,
      replyRequested: true,
    });
    const now = Date.UTC(2024, 0, 1);
    const s = encodeStandbyStatus(0x2_0000_0001, now);
    expect(s.length).toBe(34);
    expect(String.fromCharCode(s[0]!)).toBe('r');
    for (const at of [1, 9, 17]) expect(s.readBigUInt64BE(at)).toBe(0x2_0000_0001n);
    expect(Number(s.readBigInt64BE(25))).toBe(now * 1000 - PG_EPOCH_OFFSET_US);
  });

  it('LSNs as text', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(() => parseLsn('nope')).toThrow(/not an LSN/);
  });
});

describe('the replication stream queue', () => {
  /** A stream fed CopyData payloads by hand (what pg's connection would deliver), no server. */
  const feedable = () => {
    const target = { hostname: 'x', port: 1, user: 'u', password: '', dbname: 'd', sslmode: 'disable' };
    const s = new ReplicationStream(target, 1_000_000, 1000);
    const feed = (chunk: Buffer) => (s as unknown as { onCopyData(c: Buffer): void }).onCopyData(chunk);
    return { s, feed };
  };
  const insert = (lsn: number, text: string) =>
    new W()
      .ch('w')
      .u64(lsn)
      .u64(lsn + 1)
      .u64(0)
      .bytes(new W().ch('I').i32(7).ch('N').tuple([text]).buf).buf;

  it('hands messages out decoded, in order, however long they waited and whatever moved them in its arena', async () => {
    const { s, feed } = feedable();
    let next = 1;
    let taken = 1;
    const take = async (n: number) => {
      for (const m of await s.take(n, 0)) {
        expect(m).toMatchObject({
          kind: 'xlogdata',
          dataStart: taken,
          message: {
            tag: 'insert',
            relationOid: 7,
            newTuple: [{ kind: 'text', text: `row ${taken} ${'é'.repeat(taken % 300)}` }],
          },
        });
        taken++;
      }
    };
    // Fed faster than taken, then slower: the waiting bytes are moved to the arena's start, and
    // the arena grows when they fill it.
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 500; i++, next++) feed(insert(next, `row ${next} ${'é'.repeat(next % 300)}`));
      await take(round < 20 ? 300 : 800);
    }
    expect(s.queued).toBe(next - taken);
    await take(1_000_000);
    expect(taken).toBe(next);
    expect(s.lastReceivedLsn).toBe(next - 1);
    // A keepalive between them comes out in its place.
    feed(insert(next, `row ${next} ${'é'.repeat(next % 300)}`));
    feed(new W().ch('k').u64(99).u64(0).u8(0).buf);
    const [a, k] = await s.take(10, 0);
    expect(a!.kind).toBe('xlogdata');
    expect(k).toEqual({ kind: 'keepalive', walEnd: 99, sendTimeUs: 0, replyRequested: false });
  });

  it('gives back an arena grown for large rows once it is empty', async () => {
    const { s, feed } = feedable();
    const arena = () => (s as unknown as { arena: Buffer }).arena.length;
    const big = 'x'.repeat(400_000);
    for (let i = 1; i <= 60; i++) feed(insert(i, `${i} ${big}`));
    expect(arena()).toBeGreaterThan(24_000_000);
    const taken = await s.take(1000, 0);
    expect(
      taken.map((m) => (m.kind === 'xlogdata' && m.message.tag === 'insert' ? m.message.newTuple : null)),
    ).toEqual(Array.from({ length: 60 }, (_, i) => [{ kind: 'text', text: `${i + 1} ${big}` }]));
    expect(arena()).toBeLessThanOrEqual(1 << 20);
    feed(insert(61, 'after'));
    expect(await s.take(10, 0)).toMatchObject([
      { dataStart: 61, message: { newTuple: [{ text: 'after' }] } },
    ]);
  });

  it('a message that does not decode fails the stream when it is taken, with what was wrong', async () => {
    const { s, feed } = feedable();
    feed(new W().ch('w').u64(1).u64(2).u64(0).ch('Z').buf);
    await expect(s.take(10, 0)).rejects.toThrow(
      /cannot decode the replication stream: unknown pgoutput message 'Z'/,
    );
    await expect(s.take(10, 0)).rejects.toThrow(/cannot decode/);
    const other = feedable();
    other.feed(Buffer.from('x'));
    await expect(other.s.take(10, 0)).rejects.toThrow(/unknown replication message 'x'/);
  });
});

describe('text value parsing', () => {
  it('decimals as Java BigInteger bytes', () => {
    for (const v of [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 10n ** 30n, -(10n ** 30n)])
      expect(bytesToBigint(bigintToBytes(v))).toBe(v);
    expect(bigintToBytes(128n)).toEqual(Buffer.from([0, 128]));
    expect(bigintToBytes(-1n)).toEqual(Buffer.from([0xff]));
    expect(parseDecimal('-12.5', 3)).toEqual({ unscaled: -12500n, scale: 3 });
    expect(parseDecimal('-$1,234.50', 2)).toEqual({ unscaled: -123450n, scale: 2 });
    expect(parseDecimal('NaN')).toBeNull();
  });

  it('timestamps, intervals, arrays', () => {
    expect(parseTimestampMicros('1970-01-01 00:00:01.5')).toBe(1_500_000);
    expect(parseTimestampMicros('1970-01-01 02:00:00+02')).toBe(0);
    expect(parseTimestampMicros('1970-01-01 00:00:00-05:30')).toBe(19_800_000_000);
    expect(parseIntervalMicros('1 day -00:00:01')).toBe(86_400_000_000 - 1_000_000);
    expect(parseArrayText('{}')).toEqual([]);
    expect(parseArrayText('{1,NULL,"NULL","a\\"b",{x,y}}')).toEqual(['1', null, 'NULL', 'a"b', '{x,y}']);
    expect(parseArrayText('[0:1]={a,b}')).toEqual(['a', 'b']);
  });
});
