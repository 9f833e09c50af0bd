/**
 * DeleteTopics on a single node answers like a cluster (and like Kafka): a name or id given twice
 * is refused for every occurrence and nothing is deleted; a name and an id together, or neither,
 * is INVALID_REQUEST; an id deletes the topic it names; disabled deletion is
 * TOPIC_DELETION_DISABLED from v3 and INVALID_REQUEST before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../core/broker/broker.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { ErrorCode } from '../../../core/protocol/errors.js';
import { ZERO_UUID } from '../../../core/protocol/reader.js';
import { tempDir } from '../../helpers/tmp.js';

const open: Broker[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

async function broker(config: Record<string, string | number | boolean> = {}): Promise<Broker> {
  const b = await Broker.open({ dataDir: tempDir(), config });
  open.push(b);
  b.logs.createTopic('orders', { partitions: 1 });
  b.logs.createTopic('users', { partitions: 1 });
  return b;
}

async function del(b: Broker, apiVersion: number, body: Record<string, unknown>) {
  const res = (await b.handle(ApiKey.DeleteTopics, { apiVersion, clientId: 'test', clientHost: 'test' }, {
    topics: [],
    topicNames: [],
    timeoutMs: 1000,
    ...body,
  } as never)) as {
    responses: { name: string | null; topicId?: string; errorCode: number; errorMessage: string | null }[];
  };
  return res.responses;
}

describe('DeleteTopics on a single node', () => {
  it('refuses a name given twice for every occurrence and deletes nothing of it', async () => {
    const b = await broker();
    const rows = await del(b, 4, { topicNames: ['orders', 'users', 'orders'] });
    expect(rows.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['orders', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
      ['users', 0, null],
      ['orders', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
    ]);
    expect(b.logs.topic('orders')).toBeDefined();
    expect(b.logs.topic('users')).toBeUndefined();
  });

  it('v6: deletes by id, refuses a name with an id, neither, and an unknown id', async () => {
    const b = await broker();
    const orders = b.logs.topic('orders')!;
    const users = b.logs.topic('users')!;
    const rows = await del(b, 6, {
      topics: [
        { name: 'orders', topicId: orders.topicId },
        { name: null, topicId: ZERO_UUID },
        { name: null, topicId: users.topicId },
        { name: null, topicId: '00000000-0000-0000-0000-000000000042' },
      ],
    });
    expect(rows.map((r) => r.errorCode)).toEqual([
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      0,
      ErrorCode.UNKNOWN_TOPIC_ID,
    ]);
    expect(rows[2]).toMatchObject({ name: 'users', topicId: users.topicId });
    expect(b.logs.topic('orders')).toBeDefined();
    expect(b.logs.topic('users')).toBeUndefined();
  });

  it('refuses a topic given by its name and by its id in one request, deleting nothing', async () => {
    const b = await broker();
    const orders = b.logs.topic('orders')!;
    const rows = await del(b, 6, {
      topics: [
        { name: 'orders', topicId: ZERO_UUID },
        { name: null, topicId: orders.topicId },
      ],
    });
    expect(rows.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.'],
      [ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.'],
    ]);
    expect(b.logs.topic('orders')).toBeDefined();
  });

  it('answers disabled deletion as Kafka does for old and new versions', async () => {
    const b = await broker({ 'delete.topic.enable': false });
    expect((await del(b, 2, { topicNames: ['orders'] }))[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await del(b, 3, { topicNames: ['orders'] }))[0]!.errorCode).toBe(
      ErrorCode.TOPIC_DELETION_DISABLED,
    );
    expect((await del(b, 4, { topicNames: ['nope'] }))[0]!.errorCode).toBe(ErrorCode.TOPIC_DELETION_DISABLED);
    // checked first, for every row: duplicates too
    const dup = await del(b, 4, { topicNames: ['orders', 'orders'] });
    expect(dup.map((r) => r.errorCode)).toEqual([
      ErrorCode.TOPIC_DELETION_DISABLED,
      ErrorCode.TOPIC_DELETION_DISABLED,
    ]);
    expect(b.logs.topic('orders')).toBeDefined();
  });
});
