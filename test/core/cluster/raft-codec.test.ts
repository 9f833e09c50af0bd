/** The binary frames of Raft messages, and the quorum configuration. */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, FrameDecoder } from '../../../core/cluster/raft/codec.js';
import { parseQuorumVoters, resolveRaftConfig } from '../../../core/cluster/raft/config.js';
import type { RaftMessage } from '../../../core/cluster/raft/messages.js';
import { EntryType } from '../../../core/cluster/raft/types.js';

const samples: RaftMessage[] = [
  { type: 'vote', from: 1, term: 7, preVote: true, lastLogIndex: 2 ** 40, lastLogTerm: 6 },
  { type: 'voteResponse', from: 2, term: 7, preVote: false, granted: true },
  {
    type: 'append',
    from: 3,
    term: 9,
    prevLogIndex: 10,
    prevLogTerm: 8,
    leaderCommit: 9,
    seq: 44,
    entries: [
      { index: 11, term: 9, type: EntryType.noop, data: new Uint8Array(0) },
      { index: 12, term: 9, type: EntryType.command, data: Buffer.from('hello') },
      { index: 13, term: 9, type: EntryType.addLearner, data: Buffer.from([0, 0, 0, 100]) },
    ],
  },
  {
    type: 'appendResponse',
    from: 1,
    term: 9,
    success: false,
    matchIndex: 0,
    rejectedIndex: 10,
    conflictIndex: 4,
    conflictTerm: 2,
    seq: 44,
  },
  {
    type: 'snapshot',
    from: 3,
    term: 9,
    snapshotIndex: 100,
    snapshotTerm: 8,
    totalBytes: 10,
    offsetBytes: 4,
    chunk: Buffer.from('abc'),
    seq: 1,
  },
  { type: 'snapshotResponse', from: 1, term: 9, snapshotIndex: 100, nextOffsetBytes: 7, done: false, seq: 1 },
  { type: 'learnerJoin', from: 100, term: 0 },
];

const normalize = (m: unknown): unknown =>
  JSON.parse(
    JSON.stringify(m, (_k, v) =>
      v instanceof Uint8Array || (v && v.type === 'Buffer') ? [...Buffer.from(v.data ?? v)] : v,
    ),
  );

describe('raft message codec', () => {
  it('round-trips every message type', () => {
    for (const m of samples)
      expect(normalize(decodeMessage(encodeMessage(m), 1 << 20))).toEqual(normalize(m));
  });

  it('splits a byte stream into frames whatever the chunking', () => {
    const stream = Buffer.concat(samples.map(encodeMessage));
    for (const step of [1, 3, 7, 64, stream.length]) {
      const dec = new FrameDecoder(1 << 20);
      const out: RaftMessage[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...dec.push(stream.subarray(i, i + step)));
      expect(out.map((m) => m.type)).toEqual(samples.map((m) => m.type));
    }
  });

  it('rejects malformed frames', () => {
    const good = encodeMessage(samples[2]!);
    const truncated = Buffer.from(good.subarray(0, good.length - 2));
    truncated.writeUInt32BE(truncated.length - 4, 0);
    expect(() => decodeMessage(truncated, 1 << 20)).toThrow(
      expect.objectContaining({ code: 'CORRUPT_MESSAGE' }),
    );
    const badVersion = Buffer.from(good);
    badVersion[4] = 9;
    expect(() => decodeMessage(badVersion, 1 << 20)).toThrow(/version/);
    const badType = Buffer.from(good);
    badType[5] = 99;
    expect(() => decodeMessage(badType, 1 << 20)).toThrow(/unknown message type/);
    expect(() => decodeMessage(good, 10)).toThrow(/exceeds/);
    expect(() => new FrameDecoder(10).push(good)).toThrow(/exceeds/);
    const trailing = Buffer.concat([good, Buffer.from([0])]);
    trailing.writeUInt32BE(trailing.length - 4, 0);
    expect(() => decodeMessage(trailing, 1 << 20)).toThrow(/trailing/);
  });
});

describe('quorum configuration', () => {
  it("parses Kafka's controller.quorum.voters", () => {
    expect(parseQuorumVoters('1@localhost:9093, 2@10.0.0.2:9093,3@[::1]:9095')).toEqual([
      { id: 1, host: 'localhost', port: 9093 },
      { id: 2, host: '10.0.0.2', port: 9093 },
      { id: 3, host: '::1', port: 9095 },
    ]);
    expect(() => parseQuorumVoters('1@localhost')).toThrow(/id@host:port/);
    expect(() => parseQuorumVoters('1@a:1,1@b:2')).toThrow(/twice/);
    expect(() => parseQuorumVoters('')).toThrow(/no voters/);
  });

  it('validates limits and fills defaults', () => {
    const c = resolveRaftConfig({ voters: [1, 2, 3] });
    expect(c.electionTimeoutMs).toBe(1000);
    expect(c.preVote).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => resolveRaftConfig({ voters: [] })).toThrow(/at least one voter/);
    expect(() => resolveRaftConfig({ voters: [1], heartbeatIntervalMs: 2000 })).toThrow(
      /below electionTimeoutMs/,
    );
    expect(() => resolveRaftConfig({ voters: [1], maxInflightAppends: 0 })).toThrow(/maxInflightAppends/);
    expect(() => resolveRaftConfig({ voters: [1, 1] })).toThrow(/duplicate/);
  });
});
