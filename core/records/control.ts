/**
 * Control records: the only record of a control batch (attributes bit 5) is a transaction
 * marker written by the transaction coordinator's EndTxn.
 *
 *   key    version int16 (0) | type int16 (0 ABORT, 1 COMMIT)
 *   value  version int16 (0) | coordinatorEpoch int32     (EndTransactionMarker)
 */

export const ControlRecordType = { Abort: 0, Commit: 1 } as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

/** The type in a control record key, or -1 when the key is too short to hold one. */
export function controlRecordType(key: Uint8Array | null): number {
  if (key === null || key.length < 4) return -1;
  return ((key[2]! << 24) >> 16) | key[3]!;
}

export function controlRecordKey(type: ControlRecordType): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(type, 2);
  return key;
}

export function endTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.alloc(6);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/** coordinatorEpoch of an EndTransactionMarker value, or -1 when malformed. */
export function endTxnMarkerCoordinatorEpoch(value: Uint8Array | null): number {
  if (value === null || value.length < 6) return -1;
  return (value[2]! << 24) | (value[3]! << 16) | (value[4]! << 8) | value[5]!;
}
