/**
 * The file connectors as plugins: Kafka's class names and short forms are aliases.
 */
import type { ConnectorPlugin } from '../../connect/sdk.js';
import { FileStreamSinkConnector } from './sink.js';
import { FileStreamSourceConnector, VERSION } from './source.js';

export { FileStreamSinkConnector, FileStreamSinkTask } from './sink.js';
export { FileStreamSourceConnector, FileStreamSourceTask } from './source.js';

export const plugins: ConnectorPlugin[] = [
  {
    className: 'org.apache.kafka.connect.file.FileStreamSourceConnector',
    aliases: ['FileStreamSourceConnector', 'FileStreamSource'],
    type: 'source',
    version: VERSION,
    create: () => new FileStreamSourceConnector(),
  },
  {
    className: 'org.apache.kafka.connect.file.FileStreamSinkConnector',
    aliases: ['FileStreamSinkConnector', 'FileStreamSink'],
    type: 'sink',
    version: VERSION,
    create: () => new FileStreamSinkConnector(),
  },
];
