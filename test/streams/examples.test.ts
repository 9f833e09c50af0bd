import { describe, expect, it } from 'vitest';
import clickstream from '../../examples/clickstream-sessions/job.js';
import fraud from '../../examples/fraud/job.js';
import metrics from '../../examples/metrics-per-minute/job.js';
import orders from '../../examples/orders-enriched/job.js';
import { TestDriver } from '../../streams/testing.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('examples', () => {
  it('orders-enriched joins each order with its customer', async () => {
    const d = await TestDriver.start(orders, { topics: { orders: 2, customers: 2, 'orders-enriched': 2 } });
    try {
      await d.pipeInput('customers', [{ key: 'c1', value: { name: 'Ada', tier: 'gold' } }]);
      await d.settle();
      await d.pipeInput('orders', [
        { key: 'o1', value: { orderId: 'o1', customerId: 'c1', amount: 10 } },
        { key: 'o2', value: { orderId: 'o2', customerId: 'c9', amount: 5 } },
      ]);
      const out = (await d.readOutput('orders-enriched')).map((r) => JSON.parse(r.value!));
      expect(out).toEqual(
        expect.arrayContaining([
          { orderId: 'o1', customerId: 'c1', amount: 10, customer: { name: 'Ada', tier: 'gold' } },
          { orderId: 'o2', customerId: 'c9', amount: 5, customer: null },
        ]),
      );
    } finally {
      await d.close();
    }
  });

  it('metrics-per-minute writes each minute once, after its grace', async () => {
    const d = await TestDriver.start(metrics, { topics: { metrics: 1, 'metrics-per-minute': 1 } });
    try {
      await d.pipeInput('metrics', [
        { key: 'h1', value: { name: 'cpu', value: 1 }, timestamp: T0 + 1000 },
        { key: 'h1', value: { name: 'cpu', value: 3 }, timestamp: T0 + 59_000 },
        { key: 'h1', value: { name: 'cpu', value: 9 }, timestamp: T0 + 65_000 },
        { key: 'h1', value: { name: 'cpu', value: 7 }, timestamp: T0 + 30_000 }, // out of order, within grace
        { key: 'h1', value: { name: 'cpu', value: 5 }, timestamp: T0 + 71_000 }, // closes minute 0
        { key: 'h1', value: { name: 'cpu', value: 100 }, timestamp: T0 + 2000 }, // late: dropped
      ]);
      const out = (await d.readOutput('metrics-per-minute')).map((r) => JSON.parse(r.value!));
      expect(out).toEqual([
        {
          host: 'h1',
          name: 'cpu',
          minute: new Date(T0).toISOString(),
          count: 3,
          sum: 11,
          min: 1,
          max: 7,
          avg: 11 / 3,
        },
      ]);
      expect(d.handle.metrics().lateRecordsDropped).toBe(1);
    } finally {
      await d.close();
    }
  });

  it('fraud alerts on a payment near a login from another country', async () => {
    const d = await TestDriver.start(fraud, { topics: { payments: 1, logins: 1, 'fraud-alerts': 1 } });
    try {
      await d.pipeInput('logins', [
        { key: 'card1', value: { country: 'NO' }, timestamp: T0 },
        { key: 'card2', value: { country: 'IT' }, timestamp: T0 },
      ]);
      await d.settle();
      await d.pipeInput('payments', [
        { key: 'card1', value: { amount: 50, country: 'BR' }, timestamp: T0 + 60_000 },
        { key: 'card2', value: { amount: 20, country: 'IT' }, timestamp: T0 + 60_000 },
        { key: 'card1', value: { amount: 70, country: 'BR' }, timestamp: T0 + 3_600_000 },
      ]);
      const out = await d.readOutput('fraud-alerts');
      expect(out.map((r) => [r.key, JSON.parse(r.value!)])).toEqual([
        ['card1', { amount: 50, paymentCountry: 'BR', loginCountry: 'NO' }],
      ]);
    } finally {
      await d.close();
    }
  });

  it('clickstream-sessions emits each session once it has closed', async () => {
    const d = await TestDriver.start(clickstream, { topics: { clicks: 1, 'click-sessions': 1 } });
    try {
      await d.pipeInput('clicks', [
        { key: 'u1', value: { page: '/a' }, timestamp: T0 },
        { key: 'u1', value: { page: '/b' }, timestamp: T0 + 60_000 },
        { key: 'u2', value: { page: '/x' }, timestamp: T0 + 120_000 },
        { key: 'u1', value: { page: '/c' }, timestamp: T0 + 3 * 3_600_000 },
      ]);
      const out = (await d.readOutput('click-sessions')).map((r) => JSON.parse(r.value!));
      expect(out).toEqual([
        { user: 'u1', start: T0, end: T0 + 60_000, clicks: 2, pages: ['/a', '/b'] },
        { user: 'u2', start: T0 + 120_000, end: T0 + 120_000, clicks: 1, pages: ['/x'] },
      ]);
    } finally {
      await d.close();
    }
  });
});
