/**
 * Whole frames: size prefix, header and body, for both ends of a connection.
 *
 * Broker: `decodeRequestFrame(frame)` (the frame without its 4-byte size) gives a request
 * discriminated by `apiKey`; answer with `encodeResponseFrame(apiKey, apiVersion,
 * correlationId, body)`, which returns the chunks of the size-prefixed response for
 * `socket.cork()` + `write()`s (records travel as their own chunks, uncopied).
 *
 * Client: `encodeRequestFrame({ apiKey, apiVersion, correlationId, clientId }, body)` gives
 * the size-prefixed chunks; `peekCorrelationId(frame)` matches a response to its request and
 * `decodeResponseFrame(apiKey, apiVersion, frame)` decodes it.
 */
import { ApiKey, apiName } from './api-keys.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { ErrorCode, ProtocolError } from './errors.js';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './headers.js';
import {
  apis,
  getApi,
  type RequestData,
  type RequestInput,
  type ResponseData,
  type ResponseInput,
  type SupportedApiKey,
} from './messages/index.js';
import { Reader } from './reader.js';
import type { Fields, Input, MessageSchema } from './schema.js';
import { Writer } from './writer.js';

/** A decoded request, discriminated by `apiKey`. */
export type DecodedRequest = {
  [K in SupportedApiKey]: {
    apiKey: K;
    apiVersion: number;
    correlationId: number;
    clientId: string | null;
    header: RequestHeader;
    body: RequestData<K>;
  };
}[SupportedApiKey];

function schemaOf(apiKey: number, kind: 'request' | 'response'): MessageSchema {
  const api = getApi(apiKey);
  if (!api)
    throw new ProtocolError('UNKNOWN_API_KEY', `no schema for API key ${apiKey} (${apiName(apiKey)})`);
  return api[kind];
}

// ------------------------------------------------------------------------------------- bodies

/** Encodes a request body (no header) into `writer` or a new Writer. */
export function encodeRequest<K extends SupportedApiKey>(
  apiKey: K,
  apiVersion: number,
  body: RequestInput<K>,
  writer?: Writer,
): Writer {
  return encodeMessage(schemaOf(apiKey, 'request'), apiVersion, body as Input<Fields>, writer);
}

/** Decodes a request body (no header) from a Buffer or a positioned Reader. */
export function decodeRequest<K extends SupportedApiKey>(
  apiKey: K,
  apiVersion: number,
  input: Buffer | Reader,
): RequestData<K> {
  return decodeMessage(schemaOf(apiKey, 'request'), apiVersion, input) as RequestData<K>;
}

/** Encodes a response body (no header) into `writer` or a new Writer. */
export function encodeResponse<K extends SupportedApiKey>(
  apiKey: K,
  apiVersion: number,
  body: ResponseInput<K>,
  writer?: Writer,
): Writer {
  return encodeMessage(schemaOf(apiKey, 'response'), apiVersion, body as Input<Fields>, writer);
}

/** Decodes a response body (no header) from a Buffer or a positioned Reader. */
export function decodeResponse<K extends SupportedApiKey>(
  apiKey: K,
  apiVersion: number,
  input: Buffer | Reader,
): ResponseData<K> {
  return decodeMessage(schemaOf(apiKey, 'response'), apiVersion, input) as ResponseData<K>;
}

// ------------------------------------------------------------------------------------- broker

/**
 * Decodes a request frame (without its size prefix). Throws ProtocolError: TRUNCATED /
 * CORRUPT_REQUEST for bad bytes, UNKNOWN_API_KEY, or UNSUPPORTED_VERSION for a version outside
 * our supported range; once the header was read, the error carries it as `requestHeader` so
 * the broker can answer (an ApiVersions request at an unsupported version gets
 * `unsupportedApiVersionsResponse()` at version 0) or close the connection.
 */
