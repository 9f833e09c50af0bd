import type * as net from 'node:net';

/** Where the listener hands a raft connection after its hello (TcpRaftTransport). */
export interface RaftMessageSink {
  attachInbound(socket: net.Socket, nodeId: number, rest: Buffer): void;
}
