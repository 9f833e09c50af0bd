/**
 * The admin APIs on a broker of a multi-node cluster: DeleteTopics, CreatePartitions,
 * AlterConfigs / IncrementalAlterConfigs (topics), DescribeConfigs (topics, from the metadata),
 * ElectLeaders and the partition reassignments go to the controller through the cluster view
 * (ClusterView.admin) and answer once the change is committed and this broker's view shows it.
 * Every broker then applies the committed change to its local logs (cluster-log-sync.ts).
 *
 * Requests are checked here first where the broker can say more than the controller (topic
 * names, config values against the log's own parser); the controller's refusals keep their
 * Kafka error names and messages.
 */
import { isLogConfigKey, LOG_CONFIG_DOCS, type LogConfig, parseLogConfig } from '../../log/log-config.js';
import { TOPIC_CONFIG_SYNONYMS } from '../../log/log-manager.js';
import { ErrorCode, type KafkaErrorName } from '../../protocol/errors.js';
import { ZERO_UUID } from '../../protocol/reader.js';
import type { AdminItemResult, ClusterAdmin, ClusterView, TopicPartitionRef } from '../cluster-view.js';
import { errorAnswer } from '../kafka-errors.js';
import type { CallContext, NodeParts, Req, Res } from './context.js';

const NO_ADMIN = 'this cluster broker has no controller connection for admin requests';

/** Kafka's numeric code for a controller error name (NOT_CONTROLLER, ELECTION_NOT_NEEDED, …). */
export function kafkaCode(name: string | null): number {
  if (name === null) return 0;
  if (name === 'TOO_MANY_REQUESTS') return ErrorCode.THROTTLING_QUOTA_EXCEEDED;
  return (ErrorCode as Record<string, number>)[name] ?? ErrorCode.UNKNOWN_SERVER_ERROR;
}

function answer(r: AdminItemResult): { errorCode: number; errorMessage: string | null } {
  return { errorCode: kafkaCode(r.error), errorMessage: r.error === null ? null : r.message };
}

type Failure = { errorCode: number; errorMessage: string };

function failure(errorCode: number, errorMessage: string): Failure {
  return { errorCode, errorMessage };
}

/**
 * Runs an admin call through the controller: the results, or the failure of the whole call (no
 * controller connection, NOT_CONTROLLER after retries, a timeout) that then answers every item.
 */
async function callAdmin<T>(
  view: ClusterView,
  run: (admin: ClusterAdmin) => Promise<T>,
): Promise<{ ok: T } | Failure> {
  if (!view.admin) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: NO_ADMIN };
  try {
    return { ok: await run(view.admin) };
  } catch (err) {
    const a = errorAnswer(err);
    return { errorCode: a.errorCode, errorMessage: a.errorMessage ?? 'the controller did not answer' };
  }
}

