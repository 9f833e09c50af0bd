/**
 * The keys every connector has (Kafka's ConnectorConfig, SourceConnectorConfig and
 * SinkConnectorConfig): name, connector.class, tasks.max, converters, transforms, predicates and
 * the error handling keys; plus client overrides (`producer.override.*`, `consumer.override.*`,
 * `admin.override.*`). A connector's own keys are merged in from its plugin's ConfigDef.
 */
import { ConfigDef, Validators } from '../config-def.js';
import { ConfigException } from '../errors.js';

const COMMON = 'Common';
const TRANSFORMS = 'Transforms';
const ERRORS = 'Error Handling';

export function commonConfigDef(type: 'source' | 'sink'): ConfigDef {
  const d = new ConfigDef()
    .define({
      name: 'name',
      type: 'string',
      default: undefined,
      importance: 'high',
      documentation: 'Globally unique name to use for this connector.',
      group: COMMON,
      orderInGroup: 1,
      displayName: 'Connector name',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'connector.class',
      type: 'string',
      default: undefined,
      importance: 'high',
      documentation:
        'Name or alias of the class for this connector, e.g. org.apache.kafka.connect.file.FileStreamSinkConnector or FileStreamSink.',
      group: COMMON,
      orderInGroup: 2,
      displayName: 'Connector class',
    })
    .define({
      name: 'tasks.max',
      type: 'int',
      default: 1,
      importance: 'high',
      documentation: 'Maximum number of tasks to use for this connector.',
      group: COMMON,
      orderInGroup: 3,
      displayName: 'Tasks max',
      validator: Validators.atLeast(1),
    })
    .define({
      name: 'tasks.max.enforce',
      type: 'boolean',
      default: true,
      importance: 'low',
      documentation: 'Fail the connector when it returns more task configs than tasks.max.',
      group: COMMON,
      orderInGroup: 4,
    })
    .define({
      name: 'key.converter',
      type: 'class',
      default: null,
      importance: 'low',
      documentation: "Converter class for keys; overrides the worker's.",
      group: COMMON,
      orderInGroup: 5,
      displayName: 'Key converter class',
    })
    .define({
      name: 'value.converter',
      type: 'class',
      default: null,
      importance: 'low',
      documentation: "Converter class for values; overrides the worker's.",
      group: COMMON,
      orderInGroup: 6,
      displayName: 'Value converter class',
    })
    .define({
      name: 'header.converter',
      type: 'class',
      default: null,
      importance: 'low',
      documentation: "Converter class for header values; overrides the worker's.",
      group: COMMON,
      orderInGroup: 7,
      displayName: 'Header converter class',
    })
    .define({
      name: 'config.action.reload',
      type: 'string',
      default: 'restart',
      importance: 'low',
      documentation: 'Accepted for compatibility (config providers are not supported).',
      group: COMMON,
      orderInGroup: 8,
      validator: Validators.in('none', 'restart'),
    })
    .define({
      name: 'transforms',
      type: 'list',
      default: [],
      importance: 'low',
      documentation: 'Aliases for the transformations to be applied to records, in order.',
      group: TRANSFORMS,
      orderInGroup: 1,
      displayName: 'Transforms',
    })
    .define({
      name: 'predicates',
      type: 'list',
      default: [],
      importance: 'low',
      documentation: 'Aliases for the predicates used by transformations.',
      group: 'Predicates',
      orderInGroup: 1,
      displayName: 'Predicates',
    })
    .define({
      name: 'errors.retry.timeout',
      type: 'long',
      default: 0,
      importance: 'medium',
      documentation:
        'The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.',
      group: ERRORS,
      orderInGroup: 1,
      validator: Validators.atLeast(-1),
    })
    .define({
      name: 'errors.retry.delay.max.ms',
      type: 'long',
      default: 60_000,
      importance: 'medium',
      documentation: 'The maximum duration in milliseconds between consecutive retry attempts.',
      group: ERRORS,
      orderInGroup: 2,
      validator: Validators.atLeast(1),
    })
    .define({
      name: 'errors.tolerance',
      type: 'string',
      default: 'none',
      importance: 'medium',
      documentation:
        "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
      group: ERRORS,
      orderInGroup: 3,
      validator: Validators.inIgnoreCase('none', 'all'),
    })
    .define({
      name: 'errors.log.enable',
      type: 'boolean',
      default: false,
      importance: 'medium',
      documentation:
        'If true, write each error and the details of the failed operation and problematic record to the worker log.',
      group: ERRORS,
      orderInGroup: 4,
    })
    .define({
      name: 'errors.log.include.messages',
      type: 'boolean',
      default: false,
      importance: 'medium',
      documentation: 'Whether to include in the log the Connect record that resulted in a failure.',
      group: ERRORS,
      orderInGroup: 5,
    });
  if (type === 'sink') {
    d.define({
      name: 'topics',
      type: 'list',
      default: [],
      importance: 'high',
      documentation: 'List of topics to consume, separated by commas',
      group: COMMON,
      orderInGroup: 9,
      displayName: 'Topics',
    })
      .define({
        name: 'topics.regex',
        type: 'string',
        default: '',
        importance: 'high',
        documentation:
          'Regular expression giving topics to consume. Only one of topics or topics.regex should be specified.',
        group: COMMON,
        orderInGroup: 10,
        validator: Validators.regex(),
      })
      .define({
        name: 'errors.deadletterqueue.topic.name',
        type: 'string',
        default: '',
        importance: 'medium',
        documentation:
          'The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters.',
        group: ERRORS,
        orderInGroup: 6,
      })
      .define({
        name: 'errors.deadletterqueue.topic.replication.factor',
        type: 'int',
        default: 3,
        importance: 'medium',
        documentation:
          "Replication factor used to create the dead letter queue topic when it doesn't already exist (capped at the number of brokers).",
        group: ERRORS,
        orderInGroup: 7,
      })
      .define({
        name: 'errors.deadletterqueue.context.headers.enable',
        type: 'boolean',
        default: false,
        importance: 'medium',
        documentation:
          'If true, add headers containing error context to the messages written to the dead letter queue.',
        group: ERRORS,
        orderInGroup: 8,
      });
  } else {
    d.define({
      name: 'topic.creation.groups',
      type: 'list',
      default: [],
      importance: 'low',
      documentation: 'Accepted for compatibility; topics are created with topic.creation.default.* settings.',
      group: 'Topic Creation',
    })
      .define({
        name: 'exactly.once.support',
        type: 'string',
        default: 'requested',
        importance: 'medium',
        documentation: 'requested or required.',
        group: 'Exactly Once Support',
        validator: Validators.in('requested', 'required'),
      })
      .define({
        name: 'transaction.boundary',
        type: 'string',
        default: 'poll',
        importance: 'medium',
        documentation: 'Accepted for compatibility: records of one poll() are committed together.',
        group: 'Exactly Once Support',
      })
      .define({
        name: 'offsets.storage.topic',
        type: 'string',
        default: null,
        importance: 'low',
        documentation: "Accepted for compatibility; offsets go to the worker's offset store.",
        group: 'Offsets',
      });
  }
  return d;
}

