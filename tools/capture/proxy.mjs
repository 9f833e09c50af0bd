/**
 * A recording Kafka proxy: one TCP listener per broker of a cluster, each forwarding to its
 * broker, that splits both directions into Kafka frames (int32 size prefix) and records every
 * request frame with the response frame of the same correlation id.
 *
 * Clients learn broker addresses from Metadata and FindCoordinator responses and would bypass
 * the proxy after them, so those two responses are rewritten on the way to the client: a
 * broker address the proxy fronts is replaced by the proxy's own. The record keeps the
 * broker's original bytes (and says `rewritten: true`); only the forwarded copy is changed.
 * A broker that advertises the proxy's addresses itself needs no rewrite.
 *
 * Pure Node, no import from Tributary: the bytes recorded must not depend on the code they
 * will test. Frames are recorded without their size prefix, headers included.
 *
 *   const cluster = await startCaptureProxies(['127.0.0.1:9092', ...]);
 *   cluster.bootstrap          // "127.0.0.1:P1,..." for the client
 *   cluster.step = 'produce';  // label for the pairs recorded from now on
 *   cluster.pairs              // [{ step, broker, connection, apiKey, apiVersion, ... }]
 *   await cluster.close();
 */
import net from 'node:net';

/** API keys whose responses carry broker addresses. */
const METADATA = 3;
const FIND_COORDINATOR = 10;
const API_VERSIONS = 18;

/** First flexible version (KIP-482) of the APIs whose responses the proxy parses. */
const FLEXIBLE_FROM = { [METADATA]: 9, [FIND_COORDINATOR]: 3 };

/**
 * Starts one proxy per broker. `brokers` are "host:port" strings of the real brokers.
 * Returns the cluster handle described at the top of the file.
 */
