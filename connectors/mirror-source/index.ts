/**
 * Mirroring between clusters, as MirrorMaker 2 on Kafka Connect: MirrorSourceConnector copies
 * topics (and writes offset syncs), MirrorCheckpointConnector translates consumer group offsets.
 * MM2's class names are aliases. A mirror copies bytes: its connector configs set
 * `key.converter`, `value.converter` and `header.converter` to ByteArrayConverter, which this
 * module also registers as a header converter (Kafka's ByteArrayConverter is one).
 */
import { registerHeaderConverter } from '../../connect/converters/index.js';
import { type ConnectorPlugin, DataException, type Schema } from '../../connect/sdk.js';
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

registerHeaderConverter(
  ['org.apache.kafka.connect.converters.ByteArrayConverter', 'ByteArrayConverter'],
  () => ({
    configure(): void {},
    fromConnectHeader(_topic: string, key: string, _schema: Schema | null, value: unknown): Buffer | null {
      if (value === null || value === undefined) return null;
      if (Buffer.isBuffer(value)) return value;
      if (value instanceof Uint8Array) return Buffer.from(value);
      throw new DataException(`ByteArrayConverter: header ${key} is not bytes`);
    },
    toConnectHeader(_topic: string, _key: string, bytes: Buffer | null) {
      return { schema: bytes === null ? null : ({ type: 'bytes', optional: true } as Schema), value: bytes };
    },
  }),
);

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
