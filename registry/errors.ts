/**
 * Registry errors. Every failure is a {@link RegistryError} with a stable `code` (a name), the
 * HTTP status and Confluent's numeric `error_code` it is answered with, and `retriable`.
 *
 * The numeric codes and messages are Confluent Schema Registry's (`Errors.java`), so that its
 * clients (Java serializers, kafkajs' confluent-schema-registry, confluent-kafka-python) react to
 * them as they do against Confluent's server.
 */

export type RegistryErrorCode =
  | 'SUBJECT_NOT_FOUND'
  | 'VERSION_NOT_FOUND'
  | 'SCHEMA_NOT_FOUND'
  | 'SUBJECT_SOFT_DELETED'
  | 'SUBJECT_NOT_SOFT_DELETED'
  | 'VERSION_SOFT_DELETED'
  | 'VERSION_NOT_SOFT_DELETED'
  | 'SUBJECT_COMPATIBILITY_NOT_CONFIGURED'
  | 'SUBJECT_MODE_NOT_CONFIGURED'
  | 'INCOMPATIBLE_SCHEMA'
  | 'INVALID_SCHEMA'
  | 'INVALID_VERSION'
  | 'INVALID_COMPATIBILITY_LEVEL'
  | 'INVALID_MODE'
  | 'OPERATION_NOT_PERMITTED'
  | 'ID_DOES_NOT_MATCH'
  | 'INVALID_SUBJECT'
  | 'SCHEMA_TOO_LARGE'
  | 'STORE_ERROR'
  | 'OPERATION_TIMEOUT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_REQUEST'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  // Client side (serdes, converter, registry client).
  | 'INVALID_CONFIG'
  | 'SERIALIZATION_FAILED'
  | 'UNKNOWN_MAGIC_BYTE'
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_CLOSED';

/** [HTTP status, Confluent error_code] per code. */
const WIRE: Record<RegistryErrorCode, readonly [number, number]> = {
  SUBJECT_NOT_FOUND: [404, 40401],
  VERSION_NOT_FOUND: [404, 40402],
  SCHEMA_NOT_FOUND: [404, 40403],
  SUBJECT_SOFT_DELETED: [404, 40404],
  SUBJECT_NOT_SOFT_DELETED: [404, 40405],
  VERSION_SOFT_DELETED: [404, 40406],
  VERSION_NOT_SOFT_DELETED: [404, 40407],
  SUBJECT_COMPATIBILITY_NOT_CONFIGURED: [404, 40408],
  SUBJECT_MODE_NOT_CONFIGURED: [404, 40409],
  INCOMPATIBLE_SCHEMA: [409, 409],
  INVALID_SCHEMA: [422, 42201],
  INVALID_VERSION: [422, 42202],
  INVALID_COMPATIBILITY_LEVEL: [422, 42203],
  INVALID_MODE: [422, 42204],
  OPERATION_NOT_PERMITTED: [422, 42205],
  ID_DOES_NOT_MATCH: [422, 42207],
  INVALID_SUBJECT: [422, 42208],
  SCHEMA_TOO_LARGE: [422, 42209],
  STORE_ERROR: [500, 50001],
  OPERATION_TIMEOUT: [500, 50002],
  NOT_FOUND: [404, 404],
  METHOD_NOT_ALLOWED: [405, 405],
  BAD_REQUEST: [400, 400],
  UNSUPPORTED_MEDIA_TYPE: [415, 415],
  PAYLOAD_TOO_LARGE: [413, 413],
  INVALID_CONFIG: [500, 50001],
  SERIALIZATION_FAILED: [500, 50001],
  UNKNOWN_MAGIC_BYTE: [500, 50001],
  REGISTRY_UNAVAILABLE: [500, 50001],
  REGISTRY_CLOSED: [500, 50001],
};

const RETRIABLE = new Set<RegistryErrorCode>(['STORE_ERROR', 'OPERATION_TIMEOUT', 'REGISTRY_UNAVAILABLE']);

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  /** The HTTP status this error is answered with. */
  readonly status: number;
  /** Confluent's numeric error code (`error_code` in the response body). */
  readonly errorCode: number;
  readonly retriable: boolean;

  constructor(code: RegistryErrorCode, message: string, opts: { cause?: unknown; errorCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    const [status, errorCode] = WIRE[code];
    this.status = status;
    this.errorCode = opts.errorCode ?? errorCode;
    this.retriable = RETRIABLE.has(code);
  }

  /** The body Confluent answers errors with. */
  toJSON(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

/** The error a status/error_code answered by a registry stands for (client side). */
export function errorFromResponse(status: number, body: unknown, what: string): RegistryError {
  const b = (body ?? {}) as { error_code?: unknown; message?: unknown };
  const errorCode = typeof b.error_code === 'number' ? b.error_code : status;
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  const code =
    (errorCode === 40901 ? 'INCOMPATIBLE_SCHEMA' : undefined) ?? // Confluent ≥ 8 answers 40901
    (Object.entries(WIRE).find(([, [, ec]]) => ec === errorCode)?.[0] as RegistryErrorCode | undefined) ??
    (status >= 500 ? 'REGISTRY_UNAVAILABLE' : 'BAD_REQUEST');
  return new RegistryError(code, `${what}: ${message} (error_code ${errorCode})`, { errorCode });
}

export const subjectNotFound = (subject: string): RegistryError =>
  new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
export const versionNotFound = (version: number | string): RegistryError =>
  new RegistryError('VERSION_NOT_FOUND', `Version ${version} not found.`);
export const schemaNotFound = (id?: number): RegistryError =>
  new RegistryError('SCHEMA_NOT_FOUND', id === undefined ? 'Schema not found' : `Schema ${id} not found`);
export const invalidVersion = (version: string): RegistryError =>
  new RegistryError(
    'INVALID_VERSION',
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
