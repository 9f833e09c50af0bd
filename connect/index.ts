/**
 * Tributary Connect: a Kafka Connect-compatible runtime. Start a worker in-process:
 *
 * ```ts
 * import { startWorker } from 'tributary/connect';
 * const worker = await startWorker({
 *   client,                                   // or config: { 'data.dir': './data' } / { 'bootstrap.servers': … }
 *   config: { 'value.converter.schemas.enable': false },
 *   connectors: [{ name: 'gen', 'connector.class': 'DatagenConnector', 'kafka.topic': 'users', quickstart: 'users' }],
 *   rest: false,
 * });
 * await worker.waitForRunning('gen');
 * await worker.stop();
 * ```
 */

export type { Converter, HeaderConverter } from './converters/index.js';
export {
  ByteArrayConverter,
  JsonConverter,
  registerConverter,
  registerHeaderConverter,
  StringConverter,
} from './converters/index.js';
export { ConnectError } from './errors.js';
export type { ConnectorInfo, ConnectorStateInfo, Herder, TaskStateInfo } from './runtime/herder.js';
export { PluginRegistry } from './runtime/plugins.js';
export { type StartWorkerOptions, startWorker, type WorkerHandle } from './runtime/start.js';
export type { TaskMetrics } from './runtime/worker.js';
export { parseWorkerConfig, readConfigFile, readConnectorConfigFile } from './runtime/worker-config.js';
export type { Predicate, Transformation } from './transforms/index.js';
export { buildChain, registerPredicate, registerTransformation } from './transforms/index.js';
