#!/usr/bin/env node
/**
 * Captures golden bytes: runs real Kafka clients (kcat/librdkafka, kafkajs, kafka-python)
 * against librdkafka's mock cluster through the recording proxy (proxy.mjs), and writes
 *
 *   test/fixtures/protocol/<scenario>.jsonl   every request/response pair, whole frames as hex
 *   test/fixtures/protocol/captures.json      what ran: clients, broker, the steps' commands
 *   test/fixtures/records/<scenario>.<step>.{bin,json}
 *                                             the record batches of each Produce step (as the
 *                                             client wrote them) and of each fetch step (as the
 *                                             broker returned them), with the records the client
 *                                             was given and kafka-python's decoding of the bytes
 *
 * Usage (see README.md for the one-time setup):
 *
 *   node tools/capture/capture.mjs [scenario...]
 *
 * Scenarios: kcat-librdkafka-2.0.2, kafkajs-2.2.4, kafka-python-2.0.2 (against Debian's
 * librdkafka 2.0.2 mock), kcat-librdkafka-2.12.0 (kcat on librdkafka 2.12.0, against its mock;
 * needs build-librdkafka.sh). Without arguments: all of them.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchRecordSets, produceRecordSets, wholeBatches } from './extract.mjs';
import { startMockCluster } from './mock.mjs';
import { startCaptureProxies } from './proxy.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PROTOCOL_DIR = join(ROOT, 'test', 'fixtures', 'protocol');
const RECORDS_DIR = join(ROOT, 'test', 'fixtures', 'records');
const DEBIAN_PYTHON = '/usr/bin/python3';
const LIBRDKAFKA_2_12 = join(HERE, '.build', 'librdkafka-2.12.0', 'src');
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const require = createRequire(import.meta.url);

// ------------------------------------------------------------------------------------ inputs

const LOREM = 'lorem ipsum dolor sit amet, consectetur adipiscing elit ';

/**
 * The records a step gives its client: keys and values as strings or null (every tenth from
 * the fourth has a null key, from the sixth a null value, from the eighth a non-ASCII value),
 * values of 20 to 400 bytes so lengths take one- and two-byte varints.
 */
function inputRecords(tag, count, headers) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const key = i % 10 === 3 ? null : `key-${i}`;
    let value = `${tag} ${i} ${LOREM.repeat(i % 7)}`.trimEnd();
    if (i % 10 === 5) value = null;
    if (i % 10 === 7) value = `${tag} ${i} héllo wörld ✓ 🚀 ${'ü'.repeat(i % 50)}`;
    out.push({ key, value, headers: headers(i) });
  }
  return out;
}

