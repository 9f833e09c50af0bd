/**
 * The embedded "connection": requests go straight to an in-process Broker. They still pass
 * through the protocol codecs (encode, then decode as the broker would, and back), so the
 * embedded and the network paths run the very same code and agree byte for byte; record
 * batches are not copied on the way in, and copied once on the way out (fetched records read
 * into the log's reusable read buffers are released once copied, as the broker's socket path
 * does once written).
 */
import type { Broker } from '../../broker/broker.js';
import { isLeasedReadBuffer, releaseReadBuffer } from '../../log/read-buffers.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../protocol/frames.js';
import {
  getApi,
  type RequestInput,
  type ResponseData,
  type SupportedApiKey,
} from '../../protocol/messages/index.js';
import type { BrokerConnection, RequestOptions } from '../connection.js';
import { KafkaClientError } from '../errors.js';

export class EmbeddedConnection implements BrokerConnection {
  private isClosed = false;

  constructor(
    private readonly broker: Broker,
    private readonly clientId: string,
  ) {}

  get nodeId(): number {
    return this.broker.endpoint().nodeId;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  version(apiKey: SupportedApiKey): number {
    return getApi(apiKey)!.maxVersion;
  }

  private async call<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts: RequestOptions | undefined,
  ): Promise<ResponseData<K> | null> {
    if (this.isClosed) throw new KafkaClientError('CLIENT_CLOSED', 'the client was closed');
    const version = opts?.version ?? this.version(apiKey);
    const request = decodeRequest(apiKey, version, encodeRequest(apiKey, version, body).toBuffer());
    const response = await this.broker.handle(
      apiKey,
      { apiVersion: version, clientId: this.clientId, clientHost: 'embedded' },
      request,
    );
    if (response === null) return null;
    const chunks = encodeResponse(apiKey, version, response).toChunks();
    if (chunks.length === 1) return decodeResponse(apiKey, version, chunks[0]!);
    const bytes = Buffer.concat(chunks);
    // Fetched records read into the log's reusable buffers are copied now: give those back.
    for (const c of chunks) if (isLeasedReadBuffer(c)) releaseReadBuffer(c);
    return decodeResponse(apiKey, version, bytes);
  }

  async request<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions,
  ): Promise<ResponseData<K>> {
    const response = await this.call(apiKey, body, opts);
    if (response === null) throw new KafkaClientError('ILLEGAL_STATE', `API ${apiKey} sent no response`);
    return response;
  }

  async send<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions,
  ): Promise<void> {
    await this.call(apiKey, body, opts);
  }

  close(): void {
    this.isClosed = true;
  }
}
