import { describe, expect, it } from 'vitest';
import {
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from '../../../core/broker/group-metadata-codec.js';
import { javaStringHashCode, partitionForGroup } from '../../../core/broker/offsets-store.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('__consumer_offsets record formats', () => {
  it('OffsetCommitKey v1: int16 version, group, topic, int32 partition', () => {
    const bytes = encodeOffsetCommitKey({ group: 'g', topic: 't', partition: 1 });
    expect(bytes).toEqual(hex('0001  0001 67  0001 74  00000001'));
    expect(decodeCoordinatorKey(bytes)).toEqual({
      type: 'offsetCommit',
      version: 1,
      key: { group: 'g', topic: 't', partition: 1 },
    });
    // Version 0 is the same layout.
    expect(decodeCoordinatorKey(hex('0000 0001 67 0001 74 00000002'))).toMatchObject({
      type: 'offsetCommit',
      version: 0,
    });
  });

  it('OffsetCommitValue v3: offset, leaderEpoch, metadata, commitTimestamp', () => {
    const bytes = encodeOffsetCommitValue({
      offset: 5,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000,
      expireTimestamp: -1,
    });
    expect(bytes).toEqual(hex('0003  0000000000000005  00000002  0001 6d  00000000000003e8'));
    expect(decodeOffsetCommitValue(bytes)).toEqual({
      offset: 5,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000,
      expireTimestamp: -1,
    });
  });

  it('OffsetCommitValue v1 when the commit carries an expire timestamp', () => {
    const bytes = encodeOffsetCommitValue({
      offset: 7,
      leaderEpoch: 9,
      metadata: '',
      commitTimestamp: 1000,
      expireTimestamp: 2000,
    });
    expect(bytes).toEqual(hex('0001  0000000000000007  0000  00000000000003e8  00000000000007d0'));
    expect(decodeOffsetCommitValue(bytes)).toEqual({
      offset: 7,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 1000,
      expireTimestamp: 2000,
    });
  });

  it('reads OffsetCommitValue v0 and the flexible v4', () => {
    expect(decodeOffsetCommitValue(hex('0000 0000000000000003 0002 6869 0000000000000064'))).toEqual({
      offset: 3,
      leaderEpoch: -1,
      metadata: 'hi',
      commitTimestamp: 100,
      expireTimestamp: -1,
    });
    // v4: compact string (length + 1) and an empty tagged-field section.
    expect(decodeOffsetCommitValue(hex('0004 0000000000000003 00000004 02 6d 0000000000000064 00'))).toEqual({
      offset: 3,
      leaderEpoch: 4,
      metadata: 'm',
      commitTimestamp: 100,
      expireTimestamp: -1,
    });
    expect(() => decodeOffsetCommitValue(hex('0005 00'))).toThrow(/version 5/);
  });

  it('GroupMetadataKey v2', () => {
    const bytes = encodeGroupMetadataKey({ group: 'g' });
    expect(bytes).toEqual(hex('0002 0001 67'));
    expect(decodeCoordinatorKey(bytes)).toEqual({ type: 'groupMetadata', version: 2, key: { group: 'g' } });
    expect(decodeCoordinatorKey(hex('0007'))).toEqual({ type: 'unknown', version: 7 });
  });

  it('GroupMetadataValue v3', () => {
    const value: GroupMetadataValue = {
      protocolType: 'consumer',
      generation: 1,
      protocol: 'range',
      leader: 'm',
      currentStateTimestamp: 1000,
      members: [
        {
          memberId: 'm',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: 'h',
          rebalanceTimeout: 30_000,
          sessionTimeout: 10_000,
          subscription: Buffer.from([1, 2]),
          assignment: Buffer.from([3]),
        },
      ],
    };
    const bytes = encodeGroupMetadataValue(value);
    expect(bytes).toEqual(
      hex(`0003
        0008 636f6e73756d6572
        00000001
        0005 72616e6765
        0001 6d
        00000000000003e8
        00000001
          0001 6d  ffff  0001 63  0001 68  00007530  00002710  00000002 0102  00000001 03`),
    );
    expect(decodeGroupMetadataValue(bytes)).toEqual(value);
  });

  it('an empty group: null protocol and leader, no members', () => {
    const value: GroupMetadataValue = {
      protocolType: 'consumer',
      generation: 4,
      protocol: null,
      leader: null,
      currentStateTimestamp: 5,
      members: [],
    };
    const bytes = encodeGroupMetadataValue(value);
    expect(bytes).toEqual(hex('0003 0008 636f6e73756d6572 00000004 ffff ffff 0000000000000005 00000000'));
    expect(decodeGroupMetadataValue(bytes)).toEqual(value);
  });

  it('reads GroupMetadataValue v0 (the rebalance timeout is the session timeout) and round-trips v4', () => {
    const v0 = hex(
      '0000 0001 78 00000002 0001 72 0001 6d 00000001 0001 6d 0001 63 0001 68 00001388 00000000 00000000',
    );
    expect(decodeGroupMetadataValue(v0)).toEqual({
      protocolType: 'x',
      generation: 2,
      protocol: 'r',
      leader: 'm',
      currentStateTimestamp: -1,
      members: [
        {
          memberId: 'm',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: 'h',
          rebalanceTimeout: 5000,
          sessionTimeout: 5000,
          subscription: Buffer.alloc(0),
          assignment: Buffer.alloc(0),
        },
      ],
    });
    const value: GroupMetadataValue = {
      protocolType: 'connect',
      generation: 9,
      protocol: 'sessioned',
      leader: 'w1',
      currentStateTimestamp: 77,
      members: [
        {
          memberId: 'w1',
          groupInstanceId: 'i',
          clientId: 'c',
          clientHost: 'h',
          rebalanceTimeout: 1,
          sessionTimeout: 2,
          subscription: Buffer.from('s'),
          assignment: Buffer.from('a'),
        },
      ],
    };
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(value, 4))).toEqual(value);
  });

  it('rejects truncated values', () => {
    const bytes = encodeOffsetCommitValue({
      offset: 5,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000,
      expireTimestamp: -1,
    });
    expect(() => decodeOffsetCommitValue(bytes.subarray(0, bytes.length - 1))).toThrow();
    expect(() => encodeOffsetCommitKey({ group: 'x'.repeat(40_000), topic: 't', partition: 0 })).toThrow(
      /32767/,
    );
  });
});

describe('group → __consumer_offsets partition', () => {
  it("is Java's String.hashCode with Kafka's Utils.abs, modulo the partition count", () => {
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('kafka-streams-app')).toBe(-2143363552);
    expect(javaStringHashCode('😀')).toBe(0xd83d * 31 + 0xde00);
    expect(partitionForGroup('hello', 50)).toBe(22);
    expect(partitionForGroup('connect-cluster', 50)).toBe(13);
    expect(partitionForGroup('kafka-streams-app', 50)).toBe(2);
    // hashCode is Integer.MIN_VALUE: Kafka's abs gives 0.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('', 50)).toBe(0);
  });
});
