/**
 * Postgres change data capture: a drop-in for Debezium's PostgreSQL connector (its config keys,
 * its event envelope and schemas, class name `io.debezium.connector.postgresql.PostgresConnector`),
 * built on `pg` and logical replication with the pgoutput plugin. See docs/connectors/postgres.md.
 *
 * One task: a replication slot has a single reader.
 */
import {
  type ConfigDef,
  ConfigException,
  type ConnectorPlugin,
  type Props,
  type SourceConnector,
  type SourceTask,
} from '../../connect/sdk.js';
import { cdcConfigDef, parseCdcConfig } from './config.js';
import { CONNECTOR_VERSION } from './envelope.js';
import { PostgresCdcTask } from './task.js';

export { cdcConfigDef, parseCdcConfig } from './config.js';
export { type CdcTaskStatus, PostgresCdcTask, runningTasks } from './task.js';

export class PostgresConnector implements SourceConnector {
  readonly type = 'source';
  private props: Props = {};

  version(): string {
    return CONNECTOR_VERSION;
  }

  config(): ConfigDef {
    return cdcConfigDef();
  }

  start(props: Props): void {
    parseCdcConfig(props);
    this.props = props;
  }

  validate(props: Props): Record<string, string[]> {
    try {
      parseCdcConfig(props);
      return {};
    } catch (err) {
      if (err instanceof ConfigException) return { [err.key]: [err.message] };
      return {};
    }
  }

  taskConfigs(_maxTasks: number): Props[] {
    return [{ ...this.props }];
  }

  stop(): void {}

  createTask(): SourceTask {
    return new PostgresCdcTask();
  }
}

export const plugins: ConnectorPlugin[] = [
  {
    className: 'PostgresCdcSourceConnector',
    aliases: ['io.debezium.connector.postgresql.PostgresConnector', 'PostgresConnector', 'PostgresCdc'],
    type: 'source',
    version: CONNECTOR_VERSION,
    create: () => new PostgresConnector(),
  },
];
