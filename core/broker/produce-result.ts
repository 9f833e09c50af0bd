/**
 * The start of every partition's produce answer, shared by the single-node and the replicated
 * produce paths: an empty result, refused at once when the request's acks is not one Kafka knows.
 */
import { LogError } from '../log/errors.js';
import { ErrorCode } from '../protocol/errors.js';
import { errorAnswer } from './kafka-errors.js';
import type { PartitionProduce, PartitionProduceResult } from './replica-manager.js';

/** Fails `result` with what `err` says, the refused records included (Produce v8+ record_errors). */
export function failProduceResult(result: PartitionProduceResult, err: unknown): void {
  const answer = errorAnswer(err);
  result.errorCode = answer.errorCode;
  result.errorMessage = answer.errorMessage;
  if (err instanceof LogError && err.recordErrors.length > 0) result.recordErrors = err.recordErrors;
}

/** A fresh result for `e`; already failed with INVALID_REQUIRED_ACKS when acks is not 0, 1 or -1. */
export function startProduceResult(e: PartitionProduce, acks: number): PartitionProduceResult {
  const result: PartitionProduceResult = {
    topic: e.topic,
    partition: e.partition,
    errorCode: 0,
    errorMessage: null,
    baseOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
  };
  if (acks !== 0 && acks !== 1 && acks !== -1) {
    result.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
    result.errorMessage = `acks must be 0, 1 or -1 (all), got ${acks}`;
  }
  return result;
}
