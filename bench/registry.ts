/**
 * Schema registry benchmark (a program, not a test): the Avro serde's rates against avsc alone
 * (the framing and id lookups are the difference), schemas registered per second, and lookups by
 * id over HTTP, all against a registry on the embedded log in a temporary directory.
 *
 *   npx tsx bench/registry.ts [--quick]
 *
 * `run()` returns the figures as BenchResults for bench/run.ts (module name `registry`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import avro from 'avsc';
import { connect } from '../core/client/index.js';
import { createAvroSerde, startRegistry } from '../registry/index.js';
import type { BenchResult } from './types.js';

const SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'bench',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'items', type: { type: 'array', items: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

function rate(count: number, fn: (i: number) => void): number {
  for (let i = 0; i < count / 5; i++) fn(i); // warm-up: let the JIT settle first
  const start = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  return count / ((performance.now() - start) / 1000);
}

async function rateAsync(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const n = opts.quick ? 50_000 : 500_000;
  const dir = mkdtempSync(join(tmpdir(), 'trib-bench-registry-'));
  const client = await connect({ 'data.dir': dir });
  const registry = await startRegistry({ client, listen: '127.0.0.1:0' });
  try {
    const value = { id: 1, customer: 'customer-42', amount: 12.5, items: ['a', 'b', 'c'], note: null };
    const type = avro.Type.forSchema(SCHEMA as avro.Schema);
    const serde = await createAvroSerde<typeof value>({
      registry: registry.url,
      schema: SCHEMA,
      topics: ['orders'],
    });
    const bytes = serde.serialize(value, 'orders')!;
    const raw = type.toBuffer(value);
    const rawSer = rate(n, () => type.toBuffer(value));
    const ser = rate(n, () => serde.serialize(value, 'orders'));
    const rawDe = rate(n, () => type.fromBuffer(raw));
    const de = rate(n, () => serde.deserialize(bytes, 'orders'));

    const schemas = opts.quick ? 200 : 1000;
    const register = await rateAsync(schemas, 8, (i) =>
      fetch(`${registry.url}/subjects/bench-${i % 50}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: `R${i}`, fields: [] }) }),
      }).then((r) => r.text()),
    );
    const lookups = opts.quick ? 2000 : 20_000;
    const byId = await rateAsync(lookups, 16, (i) =>
      fetch(`${registry.url}/schemas/ids/${(i % schemas) + 1}`).then((r) => r.text()),
    );
    return [
      { name: 'avro serialize, avsc alone', value: rawSer, unit: 'records/s' },
      {
        name: 'avro serde serialize (framed, cached id)',
        value: ser,
        unit: 'records/s',
        ratio: { of: 'avsc alone', value: ser / rawSer },
      },
      { name: 'avro deserialize, avsc alone', value: rawDe, unit: 'records/s' },
      {
        name: 'avro serde deserialize (framed, cached schema)',
        value: de,
        unit: 'records/s',
        ratio: { of: 'avsc alone', value: de / rawDe },
      },
      { name: 'schemas registered (8 concurrent clients, 50 subjects)', value: register, unit: 'schemas/s' },
      { name: 'GET /schemas/ids/{id} (16 concurrent)', value: byId, unit: 'requests/s' },
    ];
  } finally {
    await registry.close();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await run({ quick: process.argv.includes('--quick') });
  for (const r of results) {
    const ratio = r.ratio ? `  (${r.ratio.value.toFixed(2)}× ${r.ratio.of})` : '';
    console.log(
      `${r.name.padEnd(56)} ${Math.round(r.value).toLocaleString('en').padStart(12)} ${r.unit}${ratio}`,
    );
  }
}
