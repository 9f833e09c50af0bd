/**
 * FindCoordinator (API key 10), written from Kafka's FindCoordinatorRequest.json and FindCoordinatorResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const FindCoordinatorRequest = request({
  apiKey: 10,
  api: 'FindCoordinator',
  validVersions: '0-6',
  flexibleVersions: '3+',
  fields: {
    key: t.string('0-3'),
    keyType: t.int8('1+', { default: 0 }),
    coordinatorKeys: t.array('4+', 'string'),
  },
});
export type FindCoordinatorRequestData = Infer<typeof FindCoordinatorRequest>;
export type FindCoordinatorRequestInput = InferInput<typeof FindCoordinatorRequest>;

export const FindCoordinatorResponse = response({
  apiKey: 10,
  api: 'FindCoordinator',
  validVersions: '0-6',
  flexibleVersions: '3+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    errorCode: t.int16('0-3'),
    errorMessage: t.string('1-3', { nullableVersions: '1-3' }),
    nodeId: t.int32('0-3'),
    host: t.string('0-3'),
    port: t.int32('0-3'),
    // Coordinator
    coordinators: t.array('4+', {
      key: t.string('4+'),
      nodeId: t.int32('4+'),
      host: t.string('4+'),
      port: t.int32('4+'),
      errorCode: t.int16('4+'),
      errorMessage: t.string('4+', { nullableVersions: '4+' }),
    }),
  },
});
export type FindCoordinatorResponseData = Infer<typeof FindCoordinatorResponse>;
export type FindCoordinatorResponseInput = InferInput<typeof FindCoordinatorResponse>;
