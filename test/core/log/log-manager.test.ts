import { type ChildProcess, spawn } from 'node:child_process';
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../../core/env/clock.js';
import { DataDirLockedError, lockDataDir } from '../../../core/env/lock.js';
import { SeededRandom } from '../../../core/env/random.js';
import {
  CheckpointFormatError,
  formatOffsetCheckpoint,
  parseOffsetCheckpoint,
} from '../../../core/log/checkpoints.js';
import { LogError } from '../../../core/log/errors.js';
import { DEFAULT_LOG_CONFIG, LOG_CONFIG_KEYS } from '../../../core/log/log-config.js';
import {
  BROKER_LOG_SETTINGS,
  CLEAN_SHUTDOWN_FILE,
  LogManager,
  type LogManagerOptions,
  resolveBrokerConfig,
  TOPIC_CONFIG_SYNONYMS,
  TOPICS_FILE,
  type TopicChangeEvent,
} from '../../../core/log/log-manager.js';
import { encodeBatch } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { readAll } from './helpers.js';

/** A clock whose timers fire when advance() passes them. */
class TimerClock implements Clock {
  private mono = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  constructor(public wallMs = 1_700_000_000_000) {}
  now(): number {
    return this.wallMs;
  }
  monotonic(): number {
    return this.mono;
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t = { at: this.mono + delayMs, seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }
  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, delayMs));
  }
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
  /** Moves time forward, firing due timers in order (at most 10000, against runaway loops). */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (let fired = 0; fired < 10_000; fired++) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.wallMs += due.at - this.mono;
      this.mono = due.at;
      due.fn();
    }
    this.wallMs += target - this.mono;
    this.mono = target;
  }
}

const quiet = { info: () => {}, warn: () => {} };
const managers: LogManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

function open(dataDir: string, opts: Partial<LogManagerOptions> = {}): LogManager {
  const m = LogManager.open({ dataDir, logger: quiet, random: new SeededRandom(7), ...opts });
  managers.push(m);
  return m;
}

async function closeAndForget(m: LogManager): Promise<void> {
  await m.close();
  managers.splice(managers.indexOf(m), 1);
}

function produce(
  m: LogManager,
  topic: string,
  partition: number,
  values: string[],
  ts = 1_700_000_000_000,
): void {
  const log = m.getLog(topic, partition);
  log.append(
    encodeBatch(
      values.map((v, i) => ({ key: Buffer.from(`k-${v}`), value: Buffer.from(v), timestamp: ts + i })),
      { now: ts },
    ),
  );
  log.setHighWatermark(log.logEndOffset);
}

function expectLogError(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).code).toBe(code);
    if (message) expect((err as LogError).message).toMatch(message);
    return;
  }
  throw new Error(`expected LogError ${code}`);
}

