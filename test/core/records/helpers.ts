/** Shared test helpers for core/records: seeded PRNG, xxHash32 (LZ4 frame checksums), fixtures. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DecodedBatch, DecodedRecord, RecordInput } from '../../../core/records/index.js';

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(rand: () => number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = Math.floor(rand() * 256);
  return buf;
}

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const round = (acc: number, input: number): number =>
  Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1);

/** xxHash32, for LZ4 frame header and content checksums. */
export function xxh32(buf: Buffer, seed = 0): number {
  const len = buf.length;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    for (; p <= len - 16; p += 16) {
      v1 = round(v1, buf.readUInt32LE(p));
      v2 = round(v2, buf.readUInt32LE(p + 4));
      v3 = round(v3, buf.readUInt32LE(p + 8));
      v4 = round(v4, buf.readUInt32LE(p + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  for (; p + 4 <= len; p += 4) h = Math.imul(rotl((h + Math.imul(buf.readUInt32LE(p), P3)) | 0, 17), P4);
  for (; p < len; p++) h = Math.imul(rotl((h + Math.imul(buf[p]!, P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---- fixtures -------------------------------------------------------------------------

export type FixtureBytes = string | null | { hex: string };
export type FixtureInput = FixtureBytes | { repeat: string; count: number };

export interface FixtureRecord {
  offset: number;
  timestamp: number;
  key: FixtureBytes;
  value: FixtureBytes;
  headers: [string, FixtureBytes][];
}

export interface FixtureBatch {
  baseOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  isControl: boolean;
  timestampType: number;
  recordCount: number;
  records: FixtureRecord[];
  recordsSha256?: string;
}

export interface Fixture {
  source: string;
  batches: FixtureBatch[];
  encode?: {
    options: Record<string, number | boolean>;
    records: {
      key?: FixtureInput;
      value: FixtureInput;
      headers?: [string, FixtureInput][];
      timestamp: number;
    }[];
  };
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/records/', import.meta.url));

export function loadFixture(name: string): { bytes: Buffer; fixture: Fixture } {
  return {
    bytes: readFileSync(`${FIXTURES}${name}.bin`),
    fixture: JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8')) as Fixture,
  };
}

export function fixtureBuffer(v: FixtureInput | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if ('hex' in v) return Buffer.from(v.hex, 'hex');
  return Buffer.from(v.repeat.repeat(v.count), 'utf8');
}

function asFixtureBytes(b: Buffer | null): FixtureBytes {
  if (b === null) return null;
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : { hex: b.toString('hex') };
}

/** A decoded record in the fixtures' JSON form. */
export function toFixtureRecord(r: DecodedRecord): FixtureRecord {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: asFixtureBytes(r.key),
    value: asFixtureBytes(r.value),
    headers: r.headers.map((h): [string, FixtureBytes] => [h.key, asFixtureBytes(h.value)]),
  };
}

export function recordsSha256(records: DecodedRecord[]): string {
  return createHash('sha256')
    .update(JSON.stringify(records.map(toFixtureRecord)))
    .digest('hex');
}

export function fixtureInputs(fixture: Fixture): RecordInput[] {
  return fixture.encode!.records.map((r) => ({
    key: fixtureBuffer(r.key),
    value: fixtureBuffer(r.value),
    headers: (r.headers ?? []).map(([key, value]) => ({ key, value: fixtureBuffer(value) })),
    timestamp: r.timestamp,
  }));
}

/** The header fields of a decoded batch, in the fixtures' form. */
export function batchFields(b: DecodedBatch): Omit<FixtureBatch, 'records' | 'recordsSha256'> {
  return {
    baseOffset: b.baseOffset,
    partitionLeaderEpoch: b.partitionLeaderEpoch,
    attributes: b.attributes,
    lastOffsetDelta: b.lastOffsetDelta,
    baseTimestamp: b.baseTimestamp,
    maxTimestamp: b.maxTimestamp,
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    baseSequence: b.baseSequence,
    isTransactional: b.isTransactional,
    isControl: b.isControl,
    timestampType: b.timestampType,
    recordCount: b.recordCount,
  };
}

/** Byte equality without vitest's element-wise deep equality (slow on large buffers). */
export function sameBytes(actual: Uint8Array | null, expected: Uint8Array | null): boolean {
  if (actual === null || expected === null) return actual === expected;
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected);
}
