/**
 * DescribeConfigs, AlterConfigs, IncrementalAlterConfigs for topics (resource type 2) and,
 * read-only, for the broker (resource type 4). In a multi-node cluster topic configs live in the
 * cluster metadata: they are read from it and changed through the controller (cluster-admin.ts).
 */
import { LogError } from '../../log/errors.js';
import { LOG_CONFIG_DOCS, type LogConfig } from '../../log/log-config.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AlterConfigsRequestData, AlterConfigsResponse } from '../../protocol/messages/alter-configs.js';
import type {
  DescribeConfigsRequestData,
  DescribeConfigsResponse,
} from '../../protocol/messages/describe-configs.js';
import type {
  IncrementalAlterConfigsRequestData,
  IncrementalAlterConfigsResponse,
} from '../../protocol/messages/incremental-alter-configs.js';
import type { InferInput } from '../../protocol/schema.js';
import { BROKER_CONFIG_DEFS, type ConfigDef } from '../config.js';
import { errorAnswer } from '../kafka-errors.js';
import { CONFIG_SOURCE_CODE, clusterAlterConfigs, clusterTopicConfigs } from './cluster-admin.js';
import type { CallContext, NodeParts } from './context.js';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

/** Kafka's ConfigSource values. */
const SOURCE = { topic: 1, dynamicBroker: 2, staticBroker: 4, default: 5 } as const;

/** Kafka's ConfigType values (DescribeConfigs v3+). */
function configType(type: string): number {
  if (type.startsWith('boolean')) return 1;
  if (type.startsWith('int')) return 3;
  if (type.startsWith('long')) return 5;
  if (type.startsWith('double')) return 6;
  if (type.startsWith('a comma-separated list') || type === 'list') return 7;
  return 2;
}

function formatValue(v: unknown): string {
  return v === Number.MAX_SAFE_INTEGER ? '9223372036854775807' : String(v);
}

type DescribedConfig = {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
};

