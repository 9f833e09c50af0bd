/**
 * A Connect worker inside an application, on the embedded log: datagen writes users, a file sink
 * writes them out, and the worker's task metrics give live throughput once a second.
 *
 *   npx tsc -p tsconfig.json && node dist/examples/connect/in-process.js   (or with tsx)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from '../../connect/index.js';
import { connect } from '../../core/client/index.js';

const dir = mkdtempSync(join(tmpdir(), 'trib-connect-example-'));
const client = await connect({ 'data.dir': join(dir, 'data') });
const worker = await startWorker({
  client,
  config: {
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter.schemas.enable': false,
    'offset.flush.interval.ms': 1000,
  },
  connectors: [
    {
      name: 'users',
      'connector.class': 'DatagenConnector',
      'kafka.topic': 'users',
      quickstart: 'users',
      'max.interval': 0,
      'records.per.second': 20_000,
    },
    {
      name: 'users-file',
      'connector.class': 'FileStreamSink',
      topics: 'users',
      file: join(dir, 'users.jsonl'),
      // The JSON as it is in the topic, one record per line.
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    },
  ],
  rest: false,
  log: () => {},
});
await worker.waitForRunning('users');
await worker.waitForRunning('users-file');

let last = new Map<string, number>();
for (let second = 1; second <= 5; second++) {
  await new Promise((r) => setTimeout(r, 1000));
  const now = new Map(worker.metrics().map((m) => [`${m.connector}-${m.task}`, m.records]));
  const rates = [...now].map(([task, n]) => `${task}: ${n - (last.get(task) ?? 0)} records/s`);
  console.log(`${second} s  ${rates.join('  ')}`);
  last = now;
}
await worker.stop();
await client.close();
console.log(`output in ${join(dir, 'users.jsonl')}`);
