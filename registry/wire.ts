/**
 * Confluent's wire format for registry-framed values: byte 0 (magic), the writer schema's id as a
 * 4-byte big-endian integer, then the Avro binary encoding of the value.
 */
import { RegistryError } from './errors.js';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt8(MAGIC_BYTE, 0);
  out.writeInt32BE(schemaId, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

export function unframe(data: Buffer): { schemaId: number; body: Buffer } {
  if (data.length < HEADER_BYTES || data[0] !== MAGIC_BYTE) {
    throw new RegistryError(
      'UNKNOWN_MAGIC_BYTE',
      `Unknown magic byte: the data is not in the Confluent wire format (0x00 + 4-byte schema id); got ${data.length} bytes starting 0x${data.subarray(0, 1).toString('hex')}`,
    );
  }
  return { schemaId: data.readInt32BE(1), body: data.subarray(HEADER_BYTES) };
}
