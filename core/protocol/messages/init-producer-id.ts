/**
 * InitProducerId (API key 22), written from Kafka's InitProducerIdRequest.json and InitProducerIdResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const InitProducerIdRequest = request({
  apiKey: 22,
  api: 'InitProducerId',
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: {
    transactionalId: t.string('0+', { nullableVersions: '0+' }),
    transactionTimeoutMs: t.int32('0+'),
    producerId: t.int64('3+', { default: -1 }),
    producerEpoch: t.int16('3+', { default: -1 }),
  },
});
export type InitProducerIdRequestData = Infer<typeof InitProducerIdRequest>;
export type InitProducerIdRequestInput = InferInput<typeof InitProducerIdRequest>;

export const InitProducerIdResponse = response({
  apiKey: 22,
  api: 'InitProducerId',
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    errorCode: t.int16('0+'),
    producerId: t.int64('0+', { default: -1 }),
    producerEpoch: t.int16('0+'),
  },
});
export type InitProducerIdResponseData = Infer<typeof InitProducerIdResponse>;
export type InitProducerIdResponseInput = InferInput<typeof InitProducerIdResponse>;
