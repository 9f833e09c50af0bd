/**
 * Golden bytes captured on this project's machines from Kafka programs we did not write:
 * kcat (librdkafka 2.0.2 and 2.12.0), kafkajs 2.2.4 and kafka-python 2.0.2 talking to
 * librdkafka's mock cluster through tools/capture/proxy.mjs. test/fixtures/protocol/ holds one
 * `<scenario>.jsonl` per client (a request/response pair a line, whole frames without the size
 * prefix, as hex) and `captures.json` (who talked to whom, and each step's command); its
 * README.md says how to capture them again.
 */
import { readFileSync } from 'node:fs';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  responseHeaderVersion,
} from '../../../core/protocol/headers.js';
import { Reader } from '../../../core/protocol/reader.js';

const ROOT = new URL('../../fixtures/protocol/', import.meta.url);

export interface ScenarioInfo {
  /** The client program, e.g. "kcat 1.7.1 (librdkafka 2.0.2)". */
  client: string;
  /** The broker program, e.g. "librdkafka 2.0.2 mock cluster (...)". */
  broker: string;
  /** Step name → the command or call that produced its traffic. */
  steps: Record<string, string>;
  capturedAt: string;
  pairs: number;
}

export interface CapturedPair {
  scenario: string;
  step: string;
  /** Client connection number within the scenario (1-based). */
  connection: number;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** The request frame: header and body, without the size prefix. */
  request: Buffer;
  /** The broker's response frame (header and body), or null if none came (acks=0, or the
   * client closed the connection first). */
  response: Buffer | null;
  /**
   * The proxy forwarded a copy with broker addresses pointing at itself; `response` is what
   * the broker sent.
   */
  rewritten: boolean;
}

interface Line {
  step: string;
  connection: number;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  request: string;
  response: string | null;
  rewritten?: boolean;
}

/** captures.json: scenario name → what ran. */
export const SCENARIOS: Readonly<Record<string, ScenarioInfo>> = JSON.parse(
  readFileSync(new URL('captures.json', ROOT), 'utf8'),
);

const cache = new Map<string, CapturedPair[]>();

/** Every pair of a scenario, in the order the client sent the requests. */
export function loadScenario(scenario: string): CapturedPair[] {
  let pairs = cache.get(scenario);
  if (!pairs) {
    pairs = readFileSync(new URL(`${scenario}.jsonl`, ROOT), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const line = JSON.parse(l) as Line;
        return {
          scenario,
          step: line.step,
          connection: line.connection,
          apiKey: line.apiKey,
          apiVersion: line.apiVersion,
          correlationId: line.correlationId,
          request: Buffer.from(line.request, 'hex'),
          response: line.response === null ? null : Buffer.from(line.response, 'hex'),
          rewritten: line.rewritten ?? false,
        };
      });
    cache.set(scenario, pairs);
  }
  return pairs;
}

/** Every pair of every scenario. */
export function loadAllCaptures(): CapturedPair[] {
  return Object.keys(SCENARIOS).flatMap(loadScenario);
}

/** The pairs of one scenario's step, optionally of one API key. */
export function stepPairs(scenario: string, step: string, apiKey?: number): CapturedPair[] {
  return loadScenario(scenario).filter(
    (p) => p.step === step && (apiKey === undefined || p.apiKey === apiKey),
  );
}

/**
 * The body of a captured request or response (the frame after its header), for tests that
 * feed bodies to decodeMessage, e.g. `messageBody(stepPairs('kcat-librdkafka-2.12.0',
 * 'produce-none', ApiKey.Produce)[0]!, 'request')` is a Produce v10 request body.
 */
export function messageBody(p: CapturedPair, kind: 'request' | 'response'): Buffer {
  const frame = kind === 'request' ? p.request : p.response;
  if (!frame) throw new Error(`${p.scenario} ${p.step}: no ${kind}`);
  const r = new Reader(frame);
  if (kind === 'request') decodeRequestHeader(r);
  else decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.apiVersion));
  return frame.subarray(r.pos);
}

/**
 * @deprecated The kafkajs and sarama fixtures copied from other repositories are gone; this
 * stays undefined so that older tests filter their entries out. Use the captures above.
 */
export const FIXTURES_ROOT: URL | undefined = undefined;

/** @deprecated See FIXTURES_ROOT: always throws. */
export function fixture(source: string, path: string): Buffer {
  throw new Error(`fixture ${source}/${path}: copied fixtures were removed; use loadScenario()`);
}