/** Short records for the "many" steps: enough bytes for several compression blocks. */
function manyRecords(tag, count, headers) {
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push({
      key: `k${i}`,
      value: `${tag} record ${i} ${LOREM.slice(0, 20 + (i % 37))}`,
      headers: headers(i),
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------ processes

function run(cmd, args, { input, env, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}:\n${stderr}`));
    });
    child.stdin.on('error', () => {}); // a child that exits without reading its input
    child.stdin.end(input ?? '');
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function versionOf(cmd, args, env = {}) {
  return new Promise((resolve) =>
    execFile(cmd, args, { env: { ...process.env, ...env } }, (_e, out, err) => resolve(`${out}${err}`)),
  );
}

// ------------------------------------------------------------------------------------ scenarios

/**
 * A scenario runs against one mock cluster; each step is recorded under its name.
 * `steps` returns [{ name, command, run(bootstrap) → { topic?, input? } }].
 */
const SCENARIOS = {
  'kcat-librdkafka-2.0.2': () => kcatScenario({ lib: 'librdkafka.so.1', env: {}, tag: 'kcat' }),
  'kcat-librdkafka-2.12.0': () =>
    kcatScenario({
      lib: join(LIBRDKAFKA_2_12, 'librdkafka.so.1'),
      env: { LD_LIBRARY_PATH: LIBRDKAFKA_2_12 },
      tag: 'kcat212',
    }),
  'kafkajs-2.2.4': () => kafkajsScenario(),
  'kafka-python-2.0.2': () => kafkaPythonScenario(),
};

async function kcatScenario({ lib, env, tag }) {
  const kcatVersion = (await versionOf('kcat', ['-V'])).match(/Version (\S+)/)?.[1];
  const libVersion = (await versionOf('kcat', ['-V'], env)).match(/librdkafka (\S+)/)?.[1];
  const kcatHeaders = () => [
    ['source', 'kcat'],
    ['nul', null],
  ];
  const lines = (records) => `${records.map((r) => `${r.key ?? ''}:${r.value ?? ''}`).join('\n')}\n`;
  const kcat = (bootstrap, args, input) =>
    run('kcat', ['-b', bootstrap, ...args], { env, input, timeoutMs: 60_000 });
  const produceArgs = (topic, codec, extra = []) => [
    '-P',
    '-t',
    topic,
    '-p',
    '0',
    '-K',
    ':',
    '-Z',
    '-H',
    'source=kcat',
    '-H',
    'nul',
    '-z',
    codec,
    '-X',
    'linger.ms=500',
    ...extra,
  ];
  /** Consumes a whole partition and checks kcat read back what it was given. */
  const consumeArgs = (topic) => [
    '-C',
    '-t',
    topic,
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-X',
    'check.crcs=true',
    '-J',
  ];
  const steps = [];
  steps.push({
    name: 'metadata',
    command: 'kcat -b B -L; kcat -b B -L -t <new topic>',
    run: async (b) => {
      await kcat(b, ['-L']);
      await kcat(b, ['-L', '-t', `${tag}-auto-created`]);
    },
  });
  const produced = [];
  for (const codec of CODECS) {
    const topic = `${tag}-${codec}`;
    const input = inputRecords(`${tag} ${codec}`, 20, kcatHeaders);
    const args = produceArgs(topic, codec);
    produced.push({ topic, input, codec });
    steps.push({
      name: `produce-${codec}`,
      command: `kcat -b B ${args.join(' ')} < records`,
      records: { topic, input, codec },
      run: (b) => kcat(b, args, lines(input)),
    });
  }
  {
    const topic = `${tag}-many`;
    const input = manyRecords(`${tag} many`, 2000, kcatHeaders);
    const args = produceArgs(topic, 'lz4');
    produced.push({ topic, input, codec: 'lz4' });
    steps.push({
      name: 'produce-many-lz4',
      command: `kcat -b B ${args.join(' ')} < records`,
      records: { topic, input, codec: 'lz4' },
      run: (b) => kcat(b, args, lines(input)),
    });
  }
  {
    const topic = `${tag}-idempotent`;
    const input = inputRecords(`${tag} idempotent`, 20, kcatHeaders);
    const args = produceArgs(topic, 'snappy', ['-X', 'enable.idempotence=true']);
    produced.push({ topic, input, codec: 'snappy' });
    steps.push({
      name: 'produce-idempotent-snappy',
      command: `kcat -b B ${args.join(' ')} < records`,
      records: { topic, input, codec: 'snappy' },
      run: (b) => kcat(b, args, lines(input)),
    });
  }
  {
    const topic = `${tag}-transactional`;
    const input = inputRecords(`${tag} transactional`, 20, kcatHeaders);
    const args = produceArgs(topic, 'zstd', ['-X', `transactional.id=${tag}-txn`]);
    produced.push({ topic, input, codec: 'zstd', transactional: true });
    steps.push({
      name: 'produce-transactional-zstd',
      command: `kcat -b B ${args.join(' ')} < records`,
      records: { topic, input, codec: 'zstd' },
      run: (b) => kcat(b, args, lines(input)),
    });
  }
  for (const p of produced) {
    const args = consumeArgs(p.topic);
    steps.push({
      name: `fetch-${p.topic.slice(tag.length + 1)}`,
      command: `kcat -b B ${args.join(' ')}`,
      // The broker's copy of a transactional topic has its control batches: keep it as records.
      ...(p.transactional ? { fetched: { topic: p.topic, input: p.input, codec: p.codec } } : {}),
      run: async (b) => {
        const { stdout } = await kcat(b, args);
        const got = stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        // Control records are not messages: kcat shows what the producer sent, nothing else.
        if (got.length !== p.input.length) throw new Error(`${p.topic}: read ${got.length} records`);
        got.forEach((m, i) => {
          if (m.key !== p.input[i].key || m.payload !== p.input[i].value) {
            throw new Error(`${p.topic}: record ${i} read back as ${JSON.stringify(m)}`);
          }
        });
      },
    });
  }
  const groupArgs = [
    '-G',
    `${tag}-group`,
    '-e',
    '-X',
    'auto.offset.reset=earliest',
    '-X',
    'heartbeat.interval.ms=100',
    '-X',
    'auto.commit.interval.ms=100',
    '-X',
    'check.crcs=true',
    '-f',
    '%t %p %o\\n',
    `${tag}-none`,
    `${tag}-gzip`,
  ];
  steps.push({
    name: 'group',
    command: `kcat -b B ${groupArgs.join(' ')}`,
    run: (b) => kcat(b, groupArgs),
  });
  steps.push({
    name: 'group-rejoin',
    command: `kcat -b B ${groupArgs.join(' ')} (again: committed offsets, nothing to read)`,
    run: (b) => kcat(b, groupArgs),
  });
  const queryArgs = ['-Q', '-t', `${tag}-none:0:0`, '-t', `${tag}-gzip:0:-1`];
  steps.push({
    name: 'list-offsets',
    command: `kcat -b B ${queryArgs.join(' ')}`,
    run: (b) => kcat(b, queryArgs),
  });
  return {
    lib,
    client: `kcat ${kcatVersion} (librdkafka ${libVersion})`,
    steps,
  };
}

async function kafkajsScenario() {
  const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs');
  const kafkajsVersion = require('kafkajs/package.json').version;
  const SnappyCodec = require('kafkajs-snappy');
  const LZ4Codec = require('kafkajs-lz4');
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
  const codecs = {
    none: CompressionTypes.None,
    gzip: CompressionTypes.GZIP,
    snappy: CompressionTypes.Snappy,
    lz4: CompressionTypes.LZ4,
  };
  const headers = (i) => [
    ['source', 'kafkajs'],
    ['index', String(i)],
  ];
  const message = (r) => ({
    key: r.key,
    value: r.value,
    headers: Object.fromEntries(r.headers),
    partition: 0,
  });
  const kafka = (b) =>
    new Kafka({ clientId: 'kafkajs-capture', brokers: b.split(','), logLevel: logLevel.NOTHING });
  const withProducer = async (b, opts, fn) => {
    const producer = kafka(b).producer({ allowAutoTopicCreation: true, ...opts });
    await producer.connect();
    try {
      await fn(producer);
    } finally {
      await producer.disconnect();
    }
  };
  const steps = [];
  for (const [codec, type] of Object.entries(codecs)) {
    const topic = `kafkajs-${codec}`;
    const input = inputRecords(`kafkajs ${codec}`, 20, headers);
    steps.push({
      name: `produce-${codec}`,
      command: `producer.send({ topic: '${topic}', compression: CompressionTypes.${Object.keys(CompressionTypes).find((k) => CompressionTypes[k] === type)}, messages })`,
      records: { topic, input, codec },
      run: (b) =>
        withProducer(b, {}, (p) => p.send({ topic, compression: type, messages: input.map(message) })),
    });
  }
  // No idempotent-only step: kafkajs sends that InitProducerId to the controller named in
  // Metadata, and the mock's controller id names no broker (KafkaJSBrokerNotFound). The
  // transactional producer below asks its transaction coordinator instead.
  const txnTopic = 'kafkajs-transactional';
  const committed = inputRecords('kafkajs committed', 10, headers);
  const aborted = inputRecords('kafkajs aborted', 5, headers);
  steps.push({
    name: 'produce-transactional',
    command:
      "kafka.producer({ transactionalId: 'kafkajs-txn', maxInFlightRequests: 1 }): one transaction committed, then one aborted",
    run: (b) =>
      // idempotent: true would also make connect() fetch a producer id from the controller.
      withProducer(b, { transactionalId: 'kafkajs-txn', maxInFlightRequests: 1 }, async (p) => {
        let txn = await p.transaction();
        await txn.send({ topic: txnTopic, messages: committed.map(message) });
        await txn.commit();
        txn = await p.transaction();
        await txn.send({ topic: txnTopic, messages: aborted.map(message) });
        await txn.abort();
      }),
  });
  steps.push({
    name: 'admin',
    command:
      'admin.fetchTopicMetadata(), fetchTopicOffsets(), fetchTopicOffsetsByTimestamp(), fetchOffsets()',
    run: async (b) => {
      const admin = kafka(b).admin();
      await admin.connect();
      try {
        await admin.fetchTopicMetadata({ topics: ['kafkajs-none', 'kafkajs-gzip'] });
        await admin.fetchTopicMetadata();
        await admin.fetchTopicOffsets('kafkajs-none');
        await admin.fetchTopicOffsetsByTimestamp('kafkajs-gzip', 0);
        await admin.fetchOffsets({ groupId: 'kafkajs-group', topics: ['kafkajs-none'] });
      } finally {
        await admin.disconnect();
      }
    },
  });
  const consumeAll = async (b, groupId, topics, count, opts = {}) => {
    const consumer = kafka(b).consumer({
      groupId,
      heartbeatInterval: 300,
      sessionTimeout: 10_000,
      maxWaitTimeInMs: 200,
      ...opts,
    });
    await consumer.connect();
    const seen = [];
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${groupId}: read ${seen.length}/${count}`)), 30_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              seen.push(message);
              if (seen.length >= count) {
                clearTimeout(timer);
                // Let a heartbeat and an auto-commit go out before leaving.
                setTimeout(resolve, 800);
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  };
  steps.push({
    name: 'group',
    command:
      "consumer({ groupId: 'kafkajs-group' }) reads kafkajs-none and kafkajs-gzip from the beginning, then disconnects",
    run: async (b) => {
      const seen = await consumeAll(b, 'kafkajs-group', ['kafkajs-none', 'kafkajs-gzip'], 40);
      if (seen.length !== 40) throw new Error(`kafkajs-group read ${seen.length}`);
    },
  });
  steps.push({
    name: 'fetch-transactional',
    // librdkafka's mock writes no transaction markers and reports no aborted transactions, so
    // a read_committed consumer gets the aborted records too.
    command: `consumer (read_committed) reads ${txnTopic}: the mock returns committed and aborted records`,
    fetched: { topic: txnTopic, input: [...committed, ...aborted], codec: 'none' },
    run: async (b) => {
      const seen = await consumeAll(b, 'kafkajs-txn-reader', [txnTopic], committed.length + aborted.length);
      if (seen.length !== committed.length + aborted.length) throw new Error(`read ${seen.length}`);
    },
  });
  for (const codec of Object.keys(codecs)) {
    const topic = `kafkajs-${codec}`;
    steps.push({
      name: `fetch-${codec}`,
      command: `consumer reads ${topic} from the beginning`,
      run: (b) => consumeAll(b, `kafkajs-reader-${codec}`, [topic], 20),
    });
  }
  return { lib: 'librdkafka.so.1', client: `kafkajs ${kafkajsVersion}`, steps };
}

async function kafkaPythonScenario() {
  const py = join(HERE, 'kafka_python_client.py');
  const version = (await run(DEBIAN_PYTHON, ['-c', 'import kafka; print(kafka.__version__)'])).stdout.trim();
  const headers = (i) => [
    ['source', 'kafka-python'],
    ['index', String(i)],
  ];
  const steps = [];
  const produce = (name, topic, codec, input) =>
    steps.push({
      name,
      command: `kafka_python_client.py produce B ${topic} ${codec} < records.json`,
      records: { topic, input, codec },
      run: (b) => run(DEBIAN_PYTHON, [py, 'produce', b, topic, codec], { input: JSON.stringify(input) }),
    });
  for (const codec of CODECS) {
    produce(
      `produce-${codec}`,
      `kafka-python-${codec}`,
      codec,
      inputRecords(`kafka-python ${codec}`, 20, headers),
    );
  }
  produce(
    'produce-many-snappy',
    'kafka-python-many',
    'snappy',
    manyRecords('kafka-python many', 2000, headers),
  );
  steps.push({
    name: 'group',
    command: 'kafka_python_client.py consume B kafka-python-group 40 kafka-python-none kafka-python-gzip',
    run: (b) =>
      run(DEBIAN_PYTHON, [
        py,
        'consume',
        b,
        'kafka-python-group',
        '40',
        'kafka-python-none',
        'kafka-python-gzip',
      ]),
  });
  return { lib: 'librdkafka.so.1', client: `kafka-python ${version}`, steps };
}

// ------------------------------------------------------------------------------------ output

/** Drops repeats of a pair (same bytes but for the correlation id) within a step. */
function dedupe(pairs) {
  const seen = new Set();
  return pairs.filter((p) => {
    const key = [
      p.step,
      p.request.subarray(0, 4).toString('hex'),
      p.request.subarray(8).toString('hex'),
      p.response ? p.response.subarray(4).toString('hex') : '-',
    ].join('/');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function decodeWithKafkaPython(file) {
  const { stdout } = await run(DEBIAN_PYTHON, [join(HERE, 'decode_batches.py'), file]);
  return JSON.parse(stdout);
}

/** Lists of more than this many records are stored as a digest (first three and SHA-256). */
const MAX_LISTED = 100;

function listOrDigest(items) {
  if (items.length <= MAX_LISTED) return items;
  const sha256 = createHash('sha256').update(JSON.stringify(items)).digest('hex');
  return { count: items.length, first: items.slice(0, 3), sha256 };
}

/** JSON with one line per record (an object with a `key`), indented otherwise. */
function formatJson(value, indent = '') {
  if (value === null || typeof value !== 'object' || 'key' in value) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0 || value.every((v) => typeof v !== 'object' || v === null))
      return JSON.stringify(value);
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).map(
    ([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`,
  );
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

async function writeRecordsFixture(name, bytes, meta) {
  const bin = join(RECORDS_DIR, `${name}.bin`);
  writeFileSync(bin, bytes);
  const batches = await decodeWithKafkaPython(bin);
  // The independent decoder must read back what the client was given.
  const decoded = batches.flatMap((b) => b.records.filter(() => !b.isControl));
  const given = meta.input.map(({ key, value, headers }) => ({ key, value, headers }));
  const read = decoded.map(({ key, value, headers }) => ({ key, value, headers }));
  if (JSON.stringify(read) !== JSON.stringify(given)) {
    throw new Error(`${name}: kafka-python decodes other records than the client was given`);
  }
  const fixture = {
    ...meta,
    input: listOrDigest(meta.input),
    batches: batches.map((b) => ({ ...b, records: listOrDigest(b.records) })),
  };
  writeFileSync(join(RECORDS_DIR, `${name}.json`), `${formatJson(fixture)}\n`);
}

async function runScenario(name) {
  const scenario = await SCENARIOS[name]();
  const mock = await startMockCluster({ lib: scenario.lib, brokers: 1 });
  const proxy = await startCaptureProxies(mock.brokers);
  const broker = `librdkafka ${mock.version} mock cluster (rd_kafka_mock_cluster_new, 1 broker)`;
  console.log(`${name}: ${scenario.client} against ${broker}`);
  const stepMeta = {};
  try {
    for (const step of scenario.steps) {
      proxy.step = step.name;
      await step.run(proxy.bootstrap);
      await sleep(300); // late responses land in this step
      stepMeta[step.name] = step.command;
      console.log(`  ${step.name}: ${proxy.pairs.filter((p) => p.step === step.name).length} pairs`);
    }
  } finally {
    await proxy.close();
    await mock.close();
  }
  const pairs = dedupe(proxy.pairs.sort((a, b) => a.seq - b.seq));
  const lines = pairs.map((p) =>
    JSON.stringify({
      step: p.step,
      connection: p.connection,
      apiKey: p.apiKey,
      apiVersion: p.apiVersion,
      correlationId: p.correlationId,
      request: p.request.toString('hex'),
      response: p.response ? p.response.toString('hex') : null,
      ...(p.rewritten ? { rewritten: true } : {}),
    }),
  );
  writeFileSync(join(PROTOCOL_DIR, `${name}.jsonl`), `${lines.join('\n')}\n`);

  for (const step of scenario.steps) {
    const stepPairs = proxy.pairs.filter((p) => p.step === step.name);
    const source = `${scenario.client} against the ${broker}, step ${step.name}: ${step.command}`;
    if (step.records) {
      const sets = stepPairs
        .filter((p) => p.apiKey === 0)
        .flatMap((p) => produceRecordSets(p.request).map((s) => ({ ...s, version: p.apiVersion })))
        .filter((s) => s.topic === step.records.topic);
      if (sets.length === 0) throw new Error(`${name}/${step.name}: no Produce request captured`);
      await writeRecordsFixture(`${name}.${step.name}`, Buffer.concat(sets.map((s) => s.records)), {
        source: `Produce v${sets[0].version} request${sets.length > 1 ? 's' : ''}: ${source}`,
        writtenBy: scenario.client,
        codec: step.records.codec,
        input: step.records.input,
      });
    }
    if (step.fetched) {
      const sets = stepPairs
        .filter((p) => p.apiKey === 1 && p.response)
        .flatMap((p) =>
          fetchRecordSets(p.apiVersion, p.response).map((s) => ({ ...s, version: p.apiVersion })),
        )
        // From v13 on Fetch names topics by id; a fetch step reads one topic only.
        .filter((s) => s.topic === step.fetched.topic || s.version >= 13);
      if (sets.length === 0) throw new Error(`${name}/${step.name}: no Fetch response with records`);
      await writeRecordsFixture(
        `${name}.${step.name}`,
        Buffer.concat(sets.map((s) => wholeBatches(s.records))),
        {
          source: `Fetch v${sets[0].version} response${sets.length > 1 ? 's' : ''}: ${source}`,
          writtenBy: `${scenario.client}, stored and returned by the ${broker}`,
          codec: step.fetched.codec,
          abortedTransactions: sets.flatMap((s) => s.abortedTransactions ?? []),
          input: step.fetched.input,
        },
      );
    }
  }
  return { name, client: scenario.client, broker, steps: stepMeta, pairs: pairs.length };
}

async function main() {
  const names = process.argv.slice(2);
  const selected = names.length > 0 ? names : Object.keys(SCENARIOS);
  mkdirSync(PROTOCOL_DIR, { recursive: true });
  mkdirSync(RECORDS_DIR, { recursive: true });
  const indexFile = join(PROTOCOL_DIR, 'captures.json');
  let index = {};
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch {}
  for (const name of selected) {
    if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}`);
    const { pairs, ...meta } = await runScenario(name);
    index[name] = { ...meta, capturedAt: new Date().toISOString().slice(0, 10), pairs };
  }
  writeFileSync(indexFile, `${JSON.stringify(index, null, 2)}\n`);
}

await main();
