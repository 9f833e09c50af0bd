/** Topic config keys the controller accepts (Kafka's), and checks of the values it relies on. */
import type { MetadataImage, TopicImage } from '../metadata/image.js';

export const TOPIC_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'cleanup.policy',
  'compression.type',
  'delete.retention.ms',
  'file.delete.delay.ms',
  'flush.messages',
  'flush.ms',
  'index.interval.bytes',
  'local.retention.bytes',
  'local.retention.ms',
  'max.compaction.lag.ms',
  'max.message.bytes',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.type',
  'min.cleanable.dirty.ratio',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'preallocate',
  'retention.bytes',
  'retention.ms',
  'segment.bytes',
  'segment.index.bytes',
  'segment.jitter.ms',
  'segment.ms',
  'unclean.leader.election.enable',
]);

export const MAX_CONFIG_VALUE_BYTES = 4096;

/** Why a topic config is refused, or null. */
export function checkTopicConfig(key: string, value: string | null): string | null {
  if (!TOPIC_CONFIG_KEYS.has(key)) return `unknown topic config "${key}"`;
  if (value === null) return null;
  if (Buffer.byteLength(value) > MAX_CONFIG_VALUE_BYTES) return `value of ${key} is too long`;
  if (key === 'unclean.leader.election.enable' && value !== 'true' && value !== 'false')
    return `${key} must be true or false`;
  if (key === 'min.insync.replicas' && !/^[1-9]\d{0,4}$/.test(value))
    return `${key} must be a positive integer`;
  if (key.endsWith('.ms') || key.endsWith('.bytes') || key.endsWith('.messages')) {
    if (!/^-?\d{1,19}$/.test(value)) return `${key} must be an integer`;
  }
  return null;
}

/** unclean.leader.election.enable for a topic: its own config, else the cluster default, else false. */
export function uncleanAllowed(image: MetadataImage, topic: TopicImage | undefined): boolean {
  const v =
    topic?.configs.get('unclean.leader.election.enable') ??
    image.brokerConfigs.get('')?.get('unclean.leader.election.enable');
  return v === 'true';
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

export function checkTopicName(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `topic name is longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (name === '.' || name === '..') return `topic name "${name}" is not allowed`;
  if (!TOPIC_NAME.test(name)) return `topic name "${name}" has characters other than a-z A-Z 0-9 . _ -`;
  return null;
}
