import { EMPTY, type Observable } from 'rxjs';
import { currentContext, type PunctuationType } from '../context.js';

/**
 * Calls `fn` every `intervalMs` of stream time (driven by record timestamps) or of wall-clock
 * time, in the task being built; returns EMPTY so it can sit in a build function's list.
 *
 * @example
 * ```ts
 * build(builder) {
 *   punctuate(60_000, 'wall-clock', (now) => flushBuffers(now));
 * }
 * ```
 */
export function punctuate(
  intervalMs: number,
  type: PunctuationType,
  fn: (timestampMs: number) => void,
): Observable<never> {
  currentContext('punctuate').schedule(intervalMs, type, fn);
  return EMPTY;
}
