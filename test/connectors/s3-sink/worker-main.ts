/**
 * A Connect worker process running one S3 sink, for the SIGKILL test: `node --import tsx
 * worker-main.ts BOOTSTRAP CONNECTOR_JSON`. Started from the sources (no build needed), through the
 * same public API (`startWorker`) as `trib connect`. Prints RUNNING on stderr once the task runs.
 */
import { startWorker } from '../../../connect/index.js';
import { plugins } from '../../../connectors/s3-sink/index.js';

const [bootstrap, connectorJson] = process.argv.slice(2);
if (!bootstrap || !connectorJson) throw new Error('usage: worker-main.ts BOOTSTRAP CONNECTOR_JSON');
const connector = JSON.parse(connectorJson) as Record<string, string>;
const worker = await startWorker({
  config: {
    'bootstrap.servers': bootstrap,
    'offset.flush.interval.ms': 100,
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': false,
  },
  rest: false,
  plugins,
  connectors: [connector],
  log: (line) => process.stderr.write(`${line}\n`),
});
await worker.waitForRunning(connector.name!, { timeoutMs: 30_000 });
process.stderr.write('RUNNING\n');
