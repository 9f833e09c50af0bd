/**
 * One connection to one broker, as the client logic sees it: typed request in, typed response
 * out, whatever carries it (TCP for the network client, a direct call for the embedded one).
 */
import type { RequestInput, ResponseData, SupportedApiKey } from '../protocol/messages/index.js';

export interface RequestOptions {
  /** Overrides the negotiated version. */
  version?: number;
  timeoutMs?: number;
}

export interface BrokerConnection {
  readonly nodeId: number;
  request<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions,
  ): Promise<ResponseData<K>>;
  /** Sends a request that gets no response (produce with acks=0). */
  send<K extends SupportedApiKey>(apiKey: K, body: RequestInput<K>, opts?: RequestOptions): Promise<void>;
  /** The version used for an API: min(our max, the broker's max). Throws when there is none. */
  version(apiKey: SupportedApiKey): number;
  readonly closed: boolean;
  close(): void;
}
