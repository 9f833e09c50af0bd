import { describe, expect, it } from 'vitest';
import { ApiKey, apiName } from '../../../core/protocol/api-keys.js';
import {
  allErrors,
  ErrorCode,
  errorInfo,
  KafkaProtocolError,
  type ProtocolError,
} from '../../../core/protocol/errors.js';
import { apis } from '../../../core/protocol/messages/index.js';
import { negotiateVersions, pickVersion } from '../../../core/protocol/versions.js';

describe('pickVersion', () => {
  it('is min(our max, the broker max)', () => {
    expect(pickVersion(ApiKey.Fetch, 0, 16)).toBe(12);
    expect(pickVersion(ApiKey.Fetch, 0, 11)).toBe(11);
    expect(pickVersion(ApiKey.Produce, 3, 7)).toBe(7);
    expect(pickVersion(ApiKey.Metadata, 0, 12)).toBe(12);
  });

  it('throws a clear error when the ranges do not overlap', () => {
    expect(() => pickVersion(ApiKey.Fetch, 13, 17)).toThrow(
      'Fetch: the broker supports v13-17, we support v0-12; no version in common (upgrade the older side)',
    );
    try {
      pickVersion(ApiKey.Fetch, 13, 17);
    } catch (e) {
      expect((e as ProtocolError).code).toBe('UNSUPPORTED_VERSION');
    }
    expect(() => pickVersion(ApiKey.ShareFetch, 0, 1)).toThrow(/no schema for API key 78 \(ShareFetch\)/);
  });

  it('negotiates a whole ApiVersions list', () => {
    const m = negotiateVersions([
      { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 11 },
      { apiKey: ApiKey.Fetch, minVersion: 13, maxVersion: 17 },
      { apiKey: ApiKey.ShareFetch, minVersion: 0, maxVersion: 1 },
    ]);
    expect([...m]).toEqual([[ApiKey.Produce, 9]]);
  });
});

describe('API keys and the registry', () => {
  it('names keys as Kafka does', () => {
    expect(apiName(0)).toBe('Produce');
    expect(apiName(18)).toBe('ApiVersions');
    expect(apiName(999)).toBe('Unknown(999)');
  });

  it('registers each schema under its own API key, within its declared versions', () => {
    for (const [key, api] of Object.entries(apis)) {
      expect(api.apiKey).toBe(Number(key));
      expect(api.request.apiKey).toBe(api.apiKey);
      expect(api.response.apiKey).toBe(api.apiKey);
      expect(api.request.validVersions).toBe(api.response.validVersions);
      expect(api.request.flexibleVersions).toBe(api.response.flexibleVersions);
      expect(apiName(api.apiKey)).toBe(api.name);
    }
  });
});

describe('Kafka error codes', () => {
  it('cover every code from -1 to 128 except the unassigned 99', () => {
    const codes = new Set(allErrors().map((e) => e.code));
    for (let c = -1; c <= 128; c++) expect(codes.has(c)).toBe(c !== 99);
  });

  it('carry Kafka names and retriable flags', () => {
    expect(ErrorCode.NOT_LEADER_OR_FOLLOWER).toBe(6);
    expect(ErrorCode.UNSUPPORTED_VERSION).toBe(35);
    expect(ErrorCode.MEMBER_ID_REQUIRED).toBe(79);
    expect(errorInfo(6)).toMatchObject({ name: 'NOT_LEADER_OR_FOLLOWER', retriable: true });
    expect(errorInfo(3)).toMatchObject({ name: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
    expect(errorInfo(15).retriable).toBe(true); // COORDINATOR_NOT_AVAILABLE
    expect(errorInfo(36).retriable).toBe(false); // TOPIC_ALREADY_EXISTS
    expect(errorInfo(-1)).toMatchObject({ name: 'UNKNOWN_SERVER_ERROR', retriable: false });
    expect(errorInfo(0).message).toBeNull();
    expect(errorInfo(5000).name).toBe('UNKNOWN_ERROR_CODE_5000');
  });

  it('KafkaProtocolError', () => {
    const e = new KafkaProtocolError(6);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(6);
    expect(e.name).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(e.retriable).toBe(true);
    expect(e.message).toMatch(/not the current leader/);
    const f = KafkaProtocolError.fromName('TOPIC_ALREADY_EXISTS', "Topic 'x' already exists.");
    expect([f.code, f.retriable, f.message]).toEqual([36, false, "Topic 'x' already exists."]);
  });
});
