/**
 * The S3 sink as a plugin: Confluent's class name and the short forms are aliases, so Confluent
 * S3 sink configs paste unchanged.
 */
import type { ConnectorPlugin } from '../../connect/sdk.js';
import { VERSION } from './config.js';
import { S3SinkConnector } from './connector.js';

export { parseS3SinkConfig, type S3SinkConfig, s3SinkConfigDef } from './config.js';
export { S3SinkConnector } from './connector.js';
export { type ObjectStore, S3ObjectStore, s3ClientConfig } from './storage.js';
export { S3SinkTask, type S3SinkTaskOptions } from './task.js';

export const plugins: ConnectorPlugin[] = [
  {
    className: 'io.confluent.connect.s3.S3SinkConnector',
    aliases: ['S3SinkConnector', 'S3Sink'],
    type: 'sink',
    version: VERSION,
    create: () => new S3SinkConnector(),
  },
];
