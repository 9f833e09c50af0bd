/**
 * Datagen: a source of generated records for demos and benchmarks, configured like Confluent's
 * kafka-connect-datagen (`kafka.topic`, `quickstart`, `schema.keyfield`, `max.interval`,
 * `iterations`) plus `fields` (a custom field spec), `records.per.second` (a rate limit across
 * the connector's tasks) and `random.seed`. Values are structs with a schema; the key is the key
 * field's value (a string) or null. Each task counts its iterations in its source offset
 * (`{"task.id": N}` → `{"current.iteration": i}`), so a restart continues the count.
 */
import {
  ConfigDef,
  ConfigException,
  type ConnectorPlugin,
  type Props,
  Schemas,
  type SourceConnector,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
  Validators,
} from '../../connect/sdk.js';
import { customGenerator, type Generator, QUICKSTARTS, Random } from './fields.js';

const VERSION = '1.0.0';
const MAX_BATCH_RECORDS = 1000;

export function datagenConfigDef(): ConfigDef {
  return new ConfigDef()
    .define({
      name: 'kafka.topic',
      type: 'string',
      default: undefined,
      importance: 'high',
      documentation: 'Topic to write to',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'quickstart',
      type: 'string',
      default: '',
      importance: 'high',
      documentation: `A predefined schema: ${Object.keys(QUICKSTARTS).join(', ')}`,
      validator: Validators.custom('quickstart name', (name, v) => {
        if (v !== '' && !(String(v).toLowerCase() in QUICKSTARTS))
          throw new ConfigException(
            name,
            v,
            `unknown quickstart; one of ${Object.keys(QUICKSTARTS).join(', ')}`,
          );
      }),
    })
    .define({
      name: 'fields',
      type: 'string',
      default: '',
      importance: 'high',
      documentation:
        'A custom schema instead of a quickstart: NAME:TYPE[(ARGS)],… with types int(min,max), long(min,max), double(min,max), string(len), boolean, timestamp, sequence, enum(A|B), pick(prefix,min,max)',
    })
    .define({
      name: 'schema.keyfield',
      type: 'string',
      default: '',
      importance: 'medium',
      documentation:
        "The field of the value used as the record key (default: the quickstart's key field; none for custom fields)",
    })
    .define({
      name: 'max.interval',
      type: 'long',
      default: 500,
      importance: 'medium',
      documentation: 'Longest pause in milliseconds between records (a random pause up to this); 0 for none',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'iterations',
      type: 'long',
      default: -1,
      importance: 'medium',
      documentation: 'Records each task generates before it stops producing; -1 for no end',
    })
    .define({
      name: 'records.per.second',
      type: 'double',
      default: 0,
      importance: 'medium',
      documentation: 'Rate limit across all tasks; 0 for none (max.interval still applies unless 0)',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'random.seed',
      type: 'long',
      default: null,
      importance: 'low',
      documentation: 'Seed for reproducible data',
    });
}

function generatorOf(props: Props): Generator {
  const cfg = datagenConfigDef().parse(props);
  const fields = cfg.fields as string;
  const quick = (cfg.quickstart as string).toLowerCase();
  if (fields !== '' && quick !== '')
    throw new ConfigException('fields', fields, 'give either quickstart or fields, not both');
  if (fields !== '') return customGenerator(fields);
  return QUICKSTARTS[quick === '' ? 'users' : quick]!();
}

export class DatagenConnector implements SourceConnector {
  readonly type = 'source';
  private props: Props = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return datagenConfigDef();
  }
  start(props: Props): void {
    generatorOf(props);
    this.props = props;
  }
  validate(props: Props): Record<string, string[]> {
    try {
      generatorOf(props);
      return {};
    } catch (err) {
      if (err instanceof ConfigException) return { [err.key]: [err.message] };
      return {};
    }
  }
  taskConfigs(maxTasks: number): Props[] {
    const rate = Number(this.props['records.per.second'] ?? 0);
    return Array.from({ length: maxTasks }, (_, i) => ({
      ...this.props,
      'task.id': String(i),
      ...(rate > 0 ? { 'records.per.second': String(rate / maxTasks) } : {}),
    }));
  }
  stop(): void {}
  createTask(): SourceTask {
    return new DatagenTask();
  }
}

export class DatagenTask implements SourceTask {
  private gen!: Generator;
  private rnd = new Random(1);
  private topic = '';
  private keyField: string | null = null;
  private maxIntervalMs = 500;
  private iterations = -1;
  private ratePerSec = 0;
  private taskId = 0;
  private iteration = 0;
  private startedAt = 0;
  private startIteration = 0;
  private stopped = false;

  version(): string {
    return VERSION;
  }

  async start(props: Props, context: SourceTaskContext): Promise<void> {
    const cfg = datagenConfigDef().parse(props);
    this.gen = generatorOf(props);
    this.topic = cfg['kafka.topic'] as string;
    const key = cfg['schema.keyfield'] as string;
    this.keyField = key !== '' ? key : this.gen.keyField;
    if (this.keyField !== null && !this.gen.schema.fields?.some((f) => f.name === this.keyField)) {
      throw new ConfigException('schema.keyfield', this.keyField, 'not a field of the schema');
    }
    this.maxIntervalMs = cfg['max.interval'] as number;
    this.iterations = cfg.iterations as number;
    this.ratePerSec = cfg['records.per.second'] as number;
    this.taskId = Number(props['task.id'] ?? 0);
    const seed = cfg['random.seed'] as number | null;
    this.rnd = new Random((seed ?? Date.now()) + this.taskId * 7919);
    const offset = await context.offsetStorageReader.offset({ 'task.id': this.taskId });
    const it = offset?.['current.iteration'];
    if (typeof it === 'number') this.iteration = it + 1;
    this.startIteration = this.iteration;
    this.startedAt = Date.now();
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null;
    if (this.iterations >= 0 && this.iteration >= this.iterations) {
      await sleep(200);
      return null;
    }
    let count = MAX_BATCH_RECORDS;
    if (this.maxIntervalMs > 0) {
      await sleep(this.rnd.int(0, this.maxIntervalMs));
      count = 1;
    }
    if (this.ratePerSec > 0) {
      const allowed =
        Math.floor(((Date.now() - this.startedAt) / 1000) * this.ratePerSec) -
        (this.iteration - this.startIteration);
      if (allowed <= 0) {
        await sleep(Math.max(1, Math.min(100, 1000 / this.ratePerSec)));
        return null;
      }
      count = Math.min(count, allowed);
    }
    if (this.iterations >= 0) count = Math.min(count, this.iterations - this.iteration);
    const out: SourceRecord[] = [];
    const now = Date.now();
    const partition = { 'task.id': this.taskId };
    for (let n = 0; n < count; n++) {
      const i = this.iteration++;
      const value = this.gen.next(i, this.rnd, now);
      const key = this.keyField === null ? null : String(value[this.keyField]);
      out.push({
        topic: this.topic,
        kafkaPartition: null,
        keySchema: key === null ? null : Schemas.STRING,
        key,
        valueSchema: this.gen.schema,
        value,
        timestamp: now,
        headers: [],
        sourcePartition: partition,
        sourceOffset: { 'current.iteration': i },
      });
    }
    return out;
  }

  stop(): void {
    this.stopped = true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const plugins: ConnectorPlugin[] = [
  {
    className: 'io.confluent.kafka.connect.datagen.DatagenConnector',
    aliases: ['DatagenConnector', 'Datagen'],
    type: 'source',
    version: VERSION,
    create: () => new DatagenConnector(),
  },
];