describe('LogManager topics', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const dir = tempDir('trib-lm-');
    const m = open(dir);
    const events: TopicChangeEvent[] = [];
    m.onChange((e) => events.push(e));
    const orders = m.createTopic('orders', { partitions: 3, configs: { 'retention.ms': '3600000' } });
    expect(orders).toMatchObject({ name: 'orders', partitions: 3, replicationFactor: 1, internal: false });
    expect(orders.overrides).toEqual({ 'retention.ms': '3600000' });
    expect(orders.config['retention.ms']).toBe(3_600_000);
    expect(orders.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(orders.topicId.startsWith('-')).toBe(false);
    m.createTopic('__consumer_offsets', { partitions: 2, configs: { 'cleanup.policy': 'compact' } });
    expect(m.topic('__consumer_offsets')?.internal).toBe(true);
    expect(m.topics().map((t) => t.name)).toEqual(['__consumer_offsets', 'orders']);
    expect(m.getLog('orders', 2).partition).toBe(2);
    expect([...m.logs()]).toHaveLength(5);
    for (let p = 0; p < 3; p++) expect(nodeFs.existsSync(path.join(dir, `orders-${p}`))).toBe(true);

    const described = m.describeTopicConfigs('orders');
    expect(described.map((e) => e.name).sort()).toEqual([...LOG_CONFIG_KEYS].sort());
    expect(described.find((e) => e.name === 'retention.ms')).toMatchObject({
      value: '3600000',
      source: 'TOPIC_CONFIG',
    });
    expect(described.find((e) => e.name === 'segment.bytes')).toMatchObject({ source: 'DEFAULT_CONFIG' });

    m.deleteTopic('orders');
    expect(m.topic('orders')).toBeUndefined();
    expectLogError(() => m.getLog('orders', 0), 'UNKNOWN_TOPIC_OR_PARTITION', /orders/);
    expectLogError(() => m.deleteTopic('orders'), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(events).toEqual([
      { type: 'created', topic: 'orders' },
      { type: 'created', topic: '__consumer_offsets' },
      { type: 'deleted', topic: 'orders' },
    ]);
  });

  it('uses broker defaults for partitions and replication factor (-1 too)', () => {
    const m = open(tempDir('trib-lm-'), {
      defaults: { 'num.partitions': 4, 'default.replication.factor': '1' },
    });
    expect(m.createTopic('a').partitions).toBe(4);
    expect(m.createTopic('b', { partitions: -1, replicationFactor: -1 })).toMatchObject({
      partitions: 4,
      replicationFactor: 1,
    });
  });

  it('refuses invalid names with Kafka-like messages', () => {
    const m = open(tempDir('trib-lm-'));
    expectLogError(() => m.createTopic(''), 'INVALID_TOPIC_EXCEPTION', /empty/);
    expectLogError(() => m.createTopic('.'), 'INVALID_TOPIC_EXCEPTION', /"\."/);
    expectLogError(() => m.createTopic('..'), 'INVALID_TOPIC_EXCEPTION', /"\.\."/);
    expectLogError(() => m.createTopic('a'.repeat(250)), 'INVALID_TOPIC_EXCEPTION', /249/);
    expect(m.createTopic('a'.repeat(249)).name).toHaveLength(249);
    expectLogError(() => m.createTopic('has space'), 'INVALID_TOPIC_EXCEPTION', /ASCII alphanumerics/);
    expectLogError(() => m.createTopic('slash/name'), 'INVALID_TOPIC_EXCEPTION', /slash\/name/);
    expectLogError(() => m.createTopic('ünïcode'), 'INVALID_TOPIC_EXCEPTION');
    m.createTopic('metrics.cpu');
    expectLogError(
      () => m.createTopic('metrics_cpu'),
      'INVALID_TOPIC_EXCEPTION',
      /collides with existing topic 'metrics\.cpu'/,
    );
    expectLogError(() => m.createTopic('metrics.cpu'), 'TOPIC_ALREADY_EXISTS', /already exists/);
  });

  it('refuses bad partition counts, replication factors and configs, naming the problem', () => {
    const m = open(tempDir('trib-lm-'), { maxReplicationFactor: 1 });
    expectLogError(() => m.createTopic('t', { partitions: 0 }), 'INVALID_PARTITIONS', /larger than 0/);
    expectLogError(() => m.createTopic('t', { partitions: 1.5 }), 'INVALID_PARTITIONS');
    expectLogError(() => m.createTopic('t', { partitions: 10_001 }), 'INVALID_PARTITIONS', /limit/);
    expectLogError(() => m.createTopic('t', { replicationFactor: 0 }), 'INVALID_REPLICATION_FACTOR');
    expectLogError(
      () => m.createTopic('t', { replicationFactor: 3 }),
      'INVALID_REPLICATION_FACTOR',
      /larger than available brokers: 1/,
    );
    expectLogError(
      () => m.createTopic('t', { configs: { 'retention.mss': '1' } }),
      'INVALID_CONFIG',
      /retention\.mss.*retention\.ms/,
    );
    expectLogError(
      () => m.createTopic('t', { configs: { 'retention.ms': 'soon' } }),
      'INVALID_CONFIG',
      /soon.*retention\.ms/,
    );
    expectLogError(
      () => m.createTopic('t', { configs: { 'cleanup.policy': 'forever' } }),
      'INVALID_CONFIG',
      /cleanup\.policy/,
    );
    expect(m.topics()).toEqual([]);
    expect(nodeFs.readdirSync(m.dataDir).filter((e) => e.startsWith('t-'))).toEqual([]);
  });

  it('validateOnly checks without creating', () => {
    const m = open(tempDir('trib-lm-'));
    const info = m.createTopic('t', { partitions: 2, validateOnly: true });
    expect(info.partitions).toBe(2);
    expect(m.topic('t')).toBeUndefined();
    expect(nodeFs.existsSync(path.join(m.dataDir, 't-0'))).toBe(false);
  });

  it('grows partitions, never shrinks, and keeps the count across reopen', async () => {
    const dir = tempDir('trib-lm-');
    let m = open(dir);
    m.createTopic('t', { partitions: 2 });
    produce(m, 't', 1, ['a', 'b']);
    expect(m.createPartitions('t', 5).partitions).toBe(5);
    expect(m.getLog('t', 4).logEndOffset).toBe(0);
    expectLogError(() => m.createPartitions('t', 5), 'INVALID_PARTITIONS', /already has 5 partitions/);
    expectLogError(() => m.createPartitions('t', 3), 'INVALID_PARTITIONS', /would not be an increase/);
    expectLogError(() => m.createPartitions('nope', 3), 'UNKNOWN_TOPIC_OR_PARTITION');
    await closeAndForget(m);
    m = open(dir);
    expect(m.topic('t')?.partitions).toBe(5);
    expect(m.getLog('t', 1).logEndOffset).toBe(2);
  });

  it('alters configs: set, incremental, delete override, replace; persisted across reopen', async () => {
    const dir = tempDir('trib-lm-');
    let m = open(dir, { defaults: { 'log.retention.hours': 2 } });
    m.createTopic('t', { configs: { 'retention.ms': '1000', 'segment.bytes': '1048576' } });
    const events: TopicChangeEvent[] = [];
    m.onChange((e) => events.push(e));

    let info = m.alterTopicConfig(
      't',
      { 'cleanup.policy': 'compact', 'retention.ms': null },
      { incremental: true },
    );
    expect(info.overrides).toEqual({ 'segment.bytes': '1048576', 'cleanup.policy': 'compact' });
    expect(info.config['retention.ms']).toBe(2 * 3_600_000); // back to the broker default
    expect(m.getLog('t', 0).config['cleanup.policy']).toBe('compact');
    expect(m.describeTopicConfigs('t').find((e) => e.name === 'retention.ms')).toMatchObject({
      source: 'STATIC_BROKER_CONFIG',
      brokerSynonym: 'log.retention.hours',
    });

    info = m.alterTopicConfig('t', { 'max.message.bytes': '2000' }, { validateOnly: true });
    expect(info.config['max.message.bytes']).toBe(2000);
    expect(m.topic('t')?.overrides['max.message.bytes']).toBeUndefined();

    expectLogError(
      () => m.alterTopicConfig('t', { 'segment.bytes': '-5' }, { incremental: true }),
      'INVALID_CONFIG',
      /segment\.bytes/,
    );
    expectLogError(
      () => m.alterTopicConfig('t', { 'no.such.key': null }, { incremental: true }),
      'INVALID_CONFIG',
      /no\.such\.key/,
    );
    expect(m.topic('t')?.overrides).toEqual({ 'segment.bytes': '1048576', 'cleanup.policy': 'compact' });

    // AlterConfigs (non-incremental) replaces every override.
    info = m.alterTopicConfig('t', { 'min.cleanable.dirty.ratio': '0.1' });
    expect(info.overrides).toEqual({ 'min.cleanable.dirty.ratio': '0.1' });
    expect(info.config['segment.bytes']).toBe(1024 * 1024 * 1024);
    expect(events).toEqual([
      { type: 'config', topic: 't' },
      { type: 'config', topic: 't' },
    ]);

    await closeAndForget(m);
    m = open(dir, { defaults: { 'log.retention.hours': 2 } });
    expect(m.topic('t')?.overrides).toEqual({ 'min.cleanable.dirty.ratio': '0.1' });
    expect(m.getLog('t', 0).config['min.cleanable.dirty.ratio']).toBe(0.1);
  });
});

