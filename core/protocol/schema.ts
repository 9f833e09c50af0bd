/**
 * The schema language: one declarative description per message, from which TypeScript infers
 * the data type and the runtime compiles one decoder and one encoder per (message, version).
 *
 * It mirrors Kafka's message JSON (clients/src/main/resources/common/message/*.json):
 *
 * ```ts
 * export const ProduceRequest = request({
 *   apiKey: 0, api: 'Produce', validVersions: '0-11', flexibleVersions: '9+',
 *   fields: {
 *     transactionalId: t.string('3+', { nullableVersions: '3+', default: null }),
 *     acks: t.int16('0+'),
 *     topicData: t.array('0+', {
 *       name: t.string('0+'),
 *       partitionData: t.array('0+', { index: t.int32('0+'), records: t.records('0+', { nullableVersions: '0+' }) }),
 *     }),
 *   },
 * });
 * type ProduceRequestData = Infer<typeof ProduceRequest>;
 * ```
 *
 * Semantics follow Kafka's generated code:
 * - A field absent from a version decodes to its default: `default` if given, otherwise 0,
 *   false, '', an empty Buffer, [], the ZERO_UUID, null for records, or a struct of defaults.
 *   Encoding a value into a version without the field ignores it.
 * - Flexible versions (KIP-482) use compact strings/bytes/arrays and end every struct with a
 *   tagged-field section. Tagged fields are written only when they differ from their default.
 *   Unknown tags are skipped on read and kept raw under {@link unknownTaggedFields} (non-enumerable), from
 *   where the encoder writes them back.
 * - `records` are RecordBatch bytes we never parse here: decoded as a zero-copy slice of the
 *   input, encoded from a Buffer or a list of Buffers, which large responses pass on to the
 *   socket without copying (Writer.toChunks()).
 * - Input objects (what encoders take) may omit any field; a missing field is its default.
 *
 * The compiler and `encodeMessage`/`decodeMessage` are in codec.ts (re-exported here).
 */
export {
  checkVersion,
  decodeMessage,
  defaults,
  encodeMessage,
  getUnknownTaggedFields,
  inVersions,
  isFlexible,
  parseVersions,
  unknownTaggedFields,
  type VersionRange,
} from './codec.js';

// ---------------------------------------------------------------------------------------------
// Declarations

export type ScalarType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint16'
  | 'uint32'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

/** The decoded TypeScript type of each scalar. */
export interface ScalarValues {
  int8: number;
  int16: number;
  int32: number;
  int64: number;
  uint16: number;
  uint32: number;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Buffer;
  records: Buffer;
  uuid: string;
}

/** What encoders accept for each scalar. */
export interface ScalarInputs extends Omit<ScalarValues, 'bytes' | 'records'> {
  bytes: Uint8Array;
  /** One Buffer, or the chunks of one, sent without copying when large. */
  records: Uint8Array | readonly Uint8Array[];
}

export interface FieldOptions<D> {
  /** Versions in which the field may be null ("0+", "3-5", "none"). */
  readonly nullableVersions?: string;
  /** Versions in which the field is a tagged field; `tag` is then required. */
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** Kafka's `ignorable`: documentation only here (we always ignore). */
  readonly ignorable?: boolean;
  /** 'none' for a field that keeps its classic encoding in flexible versions. */
  readonly flexibleVersions?: string;
  readonly default?: D;
}

interface FieldBase<N extends boolean> extends FieldOptions<unknown> {
  readonly versions: string;
  /** Type-level only: whether the field is nullable in some version. */
  readonly __nullable?: N;
}

export interface ScalarField<T extends ScalarType = ScalarType, N extends boolean = boolean>
  extends FieldBase<N> {
  readonly kind: 'scalar';
  readonly type: T;
}

export interface ArrayField<E extends ElementType = ElementType, N extends boolean = boolean>
  extends FieldBase<N> {
  readonly kind: 'array';
  readonly items: E;
}

export interface StructField<F extends Fields = Fields, N extends boolean = boolean> extends FieldBase<N> {
  readonly kind: 'struct';
  readonly fields: F;
}

