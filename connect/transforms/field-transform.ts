/**
 * What the field transforms share: parsed config, the side ($Key/$Value) they work on.
 */
import type { ConfigDef, ParsedConfig } from '../config-def.js';
import type { ConnectRecord } from '../data.js';
import { ConfigException } from '../errors.js';
import type { Side, Transformation } from './transformation.js';

export abstract class FieldTransform implements Transformation {
  protected cfg!: ParsedConfig;
  constructor(protected readonly side: Side) {}
  abstract config(): ConfigDef;
  configure(props: Readonly<Record<string, string>>): void {
    this.cfg = this.config().parse(props);
    this.init();
  }
  protected init(): void {}
  abstract apply<R extends ConnectRecord>(record: R): R | null;
}

export const nonEmptyList = Object.assign(
  (name: string, value: unknown) => {
    if (!Array.isArray(value) || value.length === 0) throw new ConfigException(name, value, 'Empty list');
  },
  { describe: 'non-empty list' },
);
