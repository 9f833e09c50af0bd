/**
 * Kafka's predicates: TopicNameMatches, HasHeaderKey, RecordIsTombstone. A transform with
 * `predicate=<alias>` runs only on records the predicate matches (or, with `negate=true`, on the
 * ones it does not).
 */
import { ConfigDef, getString, NO_DEFAULT, Validators } from '../config-def.js';
import type { ConnectRecord } from '../data.js';
import type { Predicate } from './transformation.js';

export class TopicNameMatches implements Predicate {
  private pattern = /(?:)/;
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'pattern',
      type: 'string',
      default: NO_DEFAULT,
      importance: 'medium',
      documentation: "A Java regular expression for matching against the name of a record's topic.",
      validator: Validators.regex(),
    });
  }
  configure(props: Readonly<Record<string, string>>): void {
    this.pattern = new RegExp(`^(?:${getString(this.config().parse(props), 'pattern')})$`);
  }
  test(r: ConnectRecord): boolean {
    return r.topic !== null && this.pattern.test(r.topic);
  }
}

export class HasHeaderKey implements Predicate {
  private name = '';
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'name',
      type: 'string',
      default: NO_DEFAULT,
      importance: 'medium',
      documentation: 'The header name.',
      validator: Validators.nonEmptyString(),
    });
  }
  configure(props: Readonly<Record<string, string>>): void {
    this.name = getString(this.config().parse(props), 'name');
  }
  test(r: ConnectRecord): boolean {
    return r.headers.some((h) => h.key === this.name);
  }
}

export class RecordIsTombstone implements Predicate {
  config(): ConfigDef {
    return new ConfigDef();
  }
  configure(): void {}
  test(r: ConnectRecord): boolean {
    return r.value === null || r.value === undefined;
  }
}
