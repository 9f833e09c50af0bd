/**
 * Maps failures of the layers below (log errors, unexpected exceptions) to Kafka's numeric error
 * codes for responses. One place, so every handler answers the same failure the same way.
 */
import { LogError } from '../log/errors.js';
import { ErrorCode, type KafkaErrorName } from '../protocol/errors.js';

export interface ErrorAnswer {
  errorCode: number;
  errorMessage: string | null;
}

export const NONE: ErrorAnswer = Object.freeze({ errorCode: 0, errorMessage: null });

export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof LogError) {
    const code = (ErrorCode as Record<string, number>)[err.code];
    return { errorCode: code ?? ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: err.message };
  }
  const named = (err as { code?: unknown } | null)?.code;
  if (typeof named === 'string' && named in ErrorCode) {
    return { errorCode: ErrorCode[named as KafkaErrorName], errorMessage: (err as Error).message };
  }
  return {
    errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
    errorMessage: err instanceof Error ? err.message : String(err),
  };
}
