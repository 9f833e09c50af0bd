/**
 * Mirroring between clusters, as MirrorMaker 2 on Kafka Connect: MirrorSourceConnector copies
 * topics (and writes offset syncs), MirrorCheckpointConnector translates consumer group offsets.
 * MM2's class names are aliases. A mirror copies bytes: its connector configs set
 * `key.converter`, `value.converter` and `header.converter` to ByteArrayConverter.
 */
import type { ConnectorPlugin } from '../../connect/sdk.js';
import { MirrorCheckpointConnector } from './checkpoint.js';
import { VERSION } from './config.js';
import { MirrorSourceConnector } from './source-connector.js';

export { MirrorCheckpointConnector, MirrorCheckpointTask } from './checkpoint.js';
export { parseMirrorCheckpointConfig, parseMirrorSourceConfig } from './config.js';
export { createReplicationPolicy, type ReplicationPolicy } from './policy.js';
export {
  type Checkpoint,
  decodeCheckpoint,
  decodeOffsetSync,
  type OffsetSync,
  OffsetSyncStore,
} from './records.js';
export { MirrorSourceConnector } from './source-connector.js';
export { MirrorSourceTask } from './source-task.js';

export const plugins: ConnectorPlugin[] = [
  {
    className: 'org.apache.kafka.connect.mirror.MirrorSourceConnector',
    aliases: ['MirrorSourceConnector', 'MirrorSource'],
    type: 'source',
    version: VERSION,
    create: () => new MirrorSourceConnector(),
  },
  {
    className: 'org.apache.kafka.connect.mirror.MirrorCheckpointConnector',
    aliases: ['MirrorCheckpointConnector', 'MirrorCheckpoint'],
    type: 'source',
    version: VERSION,
    create: () => new MirrorCheckpointConnector(),
  },
];
