/**
 * Transforms of where a record goes and what it carries besides key and value: RegexRouter,
 * TimestampRouter, Filter, InsertHeader, DropHeaders.
 */
import { ConfigDef, getList, getString, NO_DEFAULT, Validators } from '../config-def.js';
import { type ConnectRecord, Schemas } from '../data.js';
import { DataException } from '../errors.js';
import { formatDate } from './date-format.js';
import type { Transformation } from './transformation.js';

/** Java's Matcher.replaceFirst replacement syntax ($1, ${name}, \$) in JavaScript's. */
function javaReplacement(text: string): string {
  return text.replace(/\\\$/g, '$$$$').replace(/\$\{(\w+)\}/g, '$<$1>');
}

export class RegexRouter implements Transformation {
  private regex = /(?:)/;
  private replacement = '';

  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'regex',
        type: 'string',
        default: NO_DEFAULT,
        importance: 'high',
        documentation: 'Regular expression to use for matching.',
        validator: Validators.regex(),
      })
      .define({
        name: 'replacement',
        type: 'string',
        default: NO_DEFAULT,
        importance: 'high',
        documentation: 'Replacement string.',
      });
  }

  configure(props: Readonly<Record<string, string>>): void {
    const cfg = this.config().parse(props);
    this.regex = new RegExp(`^(?:${getString(cfg, 'regex')})$`);
    this.replacement = javaReplacement(getString(cfg, 'replacement'));
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    if (!this.regex.test(r.topic)) return r;
    return { ...r, topic: r.topic.replace(this.regex, this.replacement) };
  }
}

// Kafka's placeholders are written ${topic} and ${timestamp}: plain strings, not templates.
const TOPIC = ['$', '{topic}'].join('');
const TIMESTAMP = ['$', '{timestamp}'].join('');
const DEFAULT_TOPIC_FORMAT = `${TOPIC}-${TIMESTAMP}`;

export class TimestampRouter implements Transformation {
  private topicFormat = DEFAULT_TOPIC_FORMAT;
  private timestampFormat = 'yyyyMMdd';

  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'topic.format',
        type: 'string',
        default: DEFAULT_TOPIC_FORMAT,
        importance: 'high',
        documentation: `Format string which can contain ${TOPIC} and ${TIMESTAMP} as placeholders for the topic and timestamp, respectively.`,
      })
      .define({
        name: 'timestamp.format',
        type: 'string',
        default: 'yyyyMMdd',
        importance: 'high',
        documentation: 'Format string for the timestamp that is compatible with java.text.SimpleDateFormat.',
      });
  }

  configure(props: Readonly<Record<string, string>>): void {
    const cfg = this.config().parse(props);
    this.topicFormat = getString(cfg, 'topic.format');
    this.timestampFormat = getString(cfg, 'timestamp.format');
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    if (r.timestamp === null) throw new DataException(`Timestamp missing on record: ${r.topic}`);
    const ts = formatDate(new Date(r.timestamp), this.timestampFormat);
    return { ...r, topic: this.topicFormat.replaceAll(TOPIC, r.topic).replaceAll(TIMESTAMP, ts) };
  }
}

/** Drops every record (use it with a predicate). */
export class Filter implements Transformation {
  config(): ConfigDef {
    return new ConfigDef();
  }
  configure(): void {}
  apply<R extends ConnectRecord>(_r: R): R | null {
    return null;
  }
}

export class InsertHeader implements Transformation {
  private header = '';
  private literal = '';

  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'header',
        type: 'string',
        default: NO_DEFAULT,
        importance: 'high',
        documentation: 'The name of the header.',
        validator: Validators.nonEmptyString(),
      })
      .define({
        name: 'value.literal',
        type: 'string',
        default: NO_DEFAULT,
        importance: 'high',
        documentation: 'The literal value that is to be set as the header value on all records.',
      });
  }

  configure(props: Readonly<Record<string, string>>): void {
    const cfg = this.config().parse(props);
    this.header = getString(cfg, 'header');
    this.literal = getString(cfg, 'value.literal');
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    return {
      ...r,
      headers: [...r.headers, { key: this.header, schema: Schemas.STRING, value: this.literal }],
    };
  }
}

export class DropHeaders implements Transformation {
  private names = new Set<string>();

  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'headers',
      type: 'list',
      default: NO_DEFAULT,
      importance: 'high',
      documentation: 'The name of the headers to be removed.',
      validator: Validators.nonEmptyList(),
    });
  }

  configure(props: Readonly<Record<string, string>>): void {
    this.names = new Set(getList(this.config().parse(props), 'headers'));
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    return { ...r, headers: r.headers.filter((h) => !this.names.has(h.key)) };
  }
}
