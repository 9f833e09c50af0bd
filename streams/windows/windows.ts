/**
 * Window definitions on event time. Windows are half-open [start, end) except sliding windows,
 * which cover [end − difference, end] (both ends included, as Kafka's). A window closes when
 * stream time reaches its end + grace; records for a closed window are late: dropped and counted.
 * Grace defaults to 0.
 */
import { StreamsError } from '../errors.js';
import type { TimeWindow } from '../types.js';

export interface TimeWindows {
  readonly kind: 'tumbling' | 'hopping';
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;
}

export interface SlidingWindows {
  readonly kind: 'sliding';
  readonly differenceMs: number;
  readonly graceMs: number;
}

export interface SessionWindows {
  readonly kind: 'session';
  readonly gapMs: number;
  readonly graceMs: number;
}

export interface GraceOptions {
  /** How long after a window's end records are still accepted (stream time). Default 0. */
  graceMs?: number;
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new StreamsError('INVALID_JOB', `${name} must be a positive integer (ms), got ${v}`);
  return v;
}

function grace(opts: GraceOptions): number {
  const g = opts.graceMs ?? 0;
  if (!Number.isInteger(g) || g < 0) throw new StreamsError('INVALID_JOB', `graceMs must be ≥ 0, got ${g}`);
  return g;
}

/** Fixed, non-overlapping windows of `sizeMs`, aligned to the epoch. */
export function tumblingWindows(sizeMs: number, opts: GraceOptions = {}): TimeWindows {
  positive('sizeMs', sizeMs);
  return { kind: 'tumbling', sizeMs, advanceMs: sizeMs, graceMs: grace(opts) };
}

/** Windows of `sizeMs` starting every `advanceMs` (overlapping when advance < size). */
export function hoppingWindows(sizeMs: number, advanceMs: number, opts: GraceOptions = {}): TimeWindows {
  positive('sizeMs', sizeMs);
  positive('advanceMs', advanceMs);
  if (advanceMs > sizeMs) throw new StreamsError('INVALID_JOB', 'hoppingWindows: advanceMs must be ≤ sizeMs');
  return { kind: 'hopping', sizeMs, advanceMs, graceMs: grace(opts) };
}

/** One window per record, [t − differenceMs, t]: aggregates of everything within differenceMs. */
export function slidingWindows(differenceMs: number, opts: GraceOptions = {}): SlidingWindows {
  positive('differenceMs', differenceMs);
  return { kind: 'sliding', differenceMs, graceMs: grace(opts) };
}

/** Sessions: records of a key less than `gapMs` apart belong to one session. */
export function sessionWindows(gapMs: number, opts: GraceOptions = {}): SessionWindows {
  positive('gapMs', gapMs);
  return { kind: 'session', gapMs, graceMs: grace(opts) };
}

/** The windows of a tumbling or hopping definition that contain `timestamp`, oldest first. */
export function windowsFor(w: TimeWindows, timestamp: number): TimeWindow[] {
  const out: TimeWindow[] = [];
  const lastStart = timestamp - (((timestamp % w.advanceMs) + w.advanceMs) % w.advanceMs);
  for (let start = lastStart; start > timestamp - w.sizeMs; start -= w.advanceMs) {
    if (start < 0) break;
    out.push({ start, end: start + w.sizeMs });
  }
  return out.reverse();
}
