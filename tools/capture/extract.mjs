/**
 * Pulls record sets out of captured frames: the records of Produce requests (v3–v12) and of
 * Fetch responses (v4–v17). Hand-written from the message layouts (Kafka's
 * ProduceRequest.json / FetchResponse.json), independent of Tributary's codecs.
 */

const PRODUCE_FLEXIBLE = 9;
const FETCH_FLEXIBLE = 12;

class Cursor {
  constructor(buf, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }
  take(n) {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  int16() {
    return this.take(2).readInt16BE(0);
  }
  int32() {
    return this.take(4).readInt32BE(0);
  }
  int64() {
    return this.take(8).readBigInt64BE(0);
  }
  uvarint() {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = this.take(1)[0];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  }
  string(compact) {
    const len = compact ? this.uvarint() - 1 : this.int16();
    return len < 0 ? null : this.take(len).toString('utf8');
  }
  bytes(compact) {
    const len = compact ? this.uvarint() - 1 : this.int32();
    return len < 0 ? null : this.take(len);
  }
  arrayLength(compact) {
    return compact ? this.uvarint() - 1 : this.int32();
  }
  taggedFields() {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.take(this.uvarint());
    }
  }
}

/** [{ topic, partition, records }] of a Produce request frame (header included, no size). */
export function produceRecordSets(frame) {
  const c = new Cursor(frame);
  c.int16();
  const version = c.int16();
  c.int32();
  c.string(false); // clientId: always int16-length
  const flex = version >= PRODUCE_FLEXIBLE;
  if (flex) c.taggedFields();
  if (version >= 3) c.string(flex); // transactionalId
  c.int16(); // acks
  c.int32(); // timeoutMs
  const out = [];
  const topics = c.arrayLength(flex);
  for (let t = 0; t < topics; t++) {
    const topic = version >= 13 ? c.take(16).toString('hex') : c.string(flex);
    const partitions = c.arrayLength(flex);
    for (let p = 0; p < partitions; p++) {
      const partition = c.int32();
      const records = c.bytes(flex);
      if (flex) c.taggedFields();
      if (records) out.push({ topic, partition, records: Buffer.from(records) });
    }
    if (flex) c.taggedFields();
  }
  return out;
}

/**
 * [{ topic, partition, records, abortedTransactions }] of a Fetch response frame to a request of
 * `version` (header included, no size). Topics are names, or topic ids in hex from v13 on.
 */
export function fetchRecordSets(version, frame) {
  const c = new Cursor(frame);
  c.int32(); // correlationId
  const flex = version >= FETCH_FLEXIBLE;
  if (flex) c.taggedFields();
  if (version >= 1) c.int32(); // throttleTimeMs
  if (version >= 7) {
    c.int16(); // errorCode
    c.int32(); // sessionId
  }
  const out = [];
  const topics = c.arrayLength(flex);
  for (let t = 0; t < topics; t++) {
    const topic = version >= 13 ? c.take(16).toString('hex') : c.string(flex);
    const partitions = c.arrayLength(flex);
    for (let p = 0; p < partitions; p++) {
      const partition = c.int32();
      c.int16(); // errorCode
      c.int64(); // highWatermark
      let abortedTransactions = [];
      if (version >= 4) {
        c.int64(); // lastStableOffset
        if (version >= 5) c.int64(); // logStartOffset
        const n = c.arrayLength(flex);
        for (let i = 0; i < n; i++) {
          abortedTransactions.push({ producerId: Number(c.int64()), firstOffset: Number(c.int64()) });
          if (flex) c.taggedFields();
        }
        if (n < 0) abortedTransactions = null;
      }
      if (version >= 11) c.int32(); // preferredReadReplica
      const records = c.bytes(flex);
      if (flex) c.taggedFields();
      if (records && records.length > 0) {
        out.push({ topic, partition, records: Buffer.from(records), abortedTransactions });
      }
    }
    if (flex) c.taggedFields();
  }
  return out;
}

/** The whole batches of a record set (a fetch may end with a partial one, dropped here). */
export function wholeBatches(records) {
  let pos = 0;
  while (pos + 12 <= records.length) {
    const end = pos + 12 + records.readInt32BE(pos + 8);
    if (end > records.length) break;
    pos = end;
  }
  return records.subarray(0, pos);
}
