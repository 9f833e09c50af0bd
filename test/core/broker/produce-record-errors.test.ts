/**
 * Produce v8+ names the records that failed a per-record check in `record_errors`, as Kafka's
 * broker does (the Java producer reports them per record): here, timestamps outside
 * message.timestamp.after.max.ms. Older versions get the error code and nothing else.
 */
import { expect, it, onTestFinished } from 'vitest';
import { startBroker } from '../../../core/broker/node.js';
import { connect } from '../../../core/client/index.js';
import { NetworkConnection } from '../../../core/client/network/connection.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { ErrorCode } from '../../../core/protocol/errors.js';
import { encodeBatch } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';

it('a batch with timestamps out of range: INVALID_TIMESTAMP, every such record in record_errors, nothing appended', async () => {
  const broker = await startBroker({ dataDir: tempDir(), listen: '127.0.0.1:0', log: () => {} });
  const client = await connect({ 'bootstrap.servers': broker.bootstrap });
  const conn = await NetworkConnection.connect({
    host: broker.host,
    port: broker.port,
    clientId: 'record-errors-test',
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
  });
  onTestFinished(async () => {
    conn.close();
    await client.close();
    await broker.close();
  });
  await client
    .admin()
    .createTopics([{ topic: 'clocked', configs: { 'message.timestamp.after.max.ms': '60000' } }]);
  const now = Date.now();
  const records = encodeBatch([
    { value: Buffer.from('now'), timestamp: now },
    { value: Buffer.from('in an hour'), timestamp: now + 3_600_000 },
    { value: Buffer.from('now again'), timestamp: now + 1 },
    { value: Buffer.from('in two hours'), timestamp: now + 7_200_000 },
  ]);
  const produce = (version: number) =>
    conn.request(
      ApiKey.Produce,
      {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5_000,
        topicData: [{ name: 'clocked', partitionData: [{ index: 0, records }] }],
      },
      { version },
    );

  const v9 = (await produce(9)).responses[0]!.partitionResponses[0]!;
  expect(v9.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
  expect(v9.errorMessage).toMatch(/record 1 of a batch has timestamp .*message\.timestamp\.after\.max\.ms/);
  expect(v9.recordErrors.map((e) => e.batchIndex)).toEqual([1, 3]);
  expect(v9.recordErrors[0]!.batchIndexErrorMessage).toMatch(
    new RegExp(`timestamp ${now + 3_600_000} is more than 60000 ms after the broker clock`),
  );
  const v7 = (await produce(7)).responses[0]!.partitionResponses[0]!;
  expect(v7.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
  expect(v7.recordErrors).toEqual([]); // not in v7's response

  const consumer = client.consumer();
  expect(await consumer.endOffsets([{ topic: 'clocked', partition: 0 }])).toEqual([
    { topic: 'clocked', partition: 0, offset: 0 },
  ]);
  await consumer.close();
});
