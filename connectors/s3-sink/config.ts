/**
 * The S3 sink's config: Confluent's S3 sink keys (`io.confluent.connect.s3.S3SinkConnectorConfig`
 * and the storage-common partitioner/format keys), validated once and frozen into a typed
 * {@link S3SinkConfig}. Class-valued keys accept Confluent's class names and short forms.
 */
import {
  ConfigDef,
  ConfigException,
  getBoolean,
  getList,
  getNumber,
  getOptionalString,
  getString,
  type Props,
  Validators,
} from '../../connect/sdk.js';

export const VERSION = '1.0.0';

/** S3's smallest part of a multipart upload (all but the last part). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
const MAX_PART_SIZE_BYTES = 2 ** 31 - 1;

export type PartitionerKind = 'default' | 'field' | 'time';
export type FormatKind = 'json' | 'avro' | 'bytes';
export type ExtractorKind = 'Record' | 'RecordField' | 'Wallclock';
export type NullBehavior = 'fail' | 'ignore' | 'write';

const PARTITIONERS: Readonly<Record<string, PartitionerKind | 'daily' | 'hourly'>> = {
  'io.confluent.connect.storage.partitioner.DefaultPartitioner': 'default',
  DefaultPartitioner: 'default',
  'io.confluent.connect.storage.partitioner.FieldPartitioner': 'field',
  FieldPartitioner: 'field',
  'io.confluent.connect.storage.partitioner.TimeBasedPartitioner': 'time',
  TimeBasedPartitioner: 'time',
  'io.confluent.connect.storage.partitioner.DailyPartitioner': 'daily',
  DailyPartitioner: 'daily',
  'io.confluent.connect.storage.partitioner.HourlyPartitioner': 'hourly',
  HourlyPartitioner: 'hourly',
};

const FORMATS: Readonly<Record<string, FormatKind>> = {
  'io.confluent.connect.s3.format.json.JsonFormat': 'json',
  JsonFormat: 'json',
  'io.confluent.connect.s3.format.avro.AvroFormat': 'avro',
  AvroFormat: 'avro',
  'io.confluent.connect.s3.format.bytearray.ByteArrayFormat': 'bytes',
  ByteArrayFormat: 'bytes',
};

const EXTRACTORS: Readonly<Record<string, ExtractorKind>> = {
  Record: 'Record',
  RecordField: 'RecordField',
  Wallclock: 'Wallclock',
  'io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordTimestampExtractor': 'Record',
  'io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordFieldTimestampExtractor':
    'RecordField',
  'io.confluent.connect.storage.partitioner.TimeBasedPartitioner$WallclockTimestampExtractor': 'Wallclock',
};

function oneOf(table: Readonly<Record<string, string>>): ReturnType<typeof Validators.custom> {
  return Validators.custom(
    `one of ${Object.keys(table)
      .filter((k) => !k.includes('.'))
      .join(', ')}`,
    (name, v) => {
      if (typeof v !== 'string' || !(v.trim() in table)) {
        throw new ConfigException(
          name,
          v,
          `not a supported class; use one of ${Object.keys(table).join(', ')}`,
        );
      }
    },
  );
}

function timezoneValidator(): ReturnType<typeof Validators.custom> {
  return Validators.custom('an IANA time zone id, or empty', (name, v) => {
    if (v === null || v === '') return;
    try {
      new Intl.DateTimeFormat('en', { timeZone: String(v) });
    } catch {
      throw new ConfigException(name, v, 'not a time zone id (use e.g. UTC or Europe/Paris)');
    }
  });
}

export function s3SinkConfigDef(): ConfigDef {
  const g = 'S3';
  const s = 'Storage';
  const p = 'Partitioner';
  return new ConfigDef()
    .define({
      name: 's3.bucket.name',
      type: 'string',
      importance: 'high',
      group: g,
      documentation: 'The S3 bucket.',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 's3.region',
      type: 'string',
      default: 'us-west-2',
      importance: 'medium',
      group: g,
      documentation: 'The AWS region of the bucket.',
    })
    .define({
      name: 'store.url',
      type: 'string',
      default: null,
      importance: 'high',
      group: g,
      documentation: 'An S3-compatible endpoint, e.g. http://127.0.0.1:4569 (default: AWS).',
    })
    .define({
      name: 's3.path.style.access.enabled',
      type: 'boolean',
      default: true,
      importance: 'low',
      group: g,
      documentation: 'Path-style URLs (http://host/bucket/key) instead of virtual-hosted ones.',
    })
    .define({
      name: 'aws.access.key.id',
      type: 'string',
      default: null,
      importance: 'high',
      group: g,
      documentation:
        "The access key; without it (and aws.secret.access.key) the SDK's default credential chain is used.",
    })
    .define({
      name: 'aws.secret.access.key',
      type: 'password',
      default: null,
      importance: 'high',
      group: g,
      documentation: 'The secret key that goes with aws.access.key.id.',
    })
    .define({
      name: 's3.part.size',
      type: 'int',
      default: 25 * 1024 * 1024,
      importance: 'high',
      group: g,
      documentation:
        'Bytes of one part of a multipart upload; a file larger than this goes up in parts, and each open file buffers at most one part.',
      validator: Validators.between(MIN_PART_SIZE_BYTES, MAX_PART_SIZE_BYTES),
    })
    .define({
      name: 's3.buffer.memory.bytes',
      type: 'long',
      default: 256 * 1024 * 1024,
      importance: 'medium',
      group: g,
      documentation:
        'Upper bound on the bytes a task buffers across all its open files. Past it, the largest buffers are uploaded as parts early; if that cannot bring it down, the task fails with an error saying which settings to change.',
      validator: Validators.atLeast(MIN_PART_SIZE_BYTES),
    })
    .define({
      name: 's3.part.retries',
      type: 'int',
      default: 3,
      importance: 'medium',
      group: g,
      documentation:
        'Retries of a failed S3 request (network errors, throttling, 5xx) before the task fails.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 's3.request.timeout.ms',
      type: 'long',
      default: 120_000,
      importance: 'low',
      group: g,
      documentation: 'Longest wait for one S3 request (a timed-out request is retried per s3.part.retries).',
      validator: Validators.atLeast(1000),
    })
    .define({
      name: 's3.retry.backoff.ms',
      type: 'long',
      default: 200,
      importance: 'low',
      group: g,
      documentation: 'Wait before the first retry; doubled for each further one.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'topics.dir',
      type: 'string',
      default: 'topics',
      importance: 'high',
      group: s,
      documentation: 'The top-level folder of the objects.',
    })
    .define({
      name: 'directory.delim',
      type: 'string',
      default: '/',
      importance: 'low',
      group: s,
      documentation: 'Separator of folders in object names.',
    })
    .define({
      name: 'file.delim',
      type: 'string',
      default: '+',
      importance: 'low',
      group: s,
      documentation: 'Separator of topic, partition and offset in file names.',
    })
    .define({
      name: 'filename.offset.zero.pad.width',
      type: 'int',
      default: 10,
      importance: 'low',
      group: s,
      documentation: 'Digits of the start offset in file names (zero-padded).',
      validator: Validators.between(0, 20),
    })
    .define({
      name: 'flush.size',
      type: 'int',
      importance: 'high',
      group: s,
      documentation: 'Records of one Kafka partition per file: a file is committed once it holds this many.',
      validator: Validators.atLeast(1),
    })
    .define({
      name: 'rotate.interval.ms',
      type: 'long',
      default: -1,
      importance: 'high',
      group: s,
      documentation:
        "Commit a partition's files once a record's timestamp (per timestamp.extractor) is this far past the first record's. -1: off.",
    })
    .define({
      name: 'rotate.schedule.interval.ms',
      type: 'long',
      default: -1,
      importance: 'medium',
      group: s,
      documentation:
        'Commit open files at every multiple of this interval of wall-clock time (in `timezone`). Not deterministic: exactly-once is lost. -1: off.',
    })
    .define({
      name: 'format.class',
      type: 'class',
      importance: 'high',
      group: s,
      documentation:
        'JsonFormat (one JSON value per line, .json), AvroFormat (Avro object container files, .avro) or ByteArrayFormat (raw bytes, .bin).',
      validator: oneOf(FORMATS),
    })
    .define({
      name: 'format.bytearray.extension',
      type: 'string',
      default: '.bin',
      importance: 'low',
      group: s,
      documentation: 'File extension of ByteArrayFormat.',
    })
    .define({
      name: 'format.bytearray.separator',
      type: 'string',
      default: null,
      importance: 'low',
      group: s,
      documentation: 'Bytes written after each ByteArrayFormat record (default a newline).',
    })
    .define({
      name: 'avro.codec',
      type: 'string',
      default: 'null',
      importance: 'low',
      group: s,
      documentation: 'Compression of Avro blocks: null or deflate.',
      validator: Validators.in('null', 'deflate'),
    })
    .define({
      name: 'behavior.on.null.values',
      type: 'string',
      default: 'fail',
      importance: 'low',
      group: s,
      documentation:
        'A record with a null value (tombstone): fail the task, ignore it, or write it (JSON: a null line; bytes: an empty record).',
      validator: Validators.inIgnoreCase('fail', 'ignore', 'write'),
    })
    .define({
      name: 'partitioner.class',
      type: 'class',
      default: 'io.confluent.connect.storage.partitioner.DefaultPartitioner',
      importance: 'high',
      group: p,
      documentation:
        'DefaultPartitioner (partition=<n>), FieldPartitioner, TimeBasedPartitioner, DailyPartitioner or HourlyPartitioner.',
      validator: oneOf(PARTITIONERS),
    })
    .define({
      name: 'partition.field.name',
      type: 'list',
      default: [],
      importance: 'medium',
      group: p,
      documentation: 'FieldPartitioner: the value fields whose values name the folder (field=value/…).',
    })
    .define({
      name: 'path.format',
      type: 'string',
      default: '',
      importance: 'medium',
      group: p,
      documentation:
        "TimeBasedPartitioner: a Joda-Time pattern of the folder, e.g. 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH.",
    })
    .define({
      name: 'partition.duration.ms',
      type: 'long',
      default: -1,
      importance: 'medium',
      group: p,
      documentation: 'TimeBasedPartitioner: the length of one time bucket.',
    })
    .define({
      name: 'locale',
      type: 'string',
      default: '',
      importance: 'medium',
      group: p,
      documentation: 'TimeBasedPartitioner: the locale of names in path.format (e.g. en-US).',
    })
    .define({
      name: 'timezone',
      type: 'string',
      default: '',
      importance: 'medium',
      group: p,
      documentation: 'Time zone of path.format and rotate.schedule.interval.ms (e.g. UTC).',
      validator: timezoneValidator(),
    })
    .define({
      name: 'timestamp.extractor',
      type: 'string',
      default: 'Wallclock',
      importance: 'medium',
      group: p,
      documentation:
        "TimeBasedPartitioner: Record (the record's timestamp), RecordField (timestamp.field of the value) or Wallclock.",
      validator: oneOf(EXTRACTORS),
    })
    .define({
      name: 'timestamp.field',
      type: 'string',
      default: 'timestamp',
      importance: 'medium',
      group: p,
      documentation:
        'RecordField: the value field with the time (epoch ms, or an ISO-8601 string); nested fields with dots.',
    });
}

export interface S3SinkConfig {
  bucket: string;
  region: string;
  storeUrl: string | null;
  pathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  partSizeBytes: number;
  bufferMemoryBytes: number;
  partRetries: number;
  retryBackoffMs: number;
  requestTimeoutMs: number;
  topicsDir: string;
  directoryDelim: string;
  fileDelim: string;
  offsetPadWidth: number;
  flushSize: number;
  rotateIntervalMs: number;
  rotateScheduleIntervalMs: number;
  format: FormatKind;
  bytesExtension: string;
  bytesSeparator: Buffer;
  avroCodec: 'null' | 'deflate';
  onNull: NullBehavior;
  partitioner: PartitionerKind;
  partitionFields: string[];
  pathFormat: string;
  partitionDurationMs: number;
  locale: string;
  timezone: string;
  extractor: ExtractorKind;
  timestampField: string;
}

/** Parses and checks the keys that depend on each other; throws a ConfigException naming the key. */
export function parseS3SinkConfig(props: Props): S3SinkConfig {
  const c = s3SinkConfigDef().parse(props);
  const accessKeyId = getOptionalString(c, 'aws.access.key.id');
  const secretAccessKey = getOptionalString(c, 'aws.secret.access.key');
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new ConfigException(
      accessKeyId === null ? 'aws.access.key.id' : 'aws.secret.access.key',
      undefined,
      'aws.access.key.id and aws.secret.access.key go together: set both, or neither to use the default credential chain',
    );
  }
  const partitionerName = PARTITIONERS[getString(c, 'partitioner.class').trim()]!;
  let pathFormat = getString(c, 'path.format');
  let durationMs = getNumber(c, 'partition.duration.ms');
  let partitioner: PartitionerKind;
  if (partitionerName === 'daily' || partitionerName === 'hourly') {
    partitioner = 'time';
    pathFormat =
      partitionerName === 'daily'
        ? "'year'=YYYY/'month'=MM/'day'=dd"
        : "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
    durationMs = partitionerName === 'daily' ? 86_400_000 : 3_600_000;
  } else {
    partitioner = partitionerName;
  }
  const timezone = getString(c, 'timezone');
  const locale = getString(c, 'locale');
  if (partitioner === 'time') {
    if (pathFormat.trim() === '')
      throw new ConfigException('path.format', pathFormat, 'TimeBasedPartitioner needs a path format');
    if (durationMs <= 0)
      throw new ConfigException(
        'partition.duration.ms',
        durationMs,
        'TimeBasedPartitioner needs a positive duration',
      );
    if (timezone === '')
      throw new ConfigException(
        'timezone',
        timezone,
        `${partitionerName === 'time' ? 'TimeBased' : partitionerName === 'daily' ? 'Daily' : 'Hourly'}Partitioner needs a time zone (e.g. UTC)`,
      );
    if (locale === '')
      throw new ConfigException('locale', locale, 'TimeBasedPartitioner needs a locale (e.g. en-US)');
    try {
      new Intl.DateTimeFormat(locale.replace('_', '-'));
    } catch {
      throw new ConfigException('locale', locale, 'not a locale (use e.g. en-US)');
    }
  }
  const fields = getList(c, 'partition.field.name').filter((f) => f !== '');
  if (partitioner === 'field' && fields.length === 0) {
    throw new ConfigException('partition.field.name', '', 'FieldPartitioner needs at least one field name');
  }
  const scheduleMs = getNumber(c, 'rotate.schedule.interval.ms');
  if (scheduleMs > 0 && timezone === '') {
    throw new ConfigException(
      'timezone',
      timezone,
      'rotate.schedule.interval.ms needs a time zone (e.g. UTC)',
    );
  }
  const separator = getOptionalString(c, 'format.bytearray.separator');
  return Object.freeze({
    bucket: getString(c, 's3.bucket.name'),
    region: getString(c, 's3.region'),
    storeUrl: getOptionalString(c, 'store.url'),
    pathStyle: getBoolean(c, 's3.path.style.access.enabled'),
    credentials: accessKeyId !== null && secretAccessKey !== null ? { accessKeyId, secretAccessKey } : null,
    partSizeBytes: getNumber(c, 's3.part.size'),
    bufferMemoryBytes: getNumber(c, 's3.buffer.memory.bytes'),
    partRetries: getNumber(c, 's3.part.retries'),
    retryBackoffMs: getNumber(c, 's3.retry.backoff.ms'),
    requestTimeoutMs: getNumber(c, 's3.request.timeout.ms'),
    topicsDir: getString(c, 'topics.dir'),
    directoryDelim: getString(c, 'directory.delim'),
    fileDelim: getString(c, 'file.delim'),
    offsetPadWidth: getNumber(c, 'filename.offset.zero.pad.width'),
    flushSize: getNumber(c, 'flush.size'),
    rotateIntervalMs: getNumber(c, 'rotate.interval.ms'),
    rotateScheduleIntervalMs: scheduleMs,
    format: FORMATS[getString(c, 'format.class').trim()]!,
    bytesExtension: getString(c, 'format.bytearray.extension'),
    bytesSeparator: Buffer.from(separator ?? '\n'),
    avroCodec: getString(c, 'avro.codec') as 'null' | 'deflate',
    onNull: getString(c, 'behavior.on.null.values').toLowerCase() as NullBehavior,
    partitioner,
    partitionFields: fields,
    pathFormat,
    partitionDurationMs: durationMs,
    locale: locale.replace('_', '-'),
    timezone: timezone === '' ? 'UTC' : timezone,
    extractor: EXTRACTORS[getString(c, 'timestamp.extractor').trim()]!,
    timestampField: getString(c, 'timestamp.field'),
  });
}
