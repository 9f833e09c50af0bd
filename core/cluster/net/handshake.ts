/**
 * Every connection to a controller listener starts with a 12-byte hello from the dialing side:
 *
 *   magic "TRBC" | version u8 (=1) | kind u8 (1 = raft, 2 = rpc) | reserved u16 (0) | nodeId i32
 *
 * Then the connection carries, both ways, raft frames (raft/codec.ts) or RPC frames (rpc-codec.ts).
 * The node id tells the listening side who dialed, so that a leader can answer a learner (a
 * broker, whose address no controller knows) over the learner's own connection.
 */
export const HELLO_BYTES = 12;
const MAGIC = Buffer.from('TRBC', 'ascii');
export const HANDSHAKE_VERSION = 1;

export type ConnectionKind = 'raft' | 'rpc';

export interface Hello {
  readonly kind: ConnectionKind;
  readonly nodeId: number;
}

export function encodeHello(kind: ConnectionKind, nodeId: number): Buffer {
  const b = Buffer.alloc(HELLO_BYTES);
  MAGIC.copy(b, 0);
  b[4] = HANDSHAKE_VERSION;
  b[5] = kind === 'raft' ? 1 : 2;
  b.writeInt32BE(nodeId, 8);
  return b;
}

/** The hello, or an error message. */
export function decodeHello(b: Buffer): Hello | string {
  if (b.length < HELLO_BYTES) return 'short hello';
  if (!b.subarray(0, 4).equals(MAGIC)) return 'not a Tributary controller connection (bad magic)';
  if (b[4] !== HANDSHAKE_VERSION) return `unsupported handshake version ${b[4]}`;
  const kind = b[5] === 1 ? 'raft' : b[5] === 2 ? 'rpc' : null;
  if (kind === null) return `unknown connection kind ${b[5]}`;
  return { kind, nodeId: b.readInt32BE(8) };
}
