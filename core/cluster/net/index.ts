/**
 * TCP for the metadata quorum: the Raft transport between controllers (and to brokers that
 * follow the log as learners), the broker→controller RPC, the controller listener, and
 * ClusterNode, which wires a whole node together.
 */
export { type HostPort, parseControllerQuorum, parseHostPort } from './address.js';
export { ClusterNode, type ClusterNodeOptions, METADATA_DIR } from './cluster-node.js';
export { type ConnectionKind, decodeHello, encodeHello, HELLO_BYTES } from './handshake.js';
export { ControllerListener, type ControllerListenerOptions } from './listener.js';
export { TcpRaftTransport, type TcpRaftTransportOptions } from './raft-transport.js';
export { RpcClient, type RpcClientOptions } from './rpc-client.js';
export { encodeRpc, RpcFrameDecoder, RpcProtocolError } from './rpc-codec.js';
export { RpcServer, type RpcServerOptions } from './rpc-server.js';
