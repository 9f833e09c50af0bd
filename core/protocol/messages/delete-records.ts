/**
 * DeleteRecords (API key 21), written from Kafka's DeleteRecordsRequest.json and DeleteRecordsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DeleteRecordsRequest = request({
  apiKey: 21,
  api: 'DeleteRecords',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    // DeleteRecordsTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      // DeleteRecordsPartition
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        offset: t.int64('0+'),
      }),
    }),
    timeoutMs: t.int32('0+'),
  },
});
export type DeleteRecordsRequestData = Infer<typeof DeleteRecordsRequest>;
export type DeleteRecordsRequestInput = InferInput<typeof DeleteRecordsRequest>;

export const DeleteRecordsResponse = response({
  apiKey: 21,
  api: 'DeleteRecords',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    // DeleteRecordsTopicResult
    topics: t.array('0+', {
      name: t.string('0+'),
      // DeleteRecordsPartitionResult
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        lowWatermark: t.int64('0+'),
        errorCode: t.int16('0+'),
      }),
    }),
  },
});
export type DeleteRecordsResponseData = Infer<typeof DeleteRecordsResponse>;
export type DeleteRecordsResponseInput = InferInput<typeof DeleteRecordsResponse>;