describe('LogManager broker configs', () => {
  it('maps broker keys to topic defaults the Kafka way', () => {
    const r = resolveBrokerConfig({
      'log.retention.hours': 1,
      'log.retention.minutes': '30',
      'log.segment.bytes': '2048',
      'log.cleanup.policy': 'compact',
      'log.cleaner.min.cleanable.ratio': 0.25,
      'message.max.bytes': 5000,
      'log.retention.check.interval.ms': 1000,
      listeners: 'PLAINTEXT://:9092', // not ours: ignored
    });
    expect(r.topicDefaults['retention.ms']).toBe(30 * 60_000); // minutes win over hours
    expect(r.topicDefaults['segment.bytes']).toBe(2048);
    expect(r.topicDefaults['cleanup.policy']).toBe('compact');
    expect(r.topicDefaults['min.cleanable.dirty.ratio']).toBe(0.25);
    expect(r.topicDefaults['max.message.bytes']).toBe(5000);
    expect(r.settings.retentionCheckIntervalMs).toBe(1000);
    expect(r.effective['log.retention.ms']).toBe(String(30 * 60_000));
    expect(r.effective['log.retention.hours']).toBe('1');
    expect(r.effective['num.partitions']).toBe('1');
    expect(
      resolveBrokerConfig({ 'log.retention.ms': -1, 'log.retention.hours': 5 }).topicDefaults['retention.ms'],
    ).toBe(-1);
  });

  it('refuses bad broker values naming the broker key', () => {
    expectLogError(
      () => resolveBrokerConfig({ 'log.segment.bytes': 'big' }),
      'INVALID_CONFIG',
      /log\.segment\.bytes/,
    );
    expectLogError(() => resolveBrokerConfig({ 'num.partitions': 0 }), 'INVALID_CONFIG', /num\.partitions/);
    expectLogError(
      () => resolveBrokerConfig({ 'log.cleaner.enable': 'maybe' }),
      'INVALID_CONFIG',
      /log\.cleaner\.enable/,
    );
  });

  it('reports effective broker configs', () => {
    const m = open(tempDir('trib-lm-'), { defaults: { 'log.retention.ms': 5000 } });
    expect(m.brokerConfig()).toMatchObject({ 'log.retention.ms': '5000', 'log.cleaner.backoff.ms': '15000' });
    expect(m.createTopic('t').config['retention.ms']).toBe(5000);
  });
});

