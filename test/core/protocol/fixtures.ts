/**
 * Golden bytes captured by other Kafka clients, stored as hex (one file per message body).
 * They live in test/fixtures/protocol/ or, if moved there, in the steering repo's
 * shared/fixtures/protocol/ beside the work tree; the first that exists is used.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const CANDIDATES = [
  new URL('../../fixtures/protocol/', import.meta.url),
  new URL('../../../../shared/fixtures/protocol/', import.meta.url),
];

export const FIXTURES_ROOT: URL | undefined = CANDIDATES.find((u) => existsSync(new URL('kafkajs/', u)));

/** The bytes of `<source>/<path>.hex`, e.g. fixture('kafkajs', 'produce/v3_request'). */
export function fixture(source: 'kafkajs' | 'sarama', path: string): Buffer {
  if (!FIXTURES_ROOT) throw new Error('protocol fixtures not found');
  return Buffer.from(readFileSync(new URL(`${source}/${path}.hex`, FIXTURES_ROOT), 'utf8').trim(), 'hex');
}

/** Fixture paths (without .hex) under `<source>/<dir>`. */
export function listFixtures(source: 'kafkajs' | 'sarama', dir = ''): string[] {
  if (!FIXTURES_ROOT) return [];
  const root = new URL(`${source}/${dir ? `${dir}/` : ''}`, FIXTURES_ROOT);
  return readdirSync(root).map((f) => f.replace(/\.hex$/, ''));
}
