/**
 * Topic names, Kafka's rules (`org.apache.kafka.common.internals.Topic`):
 * - 1 to 249 characters, each one of ASCII letters and digits, '.', '_' and '-';
 * - not "." nor "..";
 * - '.' and '_' collide: metric names replace '.' by '_', so Kafka refuses `a.b` when `a_b`
 *   exists (and the reverse). {@link collisionName} gives the name both map to.
 *
 * 249 is what keeps a partition directory name, `<topic>-<partition>` plus the
 * `.<32 hex>-delete` suffix a deleted partition gets, within 255 bytes.
 *
 * Topics whose name starts with `__` (`__consumer_offsets`, `__transaction_state`, …) are
 * internal: created by the broker itself, hidden from listings unless asked for.
 */
import { LogError } from './errors.js';

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Throws LogError INVALID_TOPIC_EXCEPTION saying what is wrong with the name. */
export function validateTopicName(name: string): void {
  const problem = topicNameProblem(name);
  if (problem !== undefined) throw new LogError('INVALID_TOPIC_EXCEPTION', problem);
}

/** Why the name is illegal, or undefined when it is legal. */
export function topicNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return (
      `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters ` +
      `(it has ${name.length}): ${name.slice(0, 40)}...`
    );
  }
  if (!LEGAL.test(name)) {
    return (
      `Topic name ${JSON.stringify(name)} is illegal, it contains a character other than ` +
      "ASCII alphanumerics, '.', '_' and '-'"
    );
  }
  return undefined;
}

/** The name '.' and '_' both map to; two topics with the same collision name cannot coexist. */
export function collisionName(name: string): string {
  return name.replaceAll('.', '_');
}

export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}