/** Kafka's extra sink checks: exactly one of topics/topics.regex, and the DLQ not among the topics. */
export function sinkTopicErrors(props: Readonly<Record<string, string>>): Record<string, string[]> {
  const topics = (props.topics ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const regex = (props['topics.regex'] ?? '').trim();
  const errors: Record<string, string[]> = {};
  if (topics.length > 0 && regex !== '') {
    const msg = 'topics and topics.regex are mutually exclusive options, but both are set.';
    errors.topics = [msg];
    errors['topics.regex'] = [msg];
  } else if (topics.length === 0 && regex === '') {
    const msg = 'Must configure one of topics or topics.regex';
    errors.topics = [msg];
    errors['topics.regex'] = [msg];
  }
  const dlq = (props['errors.deadletterqueue.topic.name'] ?? '').trim();
  if (dlq !== '' && topics.includes(dlq)) {
    errors['errors.deadletterqueue.topic.name'] = [
      `The DLQ topic '${dlq}' may not be included in the list of topics ('topics=${props.topics}') consumed by the connector`,
    ];
  }
  return errors;
}

/** Client overrides a connector asks for (`producer.override.acks` → `acks`), checked against the worker's policy. */
export function clientOverrides(
  props: Readonly<Record<string, string>>,
  prefix: 'producer.override.' | 'consumer.override.' | 'admin.override.',
  policy: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!k.startsWith(prefix)) continue;
    if (policy === 'None')
      throw new ConfigException(
        k,
        v,
        "The worker's connector.client.config.override.policy (None) does not allow client overrides",
      );
    out[k.slice(prefix.length)] = v;
  }
  return out;
}

/** String client settings as the typed values the client API takes ("5" → 5, "true" → true). */
export function typedClientConfig(
  props: Readonly<Record<string, string>>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(props)) {
    const t = v.trim();
    if (/^-?\d+$/.test(t)) out[k] = Number(t);
    else if (t === 'true' || t === 'false') out[k] = t === 'true';
    else out[k] = t;
  }
  return out;
}
