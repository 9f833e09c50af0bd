/** Kafka topic ids: 16 random bytes, printed as 22 characters of base64url without padding. */
import type { Random } from '../../env/random.js';

export const TOPIC_ID_BYTES = 16;

export function newTopicId(random: Random): string {
  const b = new Uint8Array(TOPIC_ID_BYTES);
  random.fill(b);
  // Kafka reserves the all-zero id and ids starting with '-' are awkward on command lines
  b[0] = (b[0]! & 0x7f) | 0x01;
  return topicIdToString(b);
}

export function topicIdToString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** The 16 bytes of a topic id; throws RangeError when it is not a valid id. */
export function topicIdToBytes(id: string): Uint8Array {
  const b = Buffer.from(id, 'base64url');
  if (b.length !== TOPIC_ID_BYTES || id.length !== 22) throw new RangeError(`not a topic id: "${id}"`);
  return b;
}

export function isTopicId(id: string): boolean {
  return id.length === 22 && /^[A-Za-z0-9_-]+$/.test(id) && Buffer.from(id, 'base64url').length === 16;
}
