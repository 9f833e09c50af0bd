/**
 * The idempotent producer after a batch expires (KIP-360): a broker the producer cannot reach
 * (its bytes held, as in a network partition, then dropped) makes a batch expire after
 * delivery.timeout.ms. The sequence numbers the client gave that batch never reached the broker, so without a new
 * epoch every later batch of the partition would be refused (OUT_OF_ORDER_SEQUENCE_NUMBER).
 * The producer bumps its epoch and restarts the partition's sequence at 0: later records flow,
 * and each is stored exactly once.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { connect, KafkaClientError } from '../../../core/client/index.js';
import { freePort, startTestBroker } from '../../helpers/broker.js';
import { identifyKafka, ProxyNetwork } from '../../helpers/tcp-proxy.js';

async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('idempotent producer: epoch bump after an expired batch', () => {
  it('sends later records once the leader is reachable again, each stored once', async () => {
    // The broker advertises the proxy in front of it, so every connection goes through it.
    const proxyPort = await freePort();
    const brokerPort = await freePort();
    await startTestBroker({
      listen: `127.0.0.1:${brokerPort}`,
      config: { 'advertised.listeners': `127.0.0.1:${proxyPort}`, 'auto.create.topics.enable': false },
    });
    const network = new ProxyNetwork();
    onTestFinished(() => network.close());
    await network.add('1', { host: '127.0.0.1', port: brokerPort }, identifyKafka, proxyPort);

    const client = await connect({
      'bootstrap.servers': `127.0.0.1:${proxyPort}`,
      'client.id': 'bump',
      'request.timeout.ms': 800,
    });
    onTestFinished(() => client.close());
    await client.admin().createTopics([{ topic: 'bump', numPartitions: 1, replicationFactor: 1 }]);
    const producer = client.producer({
      'linger.ms': 0,
      'delivery.timeout.ms': 2500,
      'request.timeout.ms': 800,
    });
    const send = (i: number) => producer.send({ topic: 'bump', partition: 0, value: `r${i}` });
    for (let i = 0; i < 5; i++) await send(i);

    network.isolate('1'); // bytes stop both ways; sockets stay open
    const lost = await send(5).then(
      () => null,
      (err: unknown) => err,
    );
    expect(lost).toBeInstanceOf(KafkaClientError);
    expect((lost as KafkaClientError).code).toBe('TIMEOUT');
    // The held bytes are dropped (connections reset), so r5 never reaches the broker: the
    // sequence numbers it took are a gap the broker would refuse to skip.
    network.isolate('1', { mode: 'reset' });
    network.heal();

    // Later records flow (each send retried by the producer as the connection comes back).
    for (let i = 6; i < 12; i++) await send(i);
    await producer.close();

    const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
    onTestFinished(() => consumer.close());
    consumer.assign([{ topic: 'bump', partition: 0 }]);
    const values: string[] = [];
    await waitFor('the records back', async () => {
      for (const r of await consumer.poll({ timeoutMs: 200 })) values.push(String(r.value));
      return values.includes('r11');
    });
    const expected = ['r0', 'r1', 'r2', 'r3', 'r4', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11'];
    expect(values).toEqual(expected);
  }, 60_000);
});