export type Field = ScalarField | ArrayField | StructField;
/** An array holds scalars or structs (given inline as their fields). */
export type ElementType = ScalarType | Fields;
export interface Fields {
  readonly [name: string]: Field;
}

export interface MessageSchema<F extends Fields = Fields> {
  readonly type: 'request' | 'response';
  readonly apiKey: number;
  /** The API's name, e.g. 'Produce'. */
  readonly api: string;
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: F;
}

type NullableOf<O> = O extends { nullableVersions: string } ? true : false;
type NoOptions = Record<never, never>;

function scalar<T extends ScalarType>(type: T) {
  return <O extends FieldOptions<ScalarValues[T] | null> = NoOptions>(
    versions: string,
    options?: O,
  ): ScalarField<T, NullableOf<O>> =>
    ({ ...options, kind: 'scalar', type, versions }) as ScalarField<T, NullableOf<O>>;
}

/** Field combinators, named after Kafka's JSON types. */
export const t = {
  int8: scalar('int8'),
  int16: scalar('int16'),
  int32: scalar('int32'),
  int64: scalar('int64'),
  uint16: scalar('uint16'),
  uint32: scalar('uint32'),
  float64: scalar('float64'),
  bool: scalar('bool'),
  string: scalar('string'),
  bytes: scalar('bytes'),
  records: scalar('records'),
  uuid: scalar('uuid'),
  /** `[]T`: `t.array('0+', 'int32')` or `t.array('0+', { ...struct fields })`. */
  array<E extends ElementType, O extends FieldOptions<null> = NoOptions>(
    versions: string,
    items: E,
    options?: O,
  ): ArrayField<E, NullableOf<O>> {
    return { ...options, kind: 'array', items, versions } as ArrayField<E, NullableOf<O>>;
  },
  /** A nested struct field. */
  struct<F extends Fields, O extends FieldOptions<null> = NoOptions>(
    versions: string,
    fields: F,
    options?: O,
  ): StructField<F, NullableOf<O>> {
    return { ...options, kind: 'struct', fields, versions } as StructField<F, NullableOf<O>>;
  },
};

interface MessageDefinition<F extends Fields> {
  readonly apiKey: number;
  readonly api: string;
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: F;
}

export function request<F extends Fields>(def: MessageDefinition<F>): MessageSchema<F> {
  return { type: 'request', ...def };
}

export function response<F extends Fields>(def: MessageDefinition<F>): MessageSchema<F> {
  return { type: 'response', ...def };
}

// ---------------------------------------------------------------------------------------------
// Inferred types

type OrNull<T, N> = N extends true ? T | null : T;

type ValueOf<F> =
  F extends ScalarField<infer T, infer N>
    ? OrNull<ScalarValues[T], N>
    : F extends ArrayField<infer E, infer N>
      ? OrNull<ElementValue<E>[], N>
      : F extends StructField<infer S, infer N>
        ? OrNull<Data<S>, N>
        : never;

type ElementValue<E> = E extends ScalarType ? ScalarValues[E] : E extends Fields ? Data<E> : never;

/** The decoded data of a struct. */
export type Data<F extends Fields> = { -readonly [K in keyof F]: ValueOf<F[K]> };

type InputValueOf<F> =
  F extends ScalarField<infer T, infer N>
    ? OrNull<ScalarInputs[T], N>
    : F extends ArrayField<infer E, infer N>
      ? OrNull<readonly InputElement<E>[], N>
      : F extends StructField<infer S, infer N>
        ? OrNull<Input<S>, N>
        : never;

type InputElement<E> = E extends ScalarType ? ScalarInputs[E] : E extends Fields ? Input<E> : never;

/** What an encoder takes for a struct: any field may be left out (it is then its default). */
export type Input<F extends Fields> = { readonly [K in keyof F]?: InputValueOf<F[K]> };

/** The decoded data type of a message: `Infer<typeof ProduceRequest>`. */
export type Infer<M extends MessageSchema> = M extends MessageSchema<infer F> ? Data<F> : never;
/** The encoder input type of a message. */
export type InferInput<M extends MessageSchema> = M extends MessageSchema<infer F> ? Input<F> : never;
