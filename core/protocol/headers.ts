/**
 * Request and response headers (Kafka's RequestHeader.json / ResponseHeader.json).
 *
 * Request header v0: apiKey int16, apiVersion int16, correlationId int32; v1 adds clientId
 * (nullable string, int16 length: it keeps the classic encoding even in v2); v2 adds a
 * tagged-field section. Response header v0: correlationId int32; v1 adds tagged fields.
 *
 * Flexible API versions use request header v2 and response header v1, except that
 * ApiVersions responses always use response header v0 (a client that does not yet know the
 * broker's versions must be able to read them). ControlledShutdown v0's request header v0 is
 * not modelled: everything else uses v1 or v2.
 */
import { ApiKey } from './api-keys.js';
import { isFlexible } from './codec.js';
import { withContext } from './errors.js';
import { getApi } from './messages/index.js';
import type { RawTaggedField, Reader } from './reader.js';
import type { Writer } from './writer.js';

export type RequestHeaderVersion = 0 | 1 | 2;
export type ResponseHeaderVersion = 0 | 1;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** null in header v0, or when the client sends none. */
  clientId: string | null;
  /** Unknown tagged fields of a v2 header, if any. */
  taggedFields?: readonly RawTaggedField[];
}

export interface ResponseHeader {
  correlationId: number;
  taggedFields?: readonly RawTaggedField[];
}

/**
 * Whether a version of an API is flexible. For an API we have no schema for, false. For a
 * version above what a schema declares, the schema's open range ("3+") still answers, as in
 * Kafka, so a request from a newer client is framed correctly.
 */
function flexible(apiKey: number, apiVersion: number): boolean {
  const api = getApi(apiKey);
  return api !== undefined && isFlexible(api.request, apiVersion);
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): RequestHeaderVersion {
  return flexible(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): ResponseHeaderVersion {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return flexible(apiKey, apiVersion) ? 1 : 0;
}

export function encodeRequestHeader(w: Writer, header: RequestHeader, version: RequestHeaderVersion): Writer {
  w.int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId);
  if (version >= 1) w.nullableString(header.clientId);
  if (version >= 2) w.taggedFields(header.taggedFields);
  return w;
}

/**
 * Reads a request header; its version follows from the apiKey and apiVersion it starts with
 * (or is forced by `version`). Throws ProtocolError CORRUPT_REQUEST / TRUNCATED.
 */
export function decodeRequestHeader(r: Reader, version?: RequestHeaderVersion): RequestHeader {
  try {
    const apiKey = r.int16();
    const apiVersion = r.int16();
    const correlationId = r.int32();
    const v = version ?? requestHeaderVersion(apiKey, apiVersion);
    const clientId = v >= 1 ? r.nullableString() : null;
    const header: RequestHeader = { apiKey, apiVersion, correlationId, clientId };
    if (v >= 2) {
      const tagged = r.taggedFields();
      if (tagged) header.taggedFields = tagged;
    }
    return header;
  } catch (e) {
    throw withContext(e, 'request header', 'CORRUPT_MESSAGE', 'CORRUPT_REQUEST');
  }
}

export function encodeResponseHeader(
  w: Writer,
  header: ResponseHeader,
  version: ResponseHeaderVersion,
): Writer {
  w.int32(header.correlationId);
  if (version >= 1) w.taggedFields(header.taggedFields);
  return w;
}

export function decodeResponseHeader(r: Reader, version: ResponseHeaderVersion): ResponseHeader {
  try {
    const header: ResponseHeader = { correlationId: r.int32() };
    if (version >= 1) {
      const tagged = r.taggedFields();
      if (tagged) header.taggedFields = tagged;
    }
    return header;
  } catch (e) {
    throw withContext(e, 'response header', 'CORRUPT_MESSAGE', 'CORRUPT_RESPONSE');
  }
}