export async function startCaptureProxies(brokers, { host = '127.0.0.1' } = {}) {
  const pairs = [];
  const proxies = [];
  const sockets = new Set();
  let connections = 0;
  let seq = 0;
  const cluster = {
    step: '',
    pairs,
    /** "host:port" of each broker → "host:port" of its proxy. */
    addressMap: new Map(),
    get bootstrap() {
      return proxies.map((p) => `${host}:${p.port}`).join(',');
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(proxies.map((p) => new Promise((resolve) => p.server.close(() => resolve()))));
    },
  };

  for (const [index, target] of brokers.entries()) {
    const [targetHost, targetPort] = splitAddress(target);
    const server = net.createServer((client) => {
      const connection = ++connections;
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      const inflight = new Map();
      const done = () => {
        // Requests that got no response (Produce with acks=0, or cut off by the close).
        for (const pending of inflight.values()) pairs.push({ ...pending, response: null });
        inflight.clear();
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);

      // Requests pass through unchanged; the framer only watches them.
      const requests = framer((frame) => {
        const apiKey = frame.readInt16BE(0);
        const apiVersion = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        inflight.set(correlationId, {
          seq: ++seq,
          step: cluster.step,
          broker: index,
          connection,
          apiKey,
          apiVersion,
          correlationId,
          request: frame,
        });
      });
      client.on('data', (chunk) => {
        upstream.write(chunk);
        requests.push(chunk);
      });

      // Responses are forwarded frame by frame, so that addresses can be rewritten.
      const responses = framer((frame) => {
        const correlationId = frame.readInt32BE(0);
        const pending = inflight.get(correlationId);
        let forwarded = frame;
        if (pending) {
          inflight.delete(correlationId);
          forwarded =
            rewriteAddresses(pending.apiKey, pending.apiVersion, frame, cluster.addressMap) ?? frame;
          pairs.push({ ...pending, response: frame, rewritten: forwarded !== frame });
        }
        const size = Buffer.alloc(4);
        size.writeInt32BE(forwarded.length);
        client.write(Buffer.concat([size, forwarded]));
      });
      upstream.on('data', (chunk) => responses.push(chunk));
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = server.address().port;
    proxies.push({ server, port });
    cluster.addressMap.set(`${targetHost}:${targetPort}`, [host, port]);
  }
  return cluster;
}

function splitAddress(address) {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

/** Calls `onFrame(frameWithoutSize)` for every complete frame pushed through `push(chunk)`. */
function framer(onFrame) {
  let buffered = Buffer.alloc(0);
  return {
    push(chunk) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const size = buffered.readInt32BE(0);
        if (buffered.length < 4 + size) break;
        onFrame(Buffer.from(buffered.subarray(4, 4 + size)));
        buffered = buffered.subarray(4 + size);
      }
    },
  };
}

// ------------------------------------------------------------------------- address rewriting

/** A minimal cursor over a response frame, for the few fields the rewriter needs. */
class Cursor {
  constructor(buf, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }
  skip(n) {
    this.pos += n;
    if (this.pos > this.buf.length) throw new RangeError('truncated');
  }
  int32() {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  int16() {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  uvarint() {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError('truncated');
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  }
  /** A string or nullable string; null for length -1 (classic) or 0 (compact). */
  string(compact) {
    const len = compact ? this.uvarint() - 1 : this.int16();
    if (len < 0) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.skip(len);
    return s;
  }
  arrayLength(compact) {
    return compact ? this.uvarint() - 1 : this.int32();
  }
  taggedFields() {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}

function encodeUvarint(v) {
  const out = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function encodeString(s, compact) {
  const bytes = Buffer.from(s, 'utf8');
  if (compact) return Buffer.concat([encodeUvarint(bytes.length + 1), bytes]);
  const len = Buffer.alloc(2);
  len.writeInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * The response with every (host, port) that `addressMap` knows replaced, or undefined when
 * nothing changed (or the API carries no addresses).
 */
export function rewriteAddresses(apiKey, apiVersion, frame, addressMap) {
  if (apiKey !== METADATA && apiKey !== FIND_COORDINATOR) return undefined;
  const compact = apiVersion >= FLEXIBLE_FROM[apiKey];
  const c = new Cursor(frame, 4); // after the correlation id
  if (compact) c.taggedFields(); // response header v1
  /** [hostStart, portEnd, host, port] spans to replace. */
  const spans = [];
  const address = () => {
    const start = c.pos;
    const host = c.string(compact);
    const port = c.int32();
    spans.push([start, c.pos, host, port]);
  };
  if (apiKey === METADATA) {
    if (apiVersion >= 3) c.int32(); // throttleTimeMs
    const n = c.arrayLength(compact);
    for (let i = 0; i < n; i++) {
      c.int32(); // nodeId
      address();
      if (apiVersion >= 1) c.string(compact); // rack
      if (compact) c.taggedFields();
    }
  } else if (apiVersion >= 4) {
    c.int32(); // throttleTimeMs
    const n = c.arrayLength(true);
    for (let i = 0; i < n; i++) {
      c.string(true); // key
      c.int32(); // nodeId
      address();
      c.int16(); // errorCode
      c.string(true); // errorMessage
      c.taggedFields();
    }
  } else {
    if (apiVersion >= 1) c.int32(); // throttleTimeMs
    c.int16(); // errorCode
    if (apiVersion >= 1) c.string(compact); // errorMessage
    c.int32(); // nodeId
    address();
  }
  const parts = [];
  let last = 0;
  for (const [start, end, host, port] of spans) {
    const to = addressMap.get(`${host}:${port}`);
    if (!to) continue;
    const portBytes = Buffer.alloc(4);
    portBytes.writeInt32BE(to[1]);
    parts.push(frame.subarray(last, start), encodeString(to[0], compact), portBytes);
    last = end;
  }
  if (parts.length === 0) return undefined;
  parts.push(frame.subarray(last));
  return Buffer.concat(parts);
}

export { API_VERSIONS, FIND_COORDINATOR, METADATA };
