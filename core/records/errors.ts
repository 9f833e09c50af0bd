/**
 * Errors of the record layer. Every failure carries a stable `code`; the
 * protocol layer maps codes to Kafka's numeric error codes:
 * CORRUPT_MESSAGE (2), INVALID_RECORD (87), UNSUPPORTED_COMPRESSION_TYPE (76),
 * MESSAGE_TOO_LARGE (10); UNSUPPORTED_MAGIC and TRUNCATED answer as CORRUPT_MESSAGE.
 */

export type RecordErrorCode =
  /** Batch framing or checksum is wrong, or compressed data does not decompress. */
  | 'CORRUPT_MESSAGE'
  /** A record inside the batch is malformed (lengths, counts, offset deltas). */
  | 'INVALID_RECORD'
  /** The magic byte is not 2 (record batch v2). */
  | 'UNSUPPORTED_MAGIC'
  /** The bytes end before the batch does. */
  | 'TRUNCATED'
  /** Attributes name a codec other than none, gzip, snappy, lz4 or zstd. */
  | 'UNSUPPORTED_COMPRESSION_TYPE'
  /** Decompressed records exceed the configured limit. */
  | 'MESSAGE_TOO_LARGE';

/** A problem found by validation: returned, not thrown, on hot paths. */
export interface BatchError {
  readonly code: RecordErrorCode;
  readonly message: string;
}

/** Thrown by decoders and decompressors for malformed input. Never retriable: the bytes stay bad. */
export class CorruptRecordError extends Error {
  readonly code: RecordErrorCode;
  readonly retriable = false;

  constructor(code: RecordErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptRecordError';
    this.code = code;
  }

  static from(error: BatchError): CorruptRecordError {
    return new CorruptRecordError(error.code, error.message);
  }
}

/** A codec's native module did not load on this platform; other codecs still work. */
export class CodecUnavailableError extends Error {
  readonly code = 'CODEC_UNAVAILABLE';
  readonly retriable = false;

  constructor(codec: string, options?: { cause?: unknown }) {
    super(`${codec} compression is unavailable: its native module failed to load on this platform`, options);
    this.name = 'CodecUnavailableError';
  }
}