describe('offset checkpoint files', () => {
  it("round-trips Kafka's text format", () => {
    const text = formatOffsetCheckpoint([
      { topic: 'orders', partition: 0, offset: 1200 },
      { topic: '__consumer_offsets', partition: 7, offset: 0 },
    ]);
    expect(text).toBe('0\n2\norders 0 1200\n__consumer_offsets 7 0\n');
    expect([...parseOffsetCheckpoint(text).values()]).toEqual([
      { topic: 'orders', partition: 0, offset: 1200 },
      { topic: '__consumer_offsets', partition: 7, offset: 0 },
    ]);
    expect(formatOffsetCheckpoint([])).toBe('0\n0\n');
    expect(parseOffsetCheckpoint('0\n0\n').size).toBe(0);
  });

  it('refuses malformed files, saying what is wrong', () => {
    expect(() => parseOffsetCheckpoint('1\n0\n')).toThrow(/unsupported version/);
    expect(() => parseOffsetCheckpoint('0\n2\nt 0 1\n')).toThrow(/expected 2 entries, found 1/);
    expect(() => parseOffsetCheckpoint('0\n1\nt zero 1\n')).toThrow(CheckpointFormatError);
    expect(() => parseOffsetCheckpoint('')).toThrow(/version line/);
  });

  it('a corrupt recovery-point checkpoint means a full recovery, not a refusal to start', async () => {
    const dir = tempDir('trib-lm-');
    let m = open(dir);
    m.createTopic('t');
    produce(m, 't', 0, ['a']);
    await closeAndForget(m);
    nodeFs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    nodeFs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'garbage');
    const warnings: string[] = [];
    m = open(dir, { logger: { info: () => {}, warn: (w) => warnings.push(w) } });
    expect(warnings.some((w) => w.includes('recovery-point-offset-checkpoint'))).toBe(true);
    expect(m.getLog('t', 0).logEndOffset).toBe(1);
  });
});

