/**
 * The S3 sink connector (Confluent's `io.confluent.connect.s3.S3SinkConnector`): validates the
 * config and gives every task the same one; the runtime's consumer group spreads the partitions.
 */
import type { ConfigDef, Props, SinkConnector, SinkTask } from '../../connect/sdk.js';
import { parseS3SinkConfig, s3SinkConfigDef, VERSION } from './config.js';
import { S3SinkTask } from './task.js';

export class S3SinkConnector implements SinkConnector {
  readonly type = 'sink';
  private props: Props = {};

  version(): string {
    return VERSION;
  }

  config(): ConfigDef {
    return s3SinkConfigDef();
  }

  start(props: Props): void {
    parseS3SinkConfig(props);
    this.props = props;
  }

  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }

  validate(props: Props): Record<string, string[]> {
    try {
      parseS3SinkConfig(props);
      return {};
    } catch (err) {
      const key = (err as { key?: string }).key ?? 's3.bucket.name';
      return { [key]: [err instanceof Error ? err.message : String(err)] };
    }
  }

  stop(): void {}

  createTask(): SinkTask {
    return new S3SinkTask();
  }
}
