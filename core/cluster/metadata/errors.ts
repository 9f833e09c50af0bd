/** Errors of the metadata layer: a record or snapshot that cannot be decoded. */
export type MetadataErrorCode = 'CORRUPT_RECORD' | 'UNSUPPORTED_VERSION' | 'RECORD_TOO_LARGE';

export class MetadataError extends Error {
  override readonly name = 'MetadataError';
  readonly retriable = false;
  constructor(
    readonly code: MetadataErrorCode,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }
}