/** The answer for item i: its own result, or the call's failure. */
function itemAnswer<R extends AdminItemResult>(
  outcome: { ok: R[] } | Failure,
  i: number,
): { errorCode: number; errorMessage: string | null } {
  if (!('ok' in outcome)) return { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
  const r = outcome.ok[i];
  return r
    ? answer(r)
    : { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'no answer for this item' };
}

// --- topics ------------------------------------------------------------------------------------

type DeleteRow = NonNullable<Res<'DeleteTopics'>['responses']>[number];

/**
 * The checks of a DeleteTopics request that need no controller, shared by a single node and a
 * cluster: deletion disabled (every row), a name and an id together, neither, a topic named twice
 * — by name, by id, or by its name and its id — (refused for every occurrence, none deleted), an
 * unknown name. Returns the rows answered already and the deletions to carry out, by name or by
 * id. (Kafka answers a duplicate once; here every occurrence gets its row.)
 */
export function planTopicDeletions(
  node: NodeParts,
  ctx: CallContext,
  req: Req<'DeleteTopics'>,
  topics: readonly { name: string; topicId: string }[],
): {
  rows: DeleteRow[];
  send: { index: number; item: string | { topicId: string } }[];
  row: (i: number, errorCode: number, errorMessage: string | null) => DeleteRow;
} {
  const nameOf = new Map(topics.map((t) => [t.topicId, t.name]));
  const idOf = new Map(topics.map((t) => [t.name, t.topicId]));
  // v6 names a topic by name or by id; before, by name
  const wanted: { name: string | null; topicId: string | null }[] =
    ctx.apiVersion >= 6
      ? req.topics.map((t) => ({ name: t.name ?? null, topicId: t.topicId === ZERO_UUID ? null : t.topicId }))
      : req.topicNames.map((name) => ({ name, topicId: null }));
  const rows: DeleteRow[] = new Array(wanted.length);
  const row = (i: number, errorCode: number, errorMessage: string | null): DeleteRow => {
    const { name, topicId } = wanted[i]!;
    return {
      name: name ?? (topicId === null ? null : (nameOf.get(topicId) ?? null)),
      topicId: topicId ?? (name === null ? undefined : idOf.get(name)) ?? ZERO_UUID,
      errorCode,
      errorMessage,
    };
  };
  const send: { index: number; item: string | { topicId: string } }[] = [];
  if (node.config['delete.topic.enable'] !== true) {
    // checked first, for every row (Kafka's order); TOPIC_DELETION_DISABLED exists from v3, older
    // clients get INVALID_REQUEST (as Kafka answers)
    for (let i = 0; i < wanted.length; i++) {
      rows[i] = row(
        i,
        ctx.apiVersion >= 3 ? ErrorCode.TOPIC_DELETION_DISABLED : ErrorCode.INVALID_REQUEST,
        'topic deletion is disabled (delete.topic.enable=false)',
      );
    }
    return { rows, send, row };
  }
  // A topic named twice — by the same name, the same id, or by its name and its id — is refused
  // for every occurrence, and not deleted.
  const target = (w: { name: string | null; topicId: string | null }): string | null =>
    w.topicId !== null
      ? `i:${w.topicId}`
      : w.name !== null
        ? idOf.has(w.name)
          ? `i:${idOf.get(w.name)}`
          : `n:${w.name}`
        : null;
  const count = new Map<string, number>();
  const names = new Map<string, number>();
  const idsGiven = new Map<string, number>();
  for (const w of wanted) {
    if (w.name !== null && w.topicId !== null) continue;
    const t = target(w);
    if (t !== null) count.set(t, (count.get(t) ?? 0) + 1);
    if (w.name !== null) names.set(w.name, (names.get(w.name) ?? 0) + 1);
    else if (w.topicId !== null) idsGiven.set(w.topicId, (idsGiven.get(w.topicId) ?? 0) + 1);
  }
  wanted.forEach((w, index) => {
    const { name, topicId } = w;
    if (name !== null && topicId !== null) {
      rows[index] = row(
        index,
        ErrorCode.INVALID_REQUEST,
        'give either the topic name or the topic id, not both',
      );
    } else if (name === null && topicId === null) {
      rows[index] = row(index, ErrorCode.INVALID_REQUEST, 'neither a topic name nor a topic id was given');
    } else if (count.get(target(w)!)! > 1) {
      const message =
        name !== null && names.get(name)! > 1
          ? 'Duplicate topic name.'
          : topicId !== null && idsGiven.get(topicId)! > 1
            ? 'Duplicate topic id.'
            : 'The provided topic name maps to an ID that was already supplied.';
      rows[index] = row(index, ErrorCode.INVALID_REQUEST, message);
    } else if (name !== null && !idOf.has(name)) {
      rows[index] = row(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    } else {
      // an id goes to the controller as an id: it deletes that topic, never a later one of the same name
      send.push({ index, item: name !== null ? name : { topicId: topicId! } });
    }
  });
  return { rows, send, row };
}

export async function clusterDeleteTopics(
  node: NodeParts,
  ctx: CallContext,
  req: Req<'DeleteTopics'>,
  view: ClusterView,
): Promise<Res<'DeleteTopics'>> {
  const { rows, send, row } = planTopicDeletions(node, ctx, req, [...view.topics()]);
  if (send.length > 0) {
    const outcome = await callAdmin(view, (admin) =>
      admin.deleteTopics(
        send.map((s) => s.item),
        { timeoutMs: req.timeoutMs },
      ),
    );
    send.forEach(({ index }, i) => {
      const r = 'ok' in outcome ? outcome.ok[i] : undefined;
      const base = row(index, 0, null);
      rows[index] = {
        ...base,
        name: r?.topic ?? base.name,
        ...itemAnswer(outcome, i),
      };
    });
  }
  return { responses: rows };
}

export async function clusterCreatePartitions(
  _node: NodeParts,
  req: Req<'CreatePartitions'>,
  view: ClusterView,
): Promise<Res<'CreatePartitions'>> {
  const partitions = new Map<string, number>();
  for (const p of view.partitions())
    partitions.set(p.topic, Math.max(partitions.get(p.topic) ?? 0, p.partition + 1));
  type Row = NonNullable<Res<'CreatePartitions'>['results']>[number];
  const rows: Row[] = new Array(req.topics.length);
  const send: { index: number; topic: string; count: number; assignments: number[][] | null }[] = [];
  const seen = new Set<string>();
  const problem = (t: Req<'CreatePartitions'>['topics'][number]): Failure | null => {
    const have = partitions.get(t.name);
    if (seen.has(t.name)) return failure(ErrorCode.INVALID_REQUEST, `topic ${t.name} appears more than once`);
    seen.add(t.name);
    if (have === undefined)
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${t.name} does not exist`);
    if (!Number.isSafeInteger(t.count) || t.count <= have) {
      return failure(
        ErrorCode.INVALID_PARTITIONS,
        `topic ${t.name} has ${have} partitions; the new count must be larger, got ${t.count}`,
      );
    }
    if (t.assignments !== null && t.assignments.length !== t.count - have) {
      return failure(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `topic ${t.name}: ${t.assignments.length} assignments given for ${t.count - have} new partitions`,
      );
    }
    return null;
  };
  for (const [index, t] of req.topics.entries()) {
    const bad = problem(t);
    if (bad) {
      rows[index] = { name: t.name, ...bad };
      continue;
    }
    const assignments = t.assignments === null ? null : t.assignments.map((a) => [...a.brokerIds]);
    send.push({ index, topic: t.name, count: t.count, assignments });
  }
  if (send.length > 0) {
    const outcome = await callAdmin(view, (admin) =>
      admin.createPartitions(send, req.validateOnly, { timeoutMs: req.timeoutMs }),
    );
    send.forEach((s, i) => {
      rows[s.index] = { name: s.topic, ...itemAnswer(outcome, i) };
    });
  }
  return { results: rows };
}

// --- configs -----------------------------------------------------------------------------------

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;

type AlterRow = {
  resourceType: number;
  resourceName: string;
  errorCode: number;
  errorMessage: string | null;
};

/**
 * AlterConfigs (incremental false: the given keys replace every override) and
 * IncrementalAlterConfigs (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT) on topics, through the
 * controller. Broker configs stay static, as on a single node.
 */
export async function clusterAlterConfigs(
  node: NodeParts,
  resources: readonly {
    resourceType: number;
    resourceName: string;
    configs: readonly { name: string; value: string | null; configOperation?: number }[];
  }[],
  incremental: boolean,
  validateOnly: boolean,
  view: ClusterView,
): Promise<AlterRow[]> {
  const overrides = new Map<string, Record<string, string>>();
  for (const t of view.topics()) overrides.set(t.name, t.configs);
  const rows: AlterRow[] = new Array(resources.length);
  const send: { index: number; topic: string; configs: Record<string, string | null> }[] = [];
  const seen = new Set<string>();
  for (const [index, r] of resources.entries()) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    const current = overrides.get(r.resourceName);
    let bad: Failure | null = null;
    if (r.resourceType !== RESOURCE_TOPIC) {
      bad = failure(
        ErrorCode.INVALID_REQUEST,
        r.resourceType === RESOURCE_BROKER
          ? 'broker configs are static: set them with --set or --config and restart the broker'
          : `resource type ${r.resourceType} is not supported (2 = topic)`,
      );
    } else if (!current) {
      bad = failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${r.resourceName} does not exist`);
    } else if (seen.has(r.resourceName)) {
      bad = failure(ErrorCode.INVALID_REQUEST, `topic ${r.resourceName} appears more than once`);
    }
    if (bad || !current) {
      rows[index] = { ...base, ...(bad ?? failure(ErrorCode.INVALID_REQUEST, 'invalid resource')) };
      continue;
    }
    seen.add(r.resourceName);
    try {
      const changes = incremental
        ? incrementalChanges(current, r.configs)
        : replaceChanges(current, r.configs);
      const next: Record<string, string> = { ...current };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete next[k];
        else next[k] = v;
      }
      // the log's parser names the bad key or value (the controller checks less)
      parseLogConfig(
        Object.fromEntries(Object.entries(next).filter(([k]) => isLogConfigKey(k) || k in changes)),
        node.logs.defaultTopicConfig,
      );
      send.push({ index, topic: r.resourceName, configs: changes });
    } catch (err) {
      const a = errorAnswer(err);
      rows[index] = { ...base, errorCode: a.errorCode, errorMessage: a.errorMessage ?? 'invalid config' };
    }
  }
  if (send.length > 0) {
    const outcome = await callAdmin(view, (admin) => admin.alterTopicConfigs(send, validateOnly));
    send.forEach((s, i) => {
      rows[s.index] = { resourceType: RESOURCE_TOPIC, resourceName: s.topic, ...itemAnswer(outcome, i) };
    });
  }
  return rows;
}

