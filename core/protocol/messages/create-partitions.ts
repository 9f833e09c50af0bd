/**
 * CreatePartitions (API key 37), written from Kafka's CreatePartitionsRequest.json and CreatePartitionsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const CreatePartitionsRequest = request({
  apiKey: 37,
  api: 'CreatePartitions',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: {
    // CreatePartitionsTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      count: t.int32('0+'),
      // CreatePartitionsAssignment
      assignments: t.array(
        '0+',
        {
          brokerIds: t.array('0+', 'int32'),
        },
        { nullableVersions: '0+' },
      ),
    }),
    timeoutMs: t.int32('0+'),
    validateOnly: t.bool('0+'),
  },
});
export type CreatePartitionsRequestData = Infer<typeof CreatePartitionsRequest>;
export type CreatePartitionsRequestInput = InferInput<typeof CreatePartitionsRequest>;

export const CreatePartitionsResponse = response({
  apiKey: 37,
  api: 'CreatePartitions',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    // CreatePartitionsTopicResult
    results: t.array('0+', {
      name: t.string('0+'),
      errorCode: t.int16('0+'),
      errorMessage: t.string('0+', { nullableVersions: '0+', default: null }),
    }),
  },
});
export type CreatePartitionsResponseData = Infer<typeof CreatePartitionsResponse>;
export type CreatePartitionsResponseInput = InferInput<typeof CreatePartitionsResponse>;
