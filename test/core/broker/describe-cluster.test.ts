/**
 * DescribeCluster and Metadata report one cluster id: a forming cluster whose metadata has no id
 * yet answers DescribeCluster with a retriable error and Metadata with a null id (nullable from
 * v2) rather than the node's own data-directory id, which would change under a client's feet.
 */
import { describe, expect, it } from 'vitest';
import { handleDescribeCluster } from '../../../core/broker/handlers/cluster.js';
import type { NodeParts } from '../../../core/broker/handlers/context.js';
import { ErrorCode } from '../../../core/protocol/errors.js';

function node(clusterId: string | null): NodeParts {
  const self = { nodeId: 1, host: '127.0.0.1', port: 9092, rack: null };
  return {
    clusterId: () => clusterId,
    controllerId: () => 1,
    brokers: () => [self],
    endpoint: () => self,
  } as unknown as NodeParts;
}

describe('DescribeCluster', () => {
  it("answers the cluster's id when known", () => {
    const res = handleDescribeCluster(node('abc'));
    expect(res).toMatchObject({ errorCode: 0, clusterId: 'abc', controllerId: 1 });
    expect(res.brokers).toHaveLength(1);
  });

  it('answers LEADER_NOT_AVAILABLE (retriable) while a forming cluster has no id', () => {
    const res = handleDescribeCluster(node(null));
    expect(res.errorCode).toBe(ErrorCode.LEADER_NOT_AVAILABLE);
    expect(res.errorMessage).toMatch(/no id yet/);
  });
});