function replaceChanges(
  current: Record<string, string>,
  configs: readonly { name: string; value: string | null }[],
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const k of Object.keys(current)) changes[k] = null;
  for (const c of configs) if (c.value !== null) changes[c.name] = c.value;
  return changes;
}

function incrementalChanges(
  current: Record<string, string>,
  configs: readonly { name: string; value: string | null; configOperation?: number }[],
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const c of configs) {
    const list = (Object.hasOwn(changes, c.name) ? (changes[c.name] ?? '') : (current[c.name] ?? ''))
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
        changes[c.name] = [...list, ...(c.value ?? '').split(',').filter((s) => s !== '')].join(',');
        break;
      case 3: {
        const drop = new Set((c.value ?? '').split(','));
        changes[c.name] = list.filter((v) => !drop.has(v)).join(',');
        break;
      }
      default:
        throw Object.assign(new Error(`unknown config operation ${c.configOperation} for ${c.name}`), {
          code: 'INVALID_REQUEST' satisfies KafkaErrorName,
        });
    }
  }
  return changes;
}

/** Kafka's ConfigSource values. */
const SOURCE = { topic: 1, staticBroker: 4, default: 5 } as const;

export interface DescribedTopicConfig {
  name: string;
  value: string;
  source: 'TOPIC_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DEFAULT_CONFIG';
  brokerSynonym: string;
}