describe('docs/topic-configs.md', () => {
  const doc = nodeFs.readFileSync(new URL('../../../docs/topic-configs.md', import.meta.url), 'utf8');
  /** Rows of the markdown table under a heading: cells without the surrounding backticks. */
  function table(heading: string): string[][] {
    const section = doc.split(`## ${heading}`)[1]!.split('\n## ')[0]!;
    return section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
  }
  const unquote = (c: string): string => c.replaceAll('`', '');

  it('documents every topic config with its default and broker synonyms', () => {
    const rows = table('Topic configs');
    expect(rows.map((r) => unquote(r[0]!)).sort()).toEqual([...LOG_CONFIG_KEYS].sort());
    for (const row of rows) {
      const key = unquote(row[0]!) as (typeof LOG_CONFIG_KEYS)[number];
      const def = DEFAULT_LOG_CONFIG[key];
      expect(row[2], key).toContain(def === Number.MAX_SAFE_INTEGER ? 'Long.MAX' : String(def));
      for (const synonym of TOPIC_CONFIG_SYNONYMS[key]) expect(row[3], key).toContain(`\`${synonym}\``);
    }
  });

  it('documents every broker key the log manager reads, with its default', () => {
    const rows = table('Broker keys read by the log manager');
    expect(rows.map((r) => unquote(r[0]!)).sort()).toEqual(Object.keys(BROKER_LOG_SETTINGS).sort());
    for (const row of rows) {
      const key = unquote(row[0]!) as keyof typeof BROKER_LOG_SETTINGS;
      expect(row[1], key).toContain(String(BROKER_LOG_SETTINGS[key].default));
    }
  });
});

