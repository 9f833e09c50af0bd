/**
 * Where a record goes inside `<topics.dir>/<topic>/`: the "encoded partition" of Confluent's
 * storage partitioners, and the timestamp extractors the time-based ones use.
 *
 * - Default: `partition=<kafka partition>`.
 * - Field: `<field>=<value>` for each of `partition.field.name`, joined by `directory.delim`.
 * - TimeBased (and Daily, Hourly): the record's time, floored to `partition.duration.ms` in
 *   `timezone`, formatted with the Joda-Time pattern `path.format` in `locale`.
 *
 * All three are functions of the record alone (with Record or RecordField time), which is what
 * makes replays after a crash write the same objects.
 */
import { DataException, type SinkRecord } from '../../connect/sdk.js';
import type { S3SinkConfig } from './config.js';

export interface Partitioner {
  encodePartition(record: SinkRecord): string;
}

export type TimestampExtractor = (record: SinkRecord) => number;

export function timestampExtractor(cfg: S3SinkConfig, nowMs: () => number): TimestampExtractor {
  switch (cfg.extractor) {
    case 'Wallclock':
      return () => nowMs();
    case 'Record':
      return recordTime;
    case 'RecordField':
      return (r) => fieldTime(r, cfg.timestampField);
  }
}

export function recordTime(r: SinkRecord): number {
  if (r.timestamp === null || r.timestamp < 0) {
    throw new DataException(
      `record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has no timestamp (timestamp.extractor=Record)`,
    );
  }
  return r.timestamp;
}

function fieldTime(r: SinkRecord, field: string): number {
  const v = lookup(r.value, field);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') {
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new DataException(
    `record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset}: timestamp.field '${field}' is ${v === undefined ? 'missing' : `not a time (${String(v)})`}`,
  );
}

/** A (possibly dotted) field of a struct or map value. */
export function lookup(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur instanceof Map) cur = cur.get(part);
    else if (cur !== null && typeof cur === 'object' && !Buffer.isBuffer(cur))
      cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

export function createPartitioner(cfg: S3SinkConfig, nowMs: () => number): Partitioner {
  switch (cfg.partitioner) {
    case 'default': {
      // The same string object for every record of a partition: the writer's lookups by it hash it once.
      const names: string[] = [];
      return {
        encodePartition: (r) => {
          const p = r.kafkaPartition;
          const known = names[p];
          if (known !== undefined) return known;
          const name = `partition=${p}`;
          if (p >= 0 && p < 65_536) names[p] = name;
          return name;
        },
      };
    }
    case 'field':
      return {
        encodePartition: (r) =>
          cfg.partitionFields
            .map((f) => {
              const v = lookup(r.value, f);
              if (v === undefined || v === null || (typeof v === 'object' && !(v instanceof Date))) {
                throw new DataException(
                  `record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset}: partition.field.name '${f}' is ${v === undefined || v === null ? 'missing' : 'not a primitive'}`,
                );
              }
              return `${f}=${v instanceof Date ? v.getTime() : String(v)}`;
            })
            .join(cfg.directoryDelim),
      };
    case 'time': {
      const extract = timestampExtractor(cfg, nowMs);
      const format = new JodaFormat(cfg.pathFormat, cfg.timezone, cfg.locale);
      return {
        encodePartition: (r) => format.format(bucketStart(extract(r), cfg.partitionDurationMs, cfg.timezone)),
      };
    }
  }
}

/** The start of the bucket of `durationMs` holding `ts`, with buckets aligned to local time in `timezone`. */
export function bucketStart(ts: number, durationMs: number, timezone: string): number {
  const offset = zoneOffsetMs(ts, timezone);
  const local = Math.floor((ts + offset) / durationMs) * durationMs;
  return local - zoneOffsetMs(local - offset, timezone);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at `ts`, in ms. */
export function zoneOffsetMs(ts: number, timezone: string): number {
  if (timezone === 'UTC') return 0;
  let f = offsetFormats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(timezone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second),
  );
  return asUtc - Math.floor(ts / 1000) * 1000;
}

type Token = { literal: string } | { field: string; width: number };

/**
 * The subset of Joda-Time's DateTimeFormat patterns that path formats use: y/Y (year), M (month:
 * MM number, MMM short name, MMMM full name), d, H, m, s, S (millis), E (weekday name), a, and
 * 'quoted' literal text.
 */
export class JodaFormat {
  private readonly tokens: Token[];
  private readonly parts: Intl.DateTimeFormat;
  private readonly monthShort: Intl.DateTimeFormat;
  private readonly monthLong: Intl.DateTimeFormat;
  private readonly weekday: Intl.DateTimeFormat;

  constructor(pattern: string, timezone: string, locale: string) {
    this.tokens = tokenize(pattern);
    const loc = locale === '' ? 'en-US' : locale;
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.monthShort = new Intl.DateTimeFormat(loc, { timeZone: timezone, month: 'short' });
    this.monthLong = new Intl.DateTimeFormat(loc, { timeZone: timezone, month: 'long' });
    this.weekday = new Intl.DateTimeFormat(loc, { timeZone: timezone, weekday: 'short' });
  }

  format(ts: number): string {
    const p = Object.fromEntries(this.parts.formatToParts(ts).map((x) => [x.type, x.value]));
    let out = '';
    for (const t of this.tokens) {
      if ('literal' in t) {
        out += t.literal;
        continue;
      }
      const num = (n: number) => String(n).padStart(t.width, '0');
      switch (t.field) {
        case 'y':
        case 'Y':
          out += t.width === 2 ? String(Number(p.year) % 100).padStart(2, '0') : num(Number(p.year));
          break;
        case 'M':
          out +=
            t.width >= 4
              ? this.monthLong.format(ts)
              : t.width === 3
                ? this.monthShort.format(ts)
                : num(Number(p.month));
          break;
        case 'd':
          out += num(Number(p.day));
          break;
        case 'H':
          out += num(Number(p.hour));
          break;
        case 'm':
          out += num(Number(p.minute));
          break;
        case 's':
          out += num(Number(p.second));
          break;
        case 'S':
          out += num(((ts % 1000) + 1000) % 1000);
          break;
        case 'E':
          out += this.weekday.format(ts);
          break;
        case 'a':
          out += Number(p.hour) < 12 ? 'AM' : 'PM';
          break;
      }
    }
    return out;
  }
}

const FIELDS = new Set(['y', 'Y', 'M', 'd', 'H', 'm', 's', 'S', 'E', 'a']);

function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const lit = (s: string) => {
    const last = out[out.length - 1];
    if (last && 'literal' in last) last.literal += s;
    else out.push({ literal: s });
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        lit("'");
        i += 2;
        continue;
      }
      if (end < 0) throw new DataException(`path.format has an unterminated quote: ${pattern}`);
      lit(pattern.slice(i + 1, end));
      i = end + 1;
    } else if (FIELDS.has(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      out.push({ field: c, width: j - i });
      i = j;
    } else if (/[A-Za-z]/.test(c)) {
      throw new DataException(
        `path.format uses the pattern letter '${c}', which is not supported (use y, M, d, H, m, s, S, E, a or 'quoted text')`,
      );
    } else {
      lit(c);
      i++;
    }
  }
  return out;
}
