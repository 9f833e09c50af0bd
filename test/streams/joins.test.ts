import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineJob,
  joinForeignKey,
  joinGlobal,
  joinStream,
  joinTable,
  joinTables,
  joinWindows,
  jsonSerde,
  leftJoinTable,
  to,
} from '../../streams/index.js';
import { TestDriver } from '../../streams/testing.js';

const pairs = (out: { key: string | null; value: string | null }[]) => out.map((r) => `${r.key}=${r.value}`);

const job = defineJob({
  applicationId: 'joins',
  build(b) {
    // stream–table and stream–global-table
    const customers = b.table<string, string>('customers');
    const orders = b.stream<string, string>('orders');
    orders.pipe(
      joinTable(customers, (o, c) => `${o}/${c}`),
      to('orders-inner'),
    );
    orders.pipe(
      leftJoinTable(customers, (o, c) => `${o}/${c}`),
      to('orders-left'),
    );
    const regions = b.globalTable<string, string>('regions');
    orders.pipe(
      joinGlobal(
        regions,
        (_k, o) => o.split(':')[0]!,
        (o, region) => `${o}@${region}`,
        { left: true },
      ),
      to('orders-region'),
    );
    // stream–stream, window ±100 ms, grace 0
    const left = b.stream<string, string>('left');
    const right = b.stream<string, string>('right');
    for (const kind of ['inner', 'left', 'outer'] as const) {
      left.pipe(
        joinStream(right, (l, r) => `${l}+${r}`, joinWindows(100), { kind, name: `ss-${kind}` }),
        to(`ss-${kind}`),
      );
    }
    // table–table
    const tl = b.table<string, string>('tl');
    const tr = b.table<string, string>('tr');
    for (const kind of ['inner', 'left', 'outer'] as const) {
      joinTables(tl, tr, (l, r) => `${l}|${r}`, { kind }).pipe(to(`tt-${kind}`));
    }
    // foreign key: order rows point at a product
    const items = b.table<string, { product: string; qty: number }>('items', {
      valueSerde: jsonSerde<{ product: string; qty: number }>(),
    });
    const products = b.table<string, string>('products');
    joinForeignKey(
      items,
      products,
      (item) => item.product,
      (item, product) => `${item.qty}x${product}`,
    ).pipe(to('fk'));
  },
});

const TOPICS: Record<string, number> = {};
for (const t of [
  'customers',
  'orders',
  'regions',
  'orders-inner',
  'orders-left',
  'orders-region',
  'left',
  'right',
  'ss-inner',
  'ss-left',
  'ss-outer',
  'tl',
  'tr',
  'tt-inner',
  'tt-left',
  'tt-outer',
  'items',
  'products',
  'fk',
])
  TOPICS[t] = 1;

describe('joins', () => {
  let driver: TestDriver;
  beforeAll(async () => {
    driver = await TestDriver.start(
      job,
      // the global table is loaded before the job starts: give it data first
      { topics: TOPICS },
    );
  });
  afterAll(() => driver.close());

  it('stream–table inner and left joins use the table value at the time of the record', async () => {
    await driver.pipeInput('customers', [{ key: 'c1', value: 'Ada' }]);
    await driver.settle();
    await driver.pipeInput('orders', [
      { key: 'c1', value: 'eu:o1' },
      { key: 'c2', value: 'us:o2' },
    ]);
    await driver.settle();
    await driver.pipeInput('customers', [{ key: 'c1', value: 'Ada L.' }]);
    await driver.settle();
    await driver.pipeInput('orders', [{ key: 'c1', value: 'eu:o3' }]);
    expect(pairs(await driver.readOutput('orders-inner'))).toEqual(['c1=eu:o1/Ada', 'c1=eu:o3/Ada L.']);
    expect(pairs(await driver.readOutput('orders-left'))).toEqual([
      'c1=eu:o1/Ada',
      'c2=us:o2/null',
      'c1=eu:o3/Ada L.',
    ]);
  });

  it('stream–global-table join (left) looks up by a key computed from the record', async () => {
    await driver.pipeInput('regions', [{ key: 'eu', value: 'Europe' }]);
    await new Promise((r) => setTimeout(r, 300)); // the global table catches up between polls
    await driver.pipeInput('orders', [{ key: 'c3', value: 'eu:o4' }]);
    const out = pairs(await driver.readOutput('orders-region'));
    expect(out).toEqual(['c1=eu:o1@null', 'c2=us:o2@null', 'c1=eu:o3@null', 'c3=eu:o4@Europe']);
  });

  it('stream–stream joins: inner within the window, left/outer emit unmatched records when the window closes', async () => {
    // (stream time is per task and earlier tests used the wall clock: start well after it)
    const t = Date.now() + 10_000_000;
    await driver.pipeInput('left', [
      { key: 'a', value: 'L1', timestamp: t },
      { key: 'b', value: 'L2', timestamp: t },
    ]);
    await driver.settle();
    await driver.pipeInput('right', [
      { key: 'a', value: 'R1', timestamp: t + 50 },
      { key: 'a', value: 'R2', timestamp: t + 200 },
      { key: 'c', value: 'R3', timestamp: t + 210 },
    ]);
    await driver.settle();
    // advance stream time far enough to close every window
    await driver.pipeInput('left', [{ key: 'z', value: 'L9', timestamp: t + 5000 }]);
    expect(pairs(await driver.readOutput('ss-inner'))).toEqual(['a=L1+R1']);
    const left = pairs(await driver.readOutput('ss-left'));
    expect(left).toContain('a=L1+R1');
    expect(left).toContain('b=L2+null');
    expect(left).not.toContain('c=null+R3');
    const outer = pairs(await driver.readOutput('ss-outer'));
    expect(outer).toEqual(expect.arrayContaining(['a=L1+R1', 'b=L2+null', 'a=null+R2', 'c=null+R3']));
    expect(outer).toHaveLength(4);
    // z at t+5000 is still within its window: no result yet for it anywhere
    expect(left).not.toContain('z=L9+null');
  });

  it('table–table joins: inner, left and outer, with tombstones', async () => {
    await driver.pipeInput('tl', [{ key: 'k1', value: 'l1' }]);
    await driver.settle();
    await driver.pipeInput('tr', [
      { key: 'k1', value: 'r1' },
      { key: 'k2', value: 'r2' },
    ]);
    await driver.settle();
    await driver.pipeInput('tl', [{ key: 'k1', value: null }]);
    expect(pairs(await driver.readOutput('tt-inner'))).toEqual(['k1=l1|r1', 'k1=null']);
    expect(pairs(await driver.readOutput('tt-left'))).toEqual(['k1=l1|null', 'k1=l1|r1', 'k1=null']);
    expect(pairs(await driver.readOutput('tt-outer'))).toEqual([
      'k1=l1|null',
      'k1=l1|r1',
      'k2=null|r2',
      'k1=null|r1',
    ]);
  });

  it('foreign-key join follows changes on both sides', async () => {
    await driver.pipeInput('products', [{ key: 'p1', value: 'apple' }]);
    await driver.settle();
    await driver.pipeInput('items', [{ key: 'i1', value: { product: 'p1', qty: 2 } }]);
    await driver.settle();
    await driver.pipeInput('products', [{ key: 'p1', value: 'green apple' }]);
    await driver.settle();
    await driver.pipeInput('items', [{ key: 'i1', value: { product: 'p2', qty: 3 } }]);
    expect(pairs(await driver.readOutput('fk'))).toEqual(['i1=2xapple', 'i1=2xgreen apple', 'i1=null']);
  });
});
