/**
 * The coordinator's request/response types are Kafka's JSON messages: decoded protocol requests
 * must be accepted as they are, and the coordinator's responses must be encodable as they are.
 * Checked by the compiler (tsc over test/); the runtime part only keeps vitest happy.
 */
import { describe, expect, it } from 'vitest';
import type * as gc from '../../../core/broker/group-coordinator.js';
import type {
  DeleteGroupsRequestData,
  DeleteGroupsResponse,
} from '../../../core/protocol/messages/delete-groups.js';
import type {
  DescribeGroupsRequestData,
  DescribeGroupsResponse,
} from '../../../core/protocol/messages/describe-groups.js';
import type { HeartbeatRequestData, HeartbeatResponse } from '../../../core/protocol/messages/heartbeat.js';
import type { JoinGroupRequestData, JoinGroupResponse } from '../../../core/protocol/messages/join-group.js';
import type {
  LeaveGroupRequestData,
  LeaveGroupResponse,
} from '../../../core/protocol/messages/leave-group.js';
import type {
  ListGroupsRequestData,
  ListGroupsResponse,
} from '../../../core/protocol/messages/list-groups.js';
import type {
  OffsetCommitRequestData,
  OffsetCommitResponse,
} from '../../../core/protocol/messages/offset-commit.js';
import type {
  OffsetFetchRequestData,
  OffsetFetchResponse,
} from '../../../core/protocol/messages/offset-fetch.js';
import type { SyncGroupRequestData, SyncGroupResponse } from '../../../core/protocol/messages/sync-group.js';
import type { InferInput } from '../../../core/protocol/schema.js';

type Fits<A, B> = [A] extends [B] ? true : false;
const ok = <T extends true>(): T => true as T;

describe('coordinator types and protocol messages', () => {
  it('decoded requests are coordinator inputs; coordinator outputs are encoder inputs', () => {
    const checks = [
      ok<Fits<JoinGroupRequestData, gc.JoinGroupRequest>>(),
      ok<Fits<gc.JoinGroupResponse, InferInput<typeof JoinGroupResponse>>>(),
      ok<Fits<SyncGroupRequestData, gc.SyncGroupRequest>>(),
      ok<Fits<gc.SyncGroupResponse, InferInput<typeof SyncGroupResponse>>>(),
      ok<Fits<HeartbeatRequestData, gc.HeartbeatRequest>>(),
      ok<Fits<gc.HeartbeatResponse, InferInput<typeof HeartbeatResponse>>>(),
      ok<Fits<LeaveGroupRequestData, gc.LeaveGroupRequest>>(),
      ok<Fits<gc.LeaveGroupResponse, InferInput<typeof LeaveGroupResponse>>>(),
      ok<Fits<OffsetCommitRequestData, gc.OffsetCommitRequest>>(),
      ok<Fits<gc.OffsetCommitResponse, InferInput<typeof OffsetCommitResponse>>>(),
      ok<Fits<OffsetFetchRequestData, gc.OffsetFetchRequest>>(),
      ok<Fits<gc.OffsetFetchResponse, InferInput<typeof OffsetFetchResponse>>>(),
      ok<Fits<ListGroupsRequestData, gc.ListGroupsRequest>>(),
      ok<Fits<gc.ListGroupsResponse, InferInput<typeof ListGroupsResponse>>>(),
      ok<Fits<DescribeGroupsRequestData, gc.DescribeGroupsRequest>>(),
      ok<Fits<gc.DescribeGroupsResponse, InferInput<typeof DescribeGroupsResponse>>>(),
      ok<Fits<DeleteGroupsRequestData, gc.DeleteGroupsRequest>>(),
      ok<Fits<gc.DeleteGroupsResponse, InferInput<typeof DeleteGroupsResponse>>>(),
    ];
    expect(checks.every(Boolean)).toBe(true);
  });
});
