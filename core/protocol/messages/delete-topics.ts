/**
 * DeleteTopics (API key 20), written from Kafka's DeleteTopicsRequest.json and DeleteTopicsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DeleteTopicsRequest = request({
  apiKey: 20,
  api: 'DeleteTopics',
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: {
    // DeleteTopicState
    topics: t.array('6+', {
      name: t.string('6+', { nullableVersions: '6+', default: null }),
      topicId: t.uuid('6+'),
    }),
    topicNames: t.array('0-5', 'string'),
    timeoutMs: t.int32('0+'),
  },
});
export type DeleteTopicsRequestData = Infer<typeof DeleteTopicsRequest>;
export type DeleteTopicsRequestInput = InferInput<typeof DeleteTopicsRequest>;

export const DeleteTopicsResponse = response({
  apiKey: 20,
  api: 'DeleteTopics',
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    // DeletableTopicResult
    responses: t.array('0+', {
      name: t.string('0+', { nullableVersions: '6+' }),
      topicId: t.uuid('6+'),
      errorCode: t.int16('0+'),
      errorMessage: t.string('5+', { nullableVersions: '5+', default: null }),
    }),
  },
});
export type DeleteTopicsResponseData = Infer<typeof DeleteTopicsResponse>;
export type DeleteTopicsResponseInput = InferInput<typeof DeleteTopicsResponse>;
