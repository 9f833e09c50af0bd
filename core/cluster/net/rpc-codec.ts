/**
 * The broker→controller RPC frame (after the hello of handshake.ts, kind = rpc):
 *
 *   frame = length u32 (bytes after this field) | kind u8 | correlationId u32 | JSON (utf-8)
 *   kind 0 = request   {"api": "createTopics", "request": {...}}
 *   kind 1 = response  the API's response object
 *   kind 2 = error     {"code": "NOT_CONTROLLER", "message": "...", "leaderId": 2 | null,
 *                       "retriable"?: false (a REQUEST_TIMED_OUT whose change may have taken effect)}
 *
 * Requests and responses are the plain objects of controller/requests.ts. JSON keeps this
 * small, debuggable API simple; the metadata log itself uses the binary codec.
 */
import { CONTROLLER_APIS, type ControllerApi } from '../controller/requests.js';

export const RPC_HEADER_BYTES = 9;
export const DEFAULT_MAX_RPC_BYTES = 4 * 1024 * 1024;

export type RpcKind = 0 | 1 | 2;

export interface RpcFrame {
  readonly kind: RpcKind;
  readonly correlationId: number;
  readonly body: unknown;
}

export class RpcProtocolError extends Error {
  override readonly name = 'RpcProtocolError';
}

export function encodeRpc(kind: RpcKind, correlationId: number, body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const b = Buffer.allocUnsafe(RPC_HEADER_BYTES + json.length);
  b.writeUInt32BE(json.length + 5, 0);
  b[4] = kind;
  b.writeUInt32BE(correlationId >>> 0, 5);
  json.copy(b, RPC_HEADER_BYTES);
  return b;
}

/** Splits a byte stream into RPC frames; throws RpcProtocolError on anything malformed. */
export class RpcFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes = DEFAULT_MAX_RPC_BYTES) {}

  push(chunk: Buffer): RpcFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: RpcFrame[] = [];
    while (this.buf.length >= 4) {
      const length = this.buf.readUInt32BE(0);
      if (length < 5 || length > this.maxBytes) throw new RpcProtocolError(`RPC frame of ${length} bytes`);
      if (this.buf.length < 4 + length) break;
      const kind = this.buf[4]!;
      if (kind > 2) throw new RpcProtocolError(`unknown RPC frame kind ${kind}`);
      const correlationId = this.buf.readUInt32BE(5);
      let body: unknown;
      try {
        body = JSON.parse(this.buf.subarray(RPC_HEADER_BYTES, 4 + length).toString('utf8'));
      } catch (err) {
        throw new RpcProtocolError(`RPC frame is not JSON: ${(err as Error).message}`);
      }
      out.push({ kind: kind as RpcKind, correlationId, body });
      this.buf = this.buf.subarray(4 + length);
    }
    return out;
  }
}

type FieldType = 'number' | 'string' | 'boolean' | 'array' | 'arrayOrNull' | 'stringOrNull';

/** Top-level fields each request must carry (deeper shapes are checked by the controller's ops). */
const REQUEST_FIELDS: Readonly<Record<ControllerApi, Readonly<Record<string, FieldType>>>> = {
  registerBroker: {
    brokerId: 'number',
    incarnationId: 'string',
    host: 'string',
    port: 'number',
    rack: 'stringOrNull',
    controller: 'boolean',
  },
  brokerHeartbeat: {
    brokerId: 'number',
    brokerEpoch: 'number',
    metadataOffset: 'number',
    wantFence: 'boolean',
    wantShutdown: 'boolean',
  },
  alterPartition: { brokerId: 'number', brokerEpoch: 'number', partitions: 'array' },
  createTopics: { topics: 'array' },
  deleteTopics: { topics: 'array' },
  createPartitions: { topics: 'array' },
  alterConfigs: { resources: 'array' },
  electLeaders: { electionType: 'string', partitions: 'arrayOrNull' },
  alterPartitionReassignments: { reassignments: 'array' },
  listPartitionReassignments: { partitions: 'arrayOrNull' },
  allocateProducerIds: { brokerId: 'number', brokerEpoch: 'number' },
};

function hasType(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'array':
      return Array.isArray(v);
    case 'arrayOrNull':
      return v === null || Array.isArray(v);
    case 'stringOrNull':
      return v === null || typeof v === 'string';
    default:
      return typeof v === t;
  }
}

/** The API and request of a request frame's body, or why it is malformed. */
export function parseRequest(body: unknown): { api: ControllerApi; request: unknown } | string {
  if (typeof body !== 'object' || body === null) return 'request is not an object';
  const { api, request } = body as { api?: unknown; request?: unknown };
  if (typeof api !== 'string' || !(CONTROLLER_APIS as readonly string[]).includes(api))
    return `unknown API ${String(api)}`;
  if (typeof request !== 'object' || request === null) return 'request body is not an object';
  for (const [field, type] of Object.entries(REQUEST_FIELDS[api as ControllerApi])) {
    if (!hasType((request as Record<string, unknown>)[field], type))
      return `${api}: field ${field} must be ${type}`;
  }
  return { api: api as ControllerApi, request };
}