describe('LogManager data directory', () => {
  it('writes meta.properties once and checks the node id', async () => {
    const dir = tempDir('trib-lm-');
    const m = open(dir, { nodeId: 3 });
    const clusterId = m.clusterId;
    expect(clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await closeAndForget(m);
    const text = nodeFs.readFileSync(path.join(dir, 'meta.properties'), 'utf8');
    expect(text).toContain(`cluster.id=${clusterId}`);
    expect(text).toContain('node.id=3');
    const again = open(dir);
    expect(again.clusterId).toBe(clusterId);
    expect(again.nodeId).toBe(3);
    await closeAndForget(again);
    expect(() => open(dir, { nodeId: 4 })).toThrow(/node id 3.*node id 4/);
    // the refused open released the lock
    expect(open(dir).nodeId).toBe(3);
  });

  it('refuses a data directory locked in this process', () => {
    const dir = tempDir('trib-lm-');
    open(dir);
    expect(() => LogManager.open({ dataDir: dir, logger: quiet })).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
  });

  it('releases the lock on close', async () => {
    const dir = tempDir('trib-lm-');
    const m = open(dir);
    await closeAndForget(m);
    expect(nodeFs.existsSync(path.join(dir, '.lock'))).toBe(false);
    open(dir);
  });

  it('refuses a directory locked by another live process and takes the lock over after kill -9', async () => {
    const dir = tempDir('trib-lm-');
    const script = path.join(dir, 'holder.mjs');
    // Takes the lock exactly as core/env/lock.ts does (O_EXCL, "<pid>\n") and stays alive.
    nodeFs.writeFileSync(
      script,
      [
        "import * as fs from 'node:fs';",
        'const fd = fs.openSync(process.argv[2], "wx", 0o644);',
        'fs.writeSync(fd, String(process.pid) + "\\n");',
        'fs.closeSync(fd);',
        'console.log("locked");',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const dataDir = path.join(dir, 'data');
    nodeFs.mkdirSync(dataDir);
    const child: ChildProcess = spawn(process.execPath, [script, path.join(dataDir, '.lock')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('locked')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      let refused: unknown;
      try {
        LogManager.open({ dataDir, logger: quiet });
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(DataDirLockedError);
      expect((refused as DataDirLockedError).pid).toBe(child.pid);
      expect((refused as Error).message).toContain(String(child.pid));
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    const m = open(dataDir);
    expect(nodeFs.readFileSync(path.join(dataDir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    expect(m.topics()).toEqual([]);
  });

  it('topic deletion leaves nothing behind (after file.delete.delay.ms, or at close)', async () => {
    const clock = new TimerClock();
    const dir = tempDir('trib-lm-');
    const m = open(dir, { clock });
    m.createTopic('gone', { partitions: 3, configs: { 'file.delete.delay.ms': '5000' } });
    m.createTopic('kept');
    produce(m, 'gone', 0, ['a', 'b', 'c']);
    m.checkpoint();
    m.deleteTopic('gone');
    const pending = nodeFs.readdirSync(dir).filter((e) => e.startsWith('gone-'));
    expect(pending).toHaveLength(3);
    for (const e of pending) expect(e).toMatch(/^gone-\d\.[0-9a-f]{32}-delete$/);
    clock.advance(4999);
    expect(nodeFs.readdirSync(dir).filter((e) => e.startsWith('gone'))).toHaveLength(3);
    clock.advance(1);
    expect(nodeFs.readdirSync(dir).filter((e) => e.includes('gone'))).toEqual([]);
    for (const f of ['recovery-point-offset-checkpoint', 'log-start-offset-checkpoint']) {
      expect(nodeFs.readFileSync(path.join(dir, f), 'utf8')).not.toContain('gone');
    }
    expect(JSON.parse(nodeFs.readFileSync(path.join(dir, TOPICS_FILE), 'utf8'))).toMatchObject({
      deleting: [],
    });

    m.createTopic('soon-gone', { configs: { 'file.delete.delay.ms': '600000' } });
    m.deleteTopic('soon-gone');
    await closeAndForget(m);
    expect(nodeFs.readdirSync(dir).filter((e) => e.includes('gone'))).toEqual([]);
  });

  it('a topic created again after deletion starts empty', async () => {
    const dir = tempDir('trib-lm-');
    const m = open(dir);
    const first = m.createTopic('t');
    produce(m, 't', 0, ['a', 'b']);
    m.deleteTopic('t');
    const second = m.createTopic('t');
    expect(second.topicId).not.toBe(first.topicId);
    expect(m.getLog('t', 0).logEndOffset).toBe(0);
  });

  it('finishes a delete cut short by a crash and adopts unknown partition directories', async () => {
    const dir = tempDir('trib-lm-');
    let m = open(dir);
    m.createTopic('victim', { partitions: 2 });
    m.createTopic('kept');
    produce(m, 'kept', 0, ['x']);
    await closeAndForget(m);
    // A crash after topics.json recorded the delete, before the directories were renamed.
    const file = path.join(dir, TOPICS_FILE);
    const meta = JSON.parse(nodeFs.readFileSync(file, 'utf8')) as {
      topics: { name: string; topicId: string }[];
      deleting: { name: string; topicId: string }[];
    };
    const victim = meta.topics.find((t) => t.name === 'victim')!;
    meta.topics = meta.topics.filter((t) => t.name !== 'victim');
    meta.deleting = [{ name: victim.name, topicId: victim.topicId }];
    nodeFs.writeFileSync(file, JSON.stringify(meta));
    // A leftover renamed directory, and a partition directory copied in from elsewhere.
    nodeFs.mkdirSync(path.join(dir, `old-0.${'ab'.repeat(16)}-delete`));
    nodeFs.mkdirSync(path.join(dir, 'stranger-2'));

    const warnings: string[] = [];
    m = open(dir, { logger: { info: () => {}, warn: (w) => warnings.push(w) } });
    expect(m.topic('victim')).toBeUndefined();
    expect(nodeFs.readdirSync(dir).filter((e) => e.includes('victim') || e.startsWith('old-'))).toEqual([]);
    expect(m.topic('stranger')?.partitions).toBe(3);
    expect(warnings.some((w) => w.includes('adopted') && w.includes('stranger-2'))).toBe(true);
    expect(m.getLog('kept', 0).logEndOffset).toBe(1);
    expect(JSON.parse(nodeFs.readFileSync(file, 'utf8'))).toMatchObject({ deleting: [] });
  });

  it('refuses to start on a corrupt topics.json rather than lose configs', async () => {
    const dir = tempDir('trib-lm-');
    const m = open(dir);
    m.createTopic('t', { configs: { 'retention.ms': '1000' } });
    await closeAndForget(m);
    nodeFs.writeFileSync(path.join(dir, TOPICS_FILE), '{"version": 1, "topics": [');
    expect(() => open(dir)).toThrow(/topics\.json is not a valid topics file/);
  });
});

describe('LogManager retention', () => {
  function segmentCount(m: LogManager, topic: string): number {
    return m.getLog(topic, 0).segmentInfos().length;
  }

  it('deletes whole old segments by time and advances the log start offset', () => {
    const clock = new TimerClock();
    const m = open(tempDir('trib-lm-'), { clock });
    m.createTopic('t', { configs: { 'segment.bytes': '120', 'retention.ms': '60000' } });
    const t0 = clock.now();
    for (let i = 0; i < 4; i++) produce(m, 't', 0, [`old-${i}`, `old-${i}b`], t0); // one segment each
    clock.advance(50_000);
    for (let i = 0; i < 2; i++) produce(m, 't', 0, [`new-${i}`, `new-${i}b`], clock.now());
    const log = m.getLog('t', 0);
    expect(segmentCount(m, 't')).toBe(6);
    expect(m.runRetention()).toBe(0);
    clock.advance(10_002);
    // the four old segments are past retention.ms; the young ones and the active segment stay
    expect(m.runRetention()).toBe(4);
    expect(log.logStartOffset).toBe(8);
    expect(readAll(log).map((r) => r.value)).toEqual(['new-0', 'new-0b', 'new-1', 'new-1b']);
    clock.advance(60_000);
    // everything is old now, but the active segment is never deleted
    expect(m.runRetention()).toBe(1);
    expect(segmentCount(m, 't')).toBe(1);
    expect(log.logStartOffset).toBe(10);
    expect(readAll(log).map((r) => r.value)).toEqual(['new-1', 'new-1b']);
  });

  it('deletes whole old segments by size', () => {
    const clock = new TimerClock();
    const m = open(tempDir('trib-lm-'), { clock });
    m.createTopic('t', { configs: { 'segment.bytes': '120', 'retention.bytes': '300' } });
    for (let i = 0; i < 5; i++) produce(m, 't', 0, [`v-${i}`, `v-${i}b`], clock.now());
    const log = m.getLog('t', 0);
    const sizes = log.segmentInfos().map((s) => s.sizeBytes);
    expect(sizes).toHaveLength(5);
    const deleted = m.runRetention();
    // Kafka's rule: delete the oldest segment while the log stays at least retention.bytes.
    expect(deleted).toBeGreaterThan(0);
    expect(log.sizeBytes).toBeGreaterThanOrEqual(300);
    expect(log.sizeBytes - log.segmentInfos()[0]!.sizeBytes).toBeLessThan(300);
    expect(log.logStartOffset).toBe(2 * deleted);
    expect(readAll(log)[0]!.offset).toBe(2 * deleted);
  });

  it('runs retention, flushes and checkpoints on timers after start()', async () => {
    const clock = new TimerClock();
    const dir = tempDir('trib-lm-');
    const m = open(dir, {
      clock,
      defaults: {
        'log.retention.check.interval.ms': 1000,
        'log.flush.offset.checkpoint.interval.ms': 2000,
        'log.flush.start.offset.checkpoint.interval.ms': 2000,
      },
    });
    m.createTopic('t', { configs: { 'segment.bytes': '120', 'retention.ms': '5000', 'flush.ms': '500' } });
    produce(m, 't', 0, ['a', 'b'], clock.now());
    produce(m, 't', 0, ['c', 'd'], clock.now());
    const log = m.getLog('t', 0);
    m.start();
    expect(log.flushedOffset).toBe(0);
    clock.advance(1000); // flusher tick at 1000 ms > flush.ms
    await new Promise((r) => setImmediate(r));
    await log.flush(); // joins the flush the timer started
    expect(log.flushedOffset).toBe(4);
    clock.advance(1000);
    const checkpoint = parseOffsetCheckpoint(
      nodeFs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8'),
    );
    expect(checkpoint.get('t-0')?.offset).toBe(4);
    clock.advance(5000);
    expect(log.logStartOffset).toBe(2);
    clock.advance(2000);
    const starts = parseOffsetCheckpoint(
      nodeFs.readFileSync(path.join(dir, 'log-start-offset-checkpoint'), 'utf8'),
    );
    expect(starts.get('t-0')?.offset).toBe(2);
    await closeAndForget(m);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('LogManager cleaner scheduling', () => {
  it('cleans compacted topics every log.cleaner.backoff.ms after start()', async () => {
    const clock = new TimerClock();
    const dir = tempDir('trib-lm-');
    const m = open(dir, { clock, defaults: { 'log.cleaner.backoff.ms': 1000 } });
    m.createTopic('kv', { configs: { 'cleanup.policy': 'compact', 'segment.bytes': '120' } });
    for (let i = 0; i < 6; i++)
      produce(
        m,
        'kv',
        0,
        [`v${i}`].map(() => 'same'),
        clock.now(),
      );
    const log = m.getLog('kv', 0);
    expect(readAll(log)).toHaveLength(6);
    m.start();
    clock.advance(999);
    expect(readAll(log)).toHaveLength(6);
    clock.advance(1);
    // all closed segments cleaned (the active one holds the last record)
    expect(readAll(log).map((r) => r.offset)).toEqual([4, 5]);
    expect(m.cleanerOffset('kv', 0)).toBe(5);
    const checkpoint = nodeFs.readFileSync(path.join(dir, 'cleaner-offset-checkpoint'), 'utf8');
    expect(checkpoint).toBe('0\n1\nkv 0 5\n');
  });

  it('does not run the cleaner when log.cleaner.enable=false', () => {
    const clock = new TimerClock();
    const m = open(tempDir('trib-lm-'), {
      clock,
      defaults: { 'log.cleaner.enable': false, 'log.cleaner.backoff.ms': 10 },
    });
    m.createTopic('kv', { configs: { 'cleanup.policy': 'compact', 'segment.bytes': '120' } });
    for (let i = 0; i < 4; i++) produce(m, 'kv', 0, ['same'], clock.now());
    m.start();
    clock.advance(1000);
    expect(readAll(m.getLog('kv', 0))).toHaveLength(4);
  });
});

describe('LogManager recovery', () => {
  function activeLogFile(m: LogManager, topic: string): string {
    const log = m.getLog(topic, 0);
    const base = log.segmentInfos().at(-1)!.baseOffset;
    return path.join(log.dir, `${String(base).padStart(20, '0')}.log`);
  }

  it('after a clean shutdown opens logs at their end without recovery', async () => {
    const dir = tempDir('trib-lm-');
    let m = open(dir);
    m.createTopic('t');
    produce(m, 't', 0, ['a', 'b', 'c']);
    await closeAndForget(m);
    expect(nodeFs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE))).toBe(true);
    const rp = parseOffsetCheckpoint(
      nodeFs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8'),
    );
    expect(rp.get('t-0')?.offset).toBe(3);
    // With the clean-shutdown marker the checkpoint is not even needed: logs open at their end.
    nodeFs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), '0\n1\nt 0 0\n');

    m = open(dir);
    expect(nodeFs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE))).toBe(false); // a crash from now on is unclean
    const log = m.getLog('t', 0);
    expect(log.flushedOffset).toBe(3);
    expect(log.recovery.truncatedBytes).toBe(0);
    expect(readAll(log).map((r) => r.value)).toEqual(['a', 'b', 'c']);
  });

  it('after an unclean shutdown recovers from the checkpointed recovery point and drops a torn tail', () => {
    const dir = tempDir('trib-lm-');
    const m1 = LogManager.open({ dataDir: dir, logger: quiet, lock: false });
    m1.createTopic('t');
    produce(m1, 't', 0, ['a', 'b']);
    m1.checkpoint(); // recovery point 0: nothing fsynced yet
    produce(m1, 't', 0, ['c']);
    const file = activeLogFile(m1, 't');
    // "crash": no close; a torn write at the end of the segment
    nodeFs.appendFileSync(file, Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 1]));
    const m2 = open(dir, { lock: false });
    const log = m2.getLog('t', 0);
    expect(log.recovery.truncatedBytes).toBe(11);
    expect(log.flushedOffset).toBe(0); // the checkpointed recovery point, not the end
    expect(log.logEndOffset).toBe(3);
    expect(readAll(log).map((r) => r.value)).toEqual(['a', 'b', 'c']);
  });

  it('records recovery points: a clean shutdown writes them, flushAll advances them', async () => {
    const dir = tempDir('trib-lm-');
    const m = open(dir);
    m.createTopic('t', { partitions: 2 });
    produce(m, 't', 0, ['a', 'b']);
    produce(m, 't', 1, ['c']);
    await m.flushAll();
    m.checkpoint();
    const rp = parseOffsetCheckpoint(
      nodeFs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8'),
    );
    expect([...rp.values()].sort((a, b) => a.partition - b.partition)).toEqual([
      { topic: 't', partition: 0, offset: 2 },
      { topic: 't', partition: 1, offset: 1 },
    ]);
  });
});
