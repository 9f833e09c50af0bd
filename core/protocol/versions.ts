/**
 * Version negotiation in one place: a client uses min(our max, the broker's max) of each API,
 * provided that is within both ranges.
 */
import { apiName } from './api-keys.js';
import { ProtocolError } from './errors.js';
import { getApi } from './messages/index.js';

export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/**
 * The version to use for `apiKey` with a broker that supports `brokerMin`..`brokerMax`.
 * Throws ProtocolError UNSUPPORTED_VERSION when the ranges do not overlap, UNKNOWN_API_KEY
 * for an API we have no schema for.
 */
export function pickVersion(apiKey: number, brokerMin: number, brokerMax: number): number {
  const api = getApi(apiKey);
  if (!api)
    throw new ProtocolError('UNKNOWN_API_KEY', `no schema for API key ${apiKey} (${apiName(apiKey)})`);
  const version = Math.min(api.maxVersion, brokerMax);
  if (version < api.minVersion || version < brokerMin) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `${api.name}: the broker supports v${brokerMin}-${brokerMax}, we support v${api.minVersion}-${api.maxVersion}; ` +
        'no version in common (upgrade the older side)',
    );
  }
  return version;
}

/**
 * The version of every API both sides know, from a broker's ApiVersions `apiKeys` list.
 * APIs without a common version are left out (using them fails in pickVersion's words).
 */
export function negotiateVersions(brokerApis: readonly ApiVersionRange[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of brokerApis) {
    const api = getApi(b.apiKey);
    if (!api) continue;
    const version = Math.min(api.maxVersion, b.maxVersion);
    if (version >= api.minVersion && version >= b.minVersion) out.set(b.apiKey, version);
  }
  return out;
}
