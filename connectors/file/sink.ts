/**
 * FileStreamSink, as Kafka's `org.apache.kafka.connect.file.FileStreamSinkConnector`: each record
 * of `topics` becomes one line of `file`: the value's Java toString() (see {@link javaString}).
 * Lines are appended; `flush()` (before every offset commit) fsyncs the file, so the committed
 * offsets never run ahead of what is on disk.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import {
  ConfigDef,
  type Props,
  type Schema,
  type SinkConnector,
  type SinkRecord,
  type SinkTask,
} from '../../connect/sdk.js';
import { VERSION } from './source.js';

export function fileSinkConfigDef(): ConfigDef {
  return new ConfigDef().define({
    name: 'file',
    type: 'string',
    default: null,
    importance: 'high',
    documentation: 'Destination filename. If not specified, the standard output will be used',
  });
}

export class FileStreamSinkConnector implements SinkConnector {
  readonly type = 'sink';
  private props: Props = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return fileSinkConfigDef();
  }
  start(props: Props): void {
    this.props = props;
  }
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
  createTask(): SinkTask {
    return new FileStreamSinkTask();
  }
}

/**
 * Java's `toString()` of a Connect value, which is what Kafka's sink prints: strings as they are,
 * structs as `Struct{a=1,b=x}` (null fields left out), maps as `{a=1, b=x}`, lists as `[1, 2]`,
 * null as `null`. Bytes are printed as UTF-8 text (Java would print the array's identity).
 * To write JSON as it is in the topic, read it with the StringConverter.
 */
export function javaString(value: unknown, schema: Schema | null): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value))
    return `[${value.map((v) => javaString(v, schema?.valueSchema ?? null)).join(', ')}]`;
  if (value instanceof Map)
    return `{${[...value].map(([k, v]) => `${javaString(k, null)}=${javaString(v, schema?.valueSchema ?? null)}`).join(', ')}}`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (schema?.type === 'struct') {
      const parts = (schema.fields ?? [])
        .filter((f) => obj[f.name] !== null && obj[f.name] !== undefined)
        .map((f) => `${f.name}=${javaString(obj[f.name], f.schema)}`);
      return `Struct{${parts.join(',')}}`;
    }
    return `{${Object.entries(obj)
      .map(([k, v]) => `${k}=${javaString(v, schema?.valueSchema ?? null)}`)
      .join(', ')}}`;
  }
  return String(value);
}

export class FileStreamSinkTask implements SinkTask {
  private fd = 1;
  private owned = false;

  version(): string {
    return VERSION;
  }

  start(props: Props): void {
    const file = props.file;
    if (file !== undefined && file !== '') {
      this.fd = openSync(file, 'a');
      this.owned = true;
    }
  }

  put(records: SinkRecord[]): void {
    if (records.length === 0) return;
    let out = '';
    for (const r of records) out += `${javaString(r.value, r.valueSchema)}\n`;
    const buf = Buffer.from(out);
    let at = 0;
    while (at < buf.length) at += writeSync(this.fd, buf, at);
  }

  flush(): void {
    if (this.owned) fsyncSync(this.fd);
  }

  stop(): void {
    if (this.owned) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    this.owned = false;
    this.fd = 1;
  }
}