/**
 * A topic's configs as the metadata has them: its overrides over this broker's topic defaults
 * (DescribeConfigs in a cluster). Undefined when the cluster has no such topic.
 */
export function clusterTopicConfigs(
  node: NodeParts,
  view: ClusterView,
  topic: string,
): { config: LogConfig; entries: DescribedTopicConfig[] } | undefined {
  let overrides: Record<string, string> | undefined;
  for (const t of view.topics()) if (t.name === topic) overrides = t.configs;
  if (!overrides) return undefined;
  const known = Object.fromEntries(Object.entries(overrides).filter(([k]) => isLogConfigKey(k)));
  const defaults = node.logs.defaultTopicConfig;
  let config: LogConfig;
  try {
    config = parseLogConfig(known, defaults);
  } catch {
    config = defaults; // a value the controller took but the log cannot read: report the defaults
  }
  const builtIn = parseLogConfig({});
  const entries = (Object.keys(LOG_CONFIG_DOCS) as (keyof LogConfig)[]).map((key) => ({
    name: key,
    value: String(config[key]),
    source: Object.hasOwn(known, key)
      ? ('TOPIC_CONFIG' as const)
      : defaults[key] !== builtIn[key]
        ? ('STATIC_BROKER_CONFIG' as const)
        : ('DEFAULT_CONFIG' as const),
    brokerSynonym: TOPIC_CONFIG_SYNONYMS[key][0] ?? '',
  }));
  return { config, entries };
}

