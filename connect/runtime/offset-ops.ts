/**
 * `GET|PATCH|DELETE /connectors/{name}/offsets` (KIP-875): a source connector's offsets are its
 * entries in the offset store; a sink connector's are the committed offsets of its consumer group
 * `connect-<name>`. Changes are allowed only while the connector is STOPPED (checked by the
 * herder).
 */
import type { Admin } from '../../core/client/types.js';
import { ConnectError } from '../errors.js';
import type { OffsetStore } from '../storage/offsets.js';
import { POSITIONS_KEY } from './source-recovery.js';

export interface OffsetOpsTarget {
  name: string;
  type: 'source' | 'sink' | 'unknown';
  admin: Admin;
  offsets: OffsetStore;
}

export interface ConnectorOffsets {
  offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[];
}

const ALTERED = 'The offsets for this connector have been altered successfully';
const RESET = 'The offsets for this connector have been reset successfully';

export async function readOffsets(t: OffsetOpsTarget): Promise<ConnectorOffsets> {
  if (t.type === 'sink') {
    const committed = await t.admin.listGroupOffsets(`connect-${t.name}`).catch(() => []);
    return {
      offsets: committed
        .filter((o) => o.offset >= 0)
        .map((o) => ({
          partition: { kafka_topic: o.topic, kafka_partition: o.partition },
          offset: { kafka_offset: o.offset },
        })),
    };
  }
  await t.offsets.refresh();
  return {
    offsets: t.offsets
      .list(t.name)
      .filter((o) => !(POSITIONS_KEY in o.partition))
      .map((o) => ({ partition: { ...o.partition }, offset: { ...o.offset } })),
  };
}

type OffsetEntry = { partition?: unknown; offset?: unknown };

export async function alterOffsets(t: OffsetOpsTarget, body: unknown): Promise<{ message: string }> {
  const list = (body as { offsets?: unknown } | null)?.offsets;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConnectError('BAD_REQUEST', 'The offsets to be altered may not be null or empty');
  }
  if (t.type === 'sink') {
    const offsets = (list as OffsetEntry[]).map((o) => {
      const p = o.partition as Record<string, unknown> | null | undefined;
      const topic = p?.kafka_topic;
      const partition = p?.kafka_partition;
      if (typeof topic !== 'string' || typeof partition !== 'number') {
        throw new ConnectError(
          'BAD_REQUEST',
          'Sink connector partitions must have the keys kafka_topic (a string) and kafka_partition (an integer)',
        );
      }
      const off = (o.offset as Record<string, unknown> | null | undefined)?.kafka_offset;
      if (o.offset !== null && typeof off !== 'number') {
        throw new ConnectError(
          'BAD_REQUEST',
          'Sink connector offsets must have the key kafka_offset (an integer)',
        );
      }
      return { topic, partition, offset: o.offset === null ? -1 : (off as number) };
    });
    const set = offsets.filter((o) => o.offset >= 0);
    if (set.length > 0) await t.admin.alterGroupOffsets(`connect-${t.name}`, set);
    return { message: ALTERED };
  }
  const entries = (list as OffsetEntry[]).map((o) => {
    if (o.partition === null || typeof o.partition !== 'object') {
      throw new ConnectError('BAD_REQUEST', 'Source partitions may not be null');
    }
    if (o.offset !== null && typeof o.offset !== 'object') {
      throw new ConnectError('BAD_REQUEST', 'Source offsets must be objects or null');
    }
    return {
      partition: o.partition as Record<string, unknown>,
      offset: o.offset as Record<string, unknown> | null,
    };
  });
  await t.offsets.set(t.name, entries);
  return { message: ALTERED };
}

export async function resetOffsets(t: OffsetOpsTarget): Promise<{ message: string }> {
  if (t.type === 'sink') {
    await t.admin.deleteGroups([`connect-${t.name}`]).catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'GROUP_ID_NOT_FOUND') throw err;
    });
  } else {
    await t.offsets.refresh();
    await t.offsets.set(
      t.name,
      t.offsets.list(t.name).map((o) => ({ partition: o.partition, offset: null })),
    );
  }
  return { message: RESET };
}
