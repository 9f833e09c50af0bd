/**
 * Replication policies (MM2's `ReplicationPolicy`): how a source topic is named on the target.
 * Default: `<source alias><separator><topic>` (so mirrors in both directions never loop);
 * Identity: the same name (one-way mirrors, migrations).
 */
import { ConfigException } from '../../connect/sdk.js';

export interface ReplicationPolicy {
  formatRemoteTopic(sourceAlias: string, topic: string): string;
  /** The alias a remote topic came from, or null for a local topic. */
  topicSource(topic: string): string | null;
  offsetSyncsTopic(targetAlias: string): string;
  checkpointsTopic(sourceAlias: string): string;
}

export function createReplicationPolicy(className: string, separator: string): ReplicationPolicy {
  const name = className.trim().split('.').pop();
  const internal = {
    offsetSyncsTopic: (t: string) => `mm2-offset-syncs${separator}${t}${separator}internal`,
    checkpointsTopic: (s: string) => `${s}${separator}checkpoints${separator}internal`,
  };
  if (name === 'DefaultReplicationPolicy') {
    return {
      ...internal,
      formatRemoteTopic: (alias, topic) => `${alias}${separator}${topic}`,
      topicSource: (topic) => {
        const at = topic.indexOf(separator);
        return at > 0 ? topic.slice(0, at) : null;
      },
    };
  }
  if (name === 'IdentityReplicationPolicy') {
    return { ...internal, formatRemoteTopic: (_alias, topic) => topic, topicSource: () => null };
  }
  throw new ConfigException(
    'replication.policy.class',
    className,
    'use org.apache.kafka.connect.mirror.DefaultReplicationPolicy or IdentityReplicationPolicy',
  );
}
