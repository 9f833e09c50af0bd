/**
 * Blocking HTTP for the synchronous paths (a streams serde or a Connect converter meeting a schema
 * id or a schema it has not cached): the request runs in a worker thread while this thread waits
 * on `Atomics.wait`, and the answer comes back through `receiveMessageOnPort`.
 *
 * It blocks this thread, so it must never target a server running in this same thread (the
 * server could not answer): client.ts answers those from the in-process registry instead.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { RegistryError } from './errors.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const port = workerData.port;
parentPort.on('message', async (m) => {
  let out;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), m.timeoutMs);
  try {
    const res = await fetch(m.url, { method: m.method, headers: m.headers, body: m.body, signal: ac.signal });
    out = { id: m.id, status: res.status, body: await res.text() };
  } catch (e) {
    out = { id: m.id, error: String((e && e.message) || e) };
  } finally {
    clearTimeout(timer);
  }
  port.postMessage(out);
  const flag = new Int32Array(m.flag);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

interface Answer {
  id: number;
  status?: number;
  body?: string;
  error?: string;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

let shared: { worker: Worker; port: MessagePort } | undefined;
let nextId = 0;

function start(): { worker: Worker; port: MessagePort } {
  if (!shared) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2 },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    worker.on('error', () => {
      shared = undefined;
    });
    shared = { worker, port: port1 };
  }
  return shared;
}

/** Performs one HTTP request, blocking this thread until it is answered or `timeoutMs` passed. */
export function requestSync(
  method: string,
  url: string,
  body: string | undefined,
  headers: Record<string, string>,
  timeoutMs: number,
): HttpAnswer {
  const { worker, port } = start();
  const id = ++nextId;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  worker.postMessage({ id, method, url, body, headers, timeoutMs, flag: flag.buffer });
  const waited = Atomics.wait(flag, 0, 0, timeoutMs + 1000);
  for (;;) {
    const got = receiveMessageOnPort(port) as { message: Answer } | undefined;
    if (!got) break;
    if (got.message.id !== id) continue; // an answer to an earlier request that timed out
    if (got.message.error !== undefined) {
      throw new RegistryError('REGISTRY_UNAVAILABLE', `${method} ${url} failed: ${got.message.error}`);
    }
    return { status: got.message.status!, body: got.message.body! };
  }
  throw new RegistryError(
    'REGISTRY_UNAVAILABLE',
    `${method} ${url} got no answer in ${timeoutMs} ms${waited === 'timed-out' ? '' : ' (no message)'}`,
  );
}
