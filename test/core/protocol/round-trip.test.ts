import { describe, expect, it } from 'vitest';
import { apis } from '../../../core/protocol/messages/index.js';
import {
  decodeMessage,
  encodeMessage,
  type Input,
  type MessageSchema,
} from '../../../core/protocol/schema.js';
import { sample, type Variant, versionsOf } from './sample-data.js';

const cases: [string, MessageSchema, number, Variant][] = [];
for (const api of Object.values(apis)) {
  for (const schema of [api.request, api.response] as MessageSchema[]) {
    // Every version the schema declares, which includes every version we support.
    for (const version of versionsOf(schema.validVersions)) {
      for (const variant of ['full', 'sparse'] as const) {
        cases.push([`${schema.api} ${schema.type} v${version} ${variant}`, schema, version, variant]);
      }
    }
  }
}

describe('every message at every version round-trips', () => {
  it.each(cases)('%s', (_name, schema, version, variant) => {
    const data = sample(schema, version, variant) as Input<typeof schema.fields>;
    const bytes = encodeMessage(schema, version, data).toBuffer();
    const decoded = decodeMessage(schema, version, bytes);
    expect(decoded).toEqual(data);
    // And the bytes are canonical: re-encoding the decoded data gives them back.
    expect(encodeMessage(schema, version, decoded).toBuffer().equals(bytes)).toBe(true);
  });
});
