/**
 * DescribeProducers (API key 61), written from Kafka's DescribeProducersRequest.json and DescribeProducersResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DescribeProducersRequest = request({
  apiKey: 61,
  api: 'DescribeProducers',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: {
    // TopicRequest
    topics: t.array('0+', {
      name: t.string('0+'),
      partitionIndexes: t.array('0+', 'int32'),
    }),
  },
});
export type DescribeProducersRequestData = Infer<typeof DescribeProducersRequest>;
export type DescribeProducersRequestInput = InferInput<typeof DescribeProducersRequest>;

export const DescribeProducersResponse = response({
  apiKey: 61,
  api: 'DescribeProducers',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    // TopicResponse
    topics: t.array('0+', {
      name: t.string('0+'),
      // PartitionResponse
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        errorCode: t.int16('0+'),
        errorMessage: t.string('0+', { nullableVersions: '0+', default: null }),
        // ProducerState
        activeProducers: t.array('0+', {
          producerId: t.int64('0+'),
          producerEpoch: t.int32('0+'),
          lastSequence: t.int32('0+', { default: -1 }),
          lastTimestamp: t.int64('0+', { default: -1 }),
          coordinatorEpoch: t.int32('0+'),
          currentTxnStartOffset: t.int64('0+', { default: -1 }),
        }),
      }),
    }),
  },
});
export type DescribeProducersResponseData = Infer<typeof DescribeProducersResponse>;
export type DescribeProducersResponseInput = InferInput<typeof DescribeProducersResponse>;
