/**
 * ListPartitionReassignments (API key 46), written from Kafka's ListPartitionReassignmentsRequest.json and ListPartitionReassignmentsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const ListPartitionReassignmentsRequest = request({
  apiKey: 46,
  api: 'ListPartitionReassignments',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: {
    timeoutMs: t.int32('0+', { default: 60000 }),
    // ListPartitionReassignmentsTopics
    topics: t.array(
      '0+',
      {
        name: t.string('0+'),
        partitionIndexes: t.array('0+', 'int32'),
      },
      { nullableVersions: '0+', default: null },
    ),
  },
});
export type ListPartitionReassignmentsRequestData = Infer<typeof ListPartitionReassignmentsRequest>;
export type ListPartitionReassignmentsRequestInput = InferInput<typeof ListPartitionReassignmentsRequest>;

export const ListPartitionReassignmentsResponse = response({
  apiKey: 46,
  api: 'ListPartitionReassignments',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    errorCode: t.int16('0+'),
    errorMessage: t.string('0+', { nullableVersions: '0+' }),
    // OngoingTopicReassignment
    topics: t.array('0+', {
      name: t.string('0+'),
      // OngoingPartitionReassignment
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        replicas: t.array('0+', 'int32'),
        addingReplicas: t.array('0+', 'int32'),
        removingReplicas: t.array('0+', 'int32'),
      }),
    }),
  },
});
export type ListPartitionReassignmentsResponseData = Infer<typeof ListPartitionReassignmentsResponse>;
export type ListPartitionReassignmentsResponseInput = InferInput<typeof ListPartitionReassignmentsResponse>;
