/**
 * AlterPartitionReassignments (API key 45), written from Kafka's AlterPartitionReassignmentsRequest.json and AlterPartitionReassignmentsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const AlterPartitionReassignmentsRequest = request({
  apiKey: 45,
  api: 'AlterPartitionReassignments',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: {
    timeoutMs: t.int32('0+', { default: 60000 }),
    // ReassignableTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      // ReassignablePartition
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        replicas: t.array('0+', 'int32', { nullableVersions: '0+', default: null }),
      }),
    }),
  },
});
export type AlterPartitionReassignmentsRequestData = Infer<typeof AlterPartitionReassignmentsRequest>;
export type AlterPartitionReassignmentsRequestInput = InferInput<typeof AlterPartitionReassignmentsRequest>;

export const AlterPartitionReassignmentsResponse = response({
  apiKey: 45,
  api: 'AlterPartitionReassignments',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    errorCode: t.int16('0+'),
    errorMessage: t.string('0+', { nullableVersions: '0+' }),
    // ReassignableTopicResponse
    responses: t.array('0+', {
      name: t.string('0+'),
      // ReassignablePartitionResponse
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        errorCode: t.int16('0+'),
        errorMessage: t.string('0+', { nullableVersions: '0+' }),
      }),
    }),
  },
});
export type AlterPartitionReassignmentsResponseData = Infer<typeof AlterPartitionReassignmentsResponse>;
export type AlterPartitionReassignmentsResponseInput = InferInput<typeof AlterPartitionReassignmentsResponse>;
