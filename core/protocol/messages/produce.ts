/**
 * Produce (API key 0), written from Kafka's ProduceRequest.json and ProduceResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const ProduceRequest = request({
  apiKey: 0,
  api: 'Produce',
  validVersions: '0-11',
  flexibleVersions: '9+',
  fields: {
    transactionalId: t.string('3+', { nullableVersions: '3+', default: null }),
    acks: t.int16('0+'),
    timeoutMs: t.int32('0+'),
    // TopicProduceData
    topicData: t.array('0+', {
      name: t.string('0+'),
      // PartitionProduceData
      partitionData: t.array('0+', {
        index: t.int32('0+'),
        records: t.records('0+', { nullableVersions: '0+' }),
      }),
    }),
  },
});
export type ProduceRequestData = Infer<typeof ProduceRequest>;
export type ProduceRequestInput = InferInput<typeof ProduceRequest>;

export const ProduceResponse = response({
  apiKey: 0,
  api: 'Produce',
  validVersions: '0-11',
  flexibleVersions: '9+',
  fields: {
    // TopicProduceResponse
    responses: t.array('0+', {
      name: t.string('0+'),
      // PartitionProduceResponse
      partitionResponses: t.array('0+', {
        index: t.int32('0+'),
        errorCode: t.int16('0+'),
        baseOffset: t.int64('0+'),
        logAppendTimeMs: t.int64('2+', { default: -1 }),
        logStartOffset: t.int64('5+', { default: -1 }),
        // BatchIndexAndErrorMessage
        recordErrors: t.array('8+', {
          batchIndex: t.int32('8+'),
          batchIndexErrorMessage: t.string('8+', { nullableVersions: '8+', default: null }),
        }),
        errorMessage: t.string('8+', { nullableVersions: '8+', default: null }),
        // LeaderIdAndEpoch
        currentLeader: t.struct(
          '10+',
          {
            leaderId: t.int32('10+', { default: -1 }),
            leaderEpoch: t.int32('10+', { default: -1 }),
          },
          { taggedVersions: '10+', tag: 0 },
        ),
      }),
    }),
    throttleTimeMs: t.int32('1+', { default: 0 }),
    // NodeEndpoint
    nodeEndpoints: t.array(
      '10+',
      {
        nodeId: t.int32('10+'),
        host: t.string('10+'),
        port: t.int32('10+'),
        rack: t.string('10+', { nullableVersions: '10+', default: null }),
      },
      { taggedVersions: '10+', tag: 0 },
    ),
  },
});
export type ProduceResponseData = Infer<typeof ProduceResponse>;
export type ProduceResponseInput = InferInput<typeof ProduceResponse>;