export function handleDescribeConfigs(
  node: NodeParts,
  _ctx: CallContext,
  req: DescribeConfigsRequestData,
): InferInput<typeof DescribeConfigsResponse> {
  const results = req.resources.map((r) => {
    const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    try {
      let configs: DescribedConfig[];
      if (r.resourceType === RESOURCE_TOPIC) {
        const repl = node.replicas.replication;
        const described = repl
          ? clusterTopicConfigs(node, repl.view, r.resourceName)
          : (() => {
              const info = node.logs.topic(r.resourceName);
              return info && { config: info.config, entries: node.logs.describeTopicConfigs(info.name) };
            })();
        if (!described)
          throw new LogError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${r.resourceName} does not exist`);
        const sourceCode = CONFIG_SOURCE_CODE;
        const config = described.config;
        configs = described.entries.map((entry) => {
          const name = entry.name as keyof LogConfig;
          return {
            name,
            value: formatValue(config[name]),
            readOnly: false,
            isDefault: entry.source === 'DEFAULT_CONFIG',
            configSource: sourceCode[entry.source],
            isSensitive: false,
            synonyms: req.includeSynonyms
              ? [
                  { name, value: formatValue(config[name]), source: sourceCode[entry.source] },
                  ...(entry.source !== 'DEFAULT_CONFIG' && entry.brokerSynonym
                    ? [{ name: entry.brokerSynonym, value: null, source: SOURCE.default }]
                    : []),
                ]
              : [],
            configType: configType(LOG_CONFIG_DOCS[name].type),
            documentation: req.includeDocumentation ? LOG_CONFIG_DOCS[name].doc : null,
          };
        });
      } else if (r.resourceType === RESOURCE_BROKER) {
        if (r.resourceName !== '' && r.resourceName !== String(node.endpoint().nodeId)) {
          throw Object.assign(
            new Error(`broker ${r.resourceName} is not this broker (${node.endpoint().nodeId})`),
            {
              code: 'INVALID_REQUEST',
            },
          );
        }
        configs = Object.entries(BROKER_CONFIG_DEFS).map(([name, def]: [string, ConfigDef]) => {
          const value = node.config[name as keyof typeof BROKER_CONFIG_DEFS];
          const isDefault = value === def.default;
          return {
            name,
            value: value === null ? null : formatValue(value),
            readOnly: true,
            isDefault,
            configSource: isDefault ? SOURCE.default : SOURCE.staticBroker,
            isSensitive: false,
            synonyms: [],
            configType: configType(def.type),
            documentation: req.includeDocumentation ? def.doc : null,
          };
        });
      } else {
        return {
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `resource type ${r.resourceType} is not supported (2 = topic, 4 = broker)`,
          configs: [],
        };
      }
      if (keys) configs = configs.filter((c) => keys.has(c.name));
      return { ...base, errorCode: 0, errorMessage: null, configs };
    } catch (err) {
      const a = errorAnswer(err);
      return { ...base, errorCode: a.errorCode, errorMessage: a.errorMessage, configs: [] };
    }
  });
  return { results };
}

function alterTopic(
  node: NodeParts,
  resourceType: number,
  name: string,
  apply: () => void,
): { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string } {
  const base = { resourceType, resourceName: name };
  if (resourceType !== RESOURCE_TOPIC) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage:
        resourceType === RESOURCE_BROKER
          ? 'broker configs are static: set them with --set or --config and restart the broker'
          : `resource type ${resourceType} is not supported (2 = topic)`,
    };
  }
  try {
    if (!node.logs.topic(name))
      throw new LogError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
    apply();
    return { ...base, errorCode: 0, errorMessage: null };
  } catch (err) {
    const a = errorAnswer(err);
    return { ...base, errorCode: a.errorCode, errorMessage: a.errorMessage };
  }
}

export function handleAlterConfigs(
  node: NodeParts,
  _ctx: CallContext,
  req: AlterConfigsRequestData,
): InferInput<typeof AlterConfigsResponse> | Promise<InferInput<typeof AlterConfigsResponse>> {
  const repl = node.replicas.replication;
  if (repl !== null) {
    return clusterAlterConfigs(node, req.resources, false, req.validateOnly, repl.view).then((responses) => ({
      responses,
    }));
  }
  return {
    responses: req.resources.map((r) =>
      alterTopic(node, r.resourceType, r.resourceName, () => {
        const changes: Record<string, string | null> = {};
        for (const c of r.configs) changes[c.name] = c.value;
        node.logs.alterTopicConfig(r.resourceName, changes, {
          incremental: false,
          validateOnly: req.validateOnly,
        });
      }),
    ),
  };
}

/** IncrementalAlterConfigs operations: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (list configs). */
export function handleIncrementalAlterConfigs(
  node: NodeParts,
  _ctx: CallContext,
  req: IncrementalAlterConfigsRequestData,
):
  | InferInput<typeof IncrementalAlterConfigsResponse>
  | Promise<InferInput<typeof IncrementalAlterConfigsResponse>> {
  const repl = node.replicas.replication;
  if (repl !== null) {
    return clusterAlterConfigs(node, req.resources, true, req.validateOnly, repl.view).then((responses) => ({
      responses,
    }));
  }
  return {
    responses: req.resources.map((r) =>
      alterTopic(node, r.resourceType, r.resourceName, () => {
        const info = node.logs.topic(r.resourceName)!;
        const changes: Record<string, string | null> = {};
        for (const c of r.configs) {
          const current = (changes[c.name] ?? info.overrides[c.name] ?? '')
            .split(',')
            .filter((s) => s !== '');
          switch (c.configOperation) {
            case 0:
              changes[c.name] = c.value;
              break;
            case 1:
              changes[c.name] = null;
              break;
            case 2:
              changes[c.name] = [...current, ...(c.value ?? '').split(',')].join(',');
              break;
            case 3: {
              const drop = new Set((c.value ?? '').split(','));
              changes[c.name] = current.filter((v) => !drop.has(v)).join(',');
              break;
            }
            default:
              throw Object.assign(new Error(`unknown config operation ${c.configOperation} for ${c.name}`), {
                code: 'INVALID_REQUEST',
              });
          }
        }
        node.logs.alterTopicConfig(r.resourceName, changes, {
          incremental: true,
          validateOnly: req.validateOnly,
        });
      }),
    ),
  };
}
