/** Topic config keys the controller accepts (Kafka's), and checks of the values it relies on. */
import { LogError } from '../../log/errors.js';
import { LOG_CONFIG_KEYS, parseLogConfig } from '../../log/log-config.js';
import type { MetadataImage, TopicImage } from '../metadata/image.js';

/** The topic configs a cluster accepts: the log's (Kafka's names), one list for both modes. */
export const TOPIC_CONFIG_KEYS: ReadonlySet<string> = new Set<string>(LOG_CONFIG_KEYS);

export const MAX_CONFIG_VALUE_BYTES = 4096;

/** Why a topic config is refused, or null. */
export function checkTopicConfig(key: string, value: string | null): string | null {
  if (!TOPIC_CONFIG_KEYS.has(key)) return `unknown topic config "${key}"`;
  if (value === null) return null;
  if (Buffer.byteLength(value) > MAX_CONFIG_VALUE_BYTES) return `value of ${key} is too long`;
  try {
    parseLogConfig({ [key]: value });
  } catch (err) {
    return err instanceof LogError ? err.message : String(err);
  }
  return null;
}

/** unclean.leader.election.enable for a topic: its own config, else the cluster default, else false. */
export function uncleanAllowed(image: MetadataImage, topic: TopicImage | undefined): boolean {
  const v =
    topic?.configs.get('unclean.leader.election.enable') ??
    image.brokerConfigs.get('')?.get('unclean.leader.election.enable');
  // read as the log reads booleans (trimmed, any case): the value was checked with its rules
  return v?.trim().toLowerCase() === 'true';
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