export const CONFIG_SOURCE_CODE = {
  TOPIC_CONFIG: SOURCE.topic,
  STATIC_BROKER_CONFIG: SOURCE.staticBroker,
  DEFAULT_CONFIG: SOURCE.default,
} as const;

// --- leaders and reassignments -----------------------------------------------------------------

export async function clusterElectLeaders(
  req: Req<'ElectLeaders'>,
  view: ClusterView,
): Promise<Res<'ElectLeaders'>> {
  const type = req.electionType === 1 ? 'unclean' : 'preferred';
  if (req.electionType !== 0 && req.electionType !== 1) {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      replicaElectionResults: [],
    };
  }
  const refs: TopicPartitionRef[] | null =
    req.topicPartitions === null
      ? null
      : req.topicPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  const outcome = await callAdmin(view, (admin) =>
    admin.electLeaders(type, refs, { timeoutMs: req.timeoutMs }),
  );
  if (!('ok' in outcome)) {
    if (refs === null) return { errorCode: outcome.errorCode, replicaElectionResults: [] };
  }
  const results: (TopicPartitionRef & { errorCode: number; errorMessage: string | null })[] =
    'ok' in outcome
      ? outcome.ok
          // Kafka: asked for every partition, it reports only those where an election ran or failed.
          .filter((r) => refs !== null || r.error !== 'ELECTION_NOT_NEEDED')
          .map((r) => ({ topic: r.topic, partition: r.partition, ...answer(r) }))
      : (refs ?? []).map((r) => ({ ...r, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage }));
  const byTopic = new Map<
    string,
    { partitionId: number; errorCode: number; errorMessage: string | null }[]
  >();
  for (const r of results) {
    const row = { partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage };
    const list = byTopic.get(r.topic);
    if (list) list.push(row);
    else byTopic.set(r.topic, [row]);
  }
  return {
    errorCode: 0,
    replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({ topic, partitionResult })),
  };
}

export async function clusterAlterReassignments(
  req: Req<'AlterPartitionReassignments'>,
  view: ClusterView,
): Promise<Res<'AlterPartitionReassignments'>> {
  const items = req.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionIndex,
      replicas: p.replicas === null ? null : [...p.replicas],
    })),
  );
  if (!view.admin) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: NO_ADMIN, responses: [] };
  let results: (AdminItemResult & TopicPartitionRef)[];
  try {
    results = await view.admin.alterPartitionReassignments(items, { timeoutMs: req.timeoutMs });
  } catch (err) {
    const a = errorAnswer(err);
    return { errorCode: a.errorCode, errorMessage: a.errorMessage, responses: [] };
  }
  const byTopic = new Map<
    string,
    { partitionIndex: number; errorCode: number; errorMessage: string | null }[]
  >();
  for (const r of results) {
    const row = { partitionIndex: r.partition, ...answer(r) };
    const list = byTopic.get(r.topic);
    if (list) list.push(row);
    else byTopic.set(r.topic, [row]);
  }
  return {
    errorCode: 0,
    errorMessage: null,
    responses: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  };
}

export async function clusterListReassignments(
  req: Req<'ListPartitionReassignments'>,
  view: ClusterView,
): Promise<Res<'ListPartitionReassignments'>> {
  if (!view.admin) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: NO_ADMIN, topics: [] };
  const refs =
    req.topics === null
      ? null
      : req.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
  try {
    const ongoing = await view.admin.listPartitionReassignments(refs, { timeoutMs: req.timeoutMs });
    const byTopic = new Map<
      string,
      { partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[]
    >();
    for (const o of ongoing) {
      const row = {
        partitionIndex: o.partition,
        replicas: o.replicas,
        addingReplicas: o.addingReplicas,
        removingReplicas: o.removingReplicas,
      };
      const list = byTopic.get(o.topic);
      if (list) list.push(row);
      else byTopic.set(o.topic, [row]);
    }
    return {
      errorCode: 0,
      errorMessage: null,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    };
  } catch (err) {
    const a = errorAnswer(err);
    return { errorCode: a.errorCode, errorMessage: a.errorMessage, topics: [] };
  }
}
