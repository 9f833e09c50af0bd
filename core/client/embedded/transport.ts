/**
 * The embedded cluster: one Broker opened in this process over a data directory. Every client
 * made from the same connect() shares it; the last close() closes it.
 */
import { Broker } from '../../broker/broker.js';
import type { BrokerAddress, Transport } from '../cluster.js';
import type { BrokerConnection } from '../connection.js';
import { KafkaClientError } from '../errors.js';
import { EmbeddedConnection } from './connection.js';

export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;

  constructor(readonly broker: Broker) {}

  static async open(
    dataDir: string,
    config: Readonly<Record<string, unknown>> = {},
  ): Promise<EmbeddedTransport> {
    const broker = await Broker.open({
      dataDir,
      // One process, no network: the first consumer of a group need not wait for others.
      config: { 'group.initial.rebalance.delay.ms': 0, ...config },
      endpoint: { host: 'embedded', port: 0 },
    });
    return new EmbeddedTransport(broker);
  }

  async bootstrap(clientId: string): Promise<BrokerConnection> {
    return new EmbeddedConnection(this.broker, clientId);
  }

  async connect(address: BrokerAddress, clientId: string): Promise<BrokerConnection> {
    if (address.nodeId !== this.broker.endpoint().nodeId) {
      throw new KafkaClientError(
        'LEADER_NOT_AVAILABLE',
        `broker ${address.nodeId} is not the embedded broker`,
      );
    }
    return new EmbeddedConnection(this.broker, clientId);
  }

  close(): Promise<void> {
    return this.broker.close();
  }
}
