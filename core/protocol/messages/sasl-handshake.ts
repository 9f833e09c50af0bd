/**
 * SaslHandshake (API key 17), written from Kafka's SaslHandshakeRequest.json and SaslHandshakeResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const SaslHandshakeRequest = request({
  apiKey: 17,
  api: 'SaslHandshake',
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: {
    mechanism: t.string('0+'),
  },
});
export type SaslHandshakeRequestData = Infer<typeof SaslHandshakeRequest>;
export type SaslHandshakeRequestInput = InferInput<typeof SaslHandshakeRequest>;

export const SaslHandshakeResponse = response({
  apiKey: 17,
  api: 'SaslHandshake',
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: {
    errorCode: t.int16('0+'),
    mechanisms: t.array('0+', 'string'),
  },
});
export type SaslHandshakeResponseData = Infer<typeof SaslHandshakeResponse>;
export type SaslHandshakeResponseInput = InferInput<typeof SaslHandshakeResponse>;
