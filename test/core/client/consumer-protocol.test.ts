import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  CONSUMER_PROTOCOL_MAX_VERSION,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../core/client/consumer-protocol.js';
import { ProtocolError } from '../../../core/protocol/errors.js';

const require = createRequire(import.meta.url);
interface KafkajsProtocol {
  MemberMetadata: {
    encode(m: { version: number; topics: string[]; userData?: Buffer }): Buffer;
    decode(b: Buffer): { version: number; topics: string[]; userData: Buffer | null };
  };
  MemberAssignment: {
    encode(a: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer;
    decode(
      b: Buffer,
    ): { version: number; assignment: Record<string, number[]>; userData: Buffer | null } | null;
  };
}
const kafkajs = require('kafkajs/src/consumer/assignerProtocol.js') as KafkajsProtocol;

/** Big-endian bytes from a list of [kind, value] parts. */
function bytes(...parts: (['i16' | 'i32', number] | ['str', string])[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if (part[0] === 'str') {
      const s = Buffer.from(part[1]);
      const len = Buffer.alloc(2);
      len.writeInt16BE(s.length);
      chunks.push(len, s);
    } else {
      const b = Buffer.alloc(part[0] === 'i16' ? 2 : 4);
      if (part[0] === 'i16') b.writeInt16BE(part[1]);
      else b.writeInt32BE(part[1]);
      chunks.push(b);
    }
  }
  return Buffer.concat(chunks);
}

describe('subscription', () => {
  it('v0 is byte-identical to kafkajs MemberMetadata (sorted topics, empty userData)', () => {
    const topics = ['orders', 'payments', 'émoji-topic'];
    const userData = Buffer.from([1, 2, 3]);
    const theirs = kafkajs.MemberMetadata.encode({ version: 0, topics, userData });
    expect(encodeSubscription({ topics, userData }, 0)).toEqual(theirs);
    const empty = kafkajs.MemberMetadata.encode({ version: 0, topics: ['a'] });
    expect(encodeSubscription({ topics: ['a'], userData: Buffer.alloc(0) }, 0)).toEqual(empty);
  });

  it('decodes kafkajs metadata', () => {
    const theirs = kafkajs.MemberMetadata.encode({
      version: 0,
      topics: ['b', 'a'],
      userData: Buffer.from('ud'),
    });
    expect(decodeSubscription(theirs)).toEqual({
      version: 0,
      topics: ['b', 'a'],
      userData: Buffer.from('ud'),
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
  });

  it('kafkajs reads our v3 (it stops after userData)', () => {
    const ours = encodeSubscription({
      topics: ['t'],
      userData: Buffer.from([9]),
      ownedPartitions: [{ topic: 't', partition: 1 }],
      generationId: 7,
      rackId: 'rack-a',
    });
    expect(kafkajs.MemberMetadata.decode(ours)).toEqual({
      version: 3,
      topics: ['t'],
      userData: Buffer.from([9]),
    });
  });

  it('v3 golden bytes: sorted topics, owned grouped by topic and sorted, null userData as -1', () => {
    const encoded = encodeSubscription({
      topics: ['t2', 't1'],
      userData: null,
      ownedPartitions: [
        { topic: 't2', partition: 0 },
        { topic: 't1', partition: 3 },
        { topic: 't1', partition: 1 },
      ],
      generationId: 5,
      rackId: 'r1',
    });
    expect(encoded).toEqual(
      bytes(
        ['i16', 3],
        ['i32', 2],
        ['str', 't1'],
        ['str', 't2'],
        ['i32', -1],
        ['i32', 2],
        ['str', 't1'],
        ['i32', 2],
        ['i32', 1],
        ['i32', 3],
        ['str', 't2'],
        ['i32', 1],
        ['i32', 0],
        ['i32', 5],
        ['str', 'r1'],
      ),
    );
  });

  it('round-trips every version, dropping the fields the version lacks', () => {
    const full = {
      topics: ['a', 'b'],
      userData: Buffer.from('x'),
      ownedPartitions: [
        { topic: 'a', partition: 0 },
        { topic: 'b', partition: 2 },
      ],
      generationId: 12,
      rackId: 'eu-1a',
    };
    const expected = [
      { ownedPartitions: [], generationId: -1, rackId: null },
      { ownedPartitions: full.ownedPartitions, generationId: -1, rackId: null },
      { ownedPartitions: full.ownedPartitions, generationId: 12, rackId: null },
      { ownedPartitions: full.ownedPartitions, generationId: 12, rackId: 'eu-1a' },
    ];
    for (let version = 0; version <= CONSUMER_PROTOCOL_MAX_VERSION; version++) {
      expect(decodeSubscription(encodeSubscription(full, version))).toEqual({
        version,
        topics: ['a', 'b'],
        userData: Buffer.from('x'),
        ...expected[version],
      });
    }
  });

  it('reads a newer version as our newest and ignores what follows', () => {
    const v3 = encodeSubscription({ topics: ['t'], generationId: 4, rackId: 'r' });
    const v9 = Buffer.concat([v3, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1])]);
    v9.writeInt16BE(9, 0);
    expect(decodeSubscription(v9)).toMatchObject({ version: 9, topics: ['t'], generationId: 4, rackId: 'r' });
  });

  it('treats an empty rack id as none (Java does)', () => {
    expect(decodeSubscription(encodeSubscription({ topics: [], rackId: '' })).rackId).toBeNull();
  });

  it('defaults optional fields the bytes stop before, refuses bytes cut inside a field', () => {
    const v0body = encodeSubscription({ topics: ['t'], userData: null }, 0);
    const claimsV2 = Buffer.from(v0body);
    claimsV2.writeInt16BE(2, 0);
    expect(decodeSubscription(claimsV2)).toMatchObject({ version: 2, ownedPartitions: [], generationId: -1 });

    const whole = encodeSubscription({
      topics: ['topic'],
      ownedPartitions: [{ topic: 'topic', partition: 1 }],
    });
    for (const cut of [1, 3, 8, 12, whole.length - 19]) {
      const err = catchError(() => decodeSubscription(whole.subarray(0, cut)));
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('TRUNCATED');
      expect(err.message).toMatch(/^ConsumerProtocolSubscription: /);
    }
  });

  it('refuses negative versions, null topic arrays and huge counts', () => {
    expect(() => decodeSubscription(bytes(['i16', -1], ['i32', 0], ['i32', -1]))).toThrow(/negative version/);
    expect(() => decodeSubscription(bytes(['i16', 0], ['i32', -1], ['i32', -1]))).toThrow(/array count -1/);
    expect(() => decodeSubscription(bytes(['i16', 0], ['i32', 0x7fffffff]))).toThrow(/cannot fit/);
    expect(() => decodeSubscription(bytes(['i16', 0], ['i32', 1], ['i16', -1], ['i32', -1]))).toThrow(
      /non-nullable string/,
    );
  });

  it('refuses to write versions that do not exist', () => {
    expect(() => encodeSubscription({ topics: [] }, 4)).toThrow(ProtocolError);
    expect(() => encodeAssignment({ partitions: [] }, -1)).toThrow(ProtocolError);
  });
});

describe('assignment', () => {
  const partitions = [
    { topic: 'topic-B', partition: 1 },
    { topic: 'topic-A', partition: 0 },
    { topic: 'topic-A', partition: 2 },
  ];

  it('v0 is byte-identical to kafkajs MemberAssignment (topics in first-seen order)', () => {
    const theirs = kafkajs.MemberAssignment.encode({
      version: 0,
      assignment: { 'topic-B': [1], 'topic-A': [0, 2] },
    });
    expect(encodeAssignment({ partitions, userData: Buffer.alloc(0) }, 0)).toEqual(theirs);
  });

  it('decodes kafkajs assignments, and kafkajs decodes ours', () => {
    const theirs = kafkajs.MemberAssignment.encode({
      version: 0,
      assignment: { 'topic-A': [0, 2], 'topic-B': [1] },
      userData: Buffer.from('u'),
    });
    expect(decodeAssignment(theirs)).toEqual({
      version: 0,
      partitions: [
        { topic: 'topic-A', partition: 0 },
        { topic: 'topic-A', partition: 2 },
        { topic: 'topic-B', partition: 1 },
      ],
      userData: Buffer.from('u'),
    });
    expect(kafkajs.MemberAssignment.decode(encodeAssignment({ partitions }))).toEqual({
      version: 3,
      assignment: { 'topic-B': [1], 'topic-A': [0, 2] },
      userData: null,
    });
  });

  it('round-trips every version; the body is the same in all of them', () => {
    for (let version = 0; version <= CONSUMER_PROTOCOL_MAX_VERSION; version++) {
      const encoded = encodeAssignment({ partitions, userData: null }, version);
      expect(encoded.subarray(2)).toEqual(encodeAssignment({ partitions, userData: null }, 0).subarray(2));
      expect(decodeAssignment(encoded)).toEqual({ version, partitions, userData: null });
    }
  });

  it('decodes empty bytes (a member the leader left out) as nothing assigned', () => {
    expect(decodeAssignment(new Uint8Array(0))).toEqual({ version: 0, partitions: [], userData: null });
  });

  it('reads newer versions and views inside larger buffers', () => {
    const encoded = encodeAssignment({ partitions, userData: Buffer.from('zz') });
    encoded.writeInt16BE(7, 0);
    const framed = Buffer.concat([Buffer.from([1, 2, 3]), encoded, Buffer.from([4])]);
    const view = framed.subarray(3, 3 + encoded.length);
    expect(decodeAssignment(view)).toEqual({ version: 7, partitions, userData: Buffer.from('zz') });
  });

  it('refuses truncated assignments', () => {
    const encoded = encodeAssignment({ partitions });
    expect(() => decodeAssignment(encoded.subarray(0, encoded.length - 1))).toThrow(ProtocolError);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
