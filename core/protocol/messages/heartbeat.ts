/**
 * Heartbeat (API key 12), written from Kafka's HeartbeatRequest.json and HeartbeatResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const HeartbeatRequest = request({
  apiKey: 12,
  api: 'Heartbeat',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: {
    groupId: t.string('0+'),
    generationId: t.int32('0+'),
    memberId: t.string('0+'),
    groupInstanceId: t.string('3+', { nullableVersions: '3+', default: null }),
  },
});
export type HeartbeatRequestData = Infer<typeof HeartbeatRequest>;
export type HeartbeatRequestInput = InferInput<typeof HeartbeatRequest>;

export const HeartbeatResponse = response({
  apiKey: 12,
  api: 'Heartbeat',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    errorCode: t.int16('0+'),
  },
});
export type HeartbeatResponseData = Infer<typeof HeartbeatResponse>;
export type HeartbeatResponseInput = InferInput<typeof HeartbeatResponse>;