export function decodeRequestFrame(frame: Buffer): DecodedRequest {
  const r = new Reader(frame);
  const header = decodeRequestHeader(r);
  const { apiKey, apiVersion } = header;
  try {
    const api = getApi(apiKey);
    if (!api) throw new ProtocolError('UNKNOWN_API_KEY', `unknown API key ${apiKey} (${apiName(apiKey)})`);
    if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
      throw new ProtocolError(
        'UNSUPPORTED_VERSION',
        `${api.name} v${apiVersion} request: we support v${api.minVersion}-${api.maxVersion}`,
      );
    }
    const body = decodeMessage(api.request, apiVersion, r);
    return {
      apiKey,
      apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      header,
      body,
    } as DecodedRequest;
  } catch (e) {
    const err =
      e instanceof ProtocolError ? e : new ProtocolError('CORRUPT_REQUEST', String(e), { cause: e });
    err.requestHeader = header;
    throw err;
  }
}

/** Encodes a response frame: size prefix, header (version chosen for the API), body. */
export function encodeResponseFrame<K extends SupportedApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseInput<K>,
): Buffer[] {
  const schema = schemaOf(apiKey, 'response');
  const w = new Writer();
  try {
    const size = w.reserveInt32();
    encodeResponseHeader(w, { correlationId }, responseHeaderVersion(apiKey, apiVersion));
    encodeMessage(schema, apiVersion, body as Input<Fields>, w);
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
  } catch (e) {
    w.abandon();
    throw e;
  }
}

// ------------------------------------------------------------------------------------- client

export interface RequestFrameHeader<K extends SupportedApiKey> {
  apiKey: K;
  apiVersion: number;
  correlationId: number;
  clientId?: string | null;
}

/** Encodes a request frame: size prefix, header (version chosen for the API), body. */
export function encodeRequestFrame<K extends SupportedApiKey>(
  header: RequestFrameHeader<K>,
  body: RequestInput<K>,
): Buffer[] {
  const { apiKey, apiVersion, correlationId } = header;
  const schema = schemaOf(apiKey, 'request');
  const w = new Writer();
  try {
    const size = w.reserveInt32();
    encodeRequestHeader(
      w,
      { apiKey, apiVersion, correlationId, clientId: header.clientId ?? null },
      requestHeaderVersion(apiKey, apiVersion),
    );
    encodeMessage(schema, apiVersion, body as Input<Fields>, w);
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
  } catch (e) {
    w.abandon();
    throw e;
  }
}

/** The correlation id of a response frame (without size prefix): its first int32. */
export function peekCorrelationId(frame: Buffer): number {
  return new Reader(frame).int32();
}

export interface DecodedResponse<K extends SupportedApiKey> {
  correlationId: number;
  /** The version the body was decoded at (ApiVersions may fall back to 0). */
  apiVersion: number;
  body: ResponseData<K>;
}

/**
 * Decodes a response frame (without its size prefix) to a request sent at `apiVersion`.
 * ApiVersions responses fall back to version 0 as Kafka's client does: a broker answers an
 * ApiVersions version it does not support with a v0-shaped UNSUPPORTED_VERSION body, and some
 * brokers leave out v1's throttleTimeMs.
 */
export function decodeResponseFrame<K extends SupportedApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
): DecodedResponse<K> {
  const r = new Reader(frame);
  const { correlationId } = decodeResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  const schema = apis[apiKey].response as MessageSchema;
  const start = r.pos;
  if (apiKey === ApiKey.ApiVersions && apiVersion > 0) {
    if (r.remaining >= 2 && frame.readInt16BE(start) === ErrorCode.UNSUPPORTED_VERSION) {
      return { correlationId, apiVersion: 0, body: decodeMessage(schema, 0, r) as ResponseData<K> };
    }
    try {
      const body = decodeMessage(schema, apiVersion, r) as ResponseData<K>;
      return { correlationId, apiVersion, body };
    } catch {
      r.pos = start;
      return { correlationId, apiVersion: 0, body: decodeMessage(schema, 0, r) as ResponseData<K> };
    }
  }
  return { correlationId, apiVersion, body: decodeMessage(schema, apiVersion, r) as ResponseData<K> };
}
