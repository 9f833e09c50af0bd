/**
 * The registry's operations, as Confluent Schema Registry defines them, over a {@link SchemaStore}.
 * The HTTP layer (server.ts) maps paths to these; in-process users may call them directly.
 */
import type avro from 'avsc';
import {
  type CompatibilityLevel,
  compatibilityErrors,
  isCompatibilityLevel,
  type PreviousSchema,
  parseAvroSchema,
} from './avro.js';
import { invalidVersion, RegistryError, schemaNotFound, subjectNotFound, versionNotFound } from './errors.js';
import { encodeJson, encodeSchemaValue, MODES, type Mode, type SchemaValue } from './log-format.js';
import type { VersionEntry } from './state.js';
import type { SchemaStore, StoreRecord } from './store.js';

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';
export const DEFAULT_MODE: Mode = 'READWRITE';
/** Largest schema text accepted (42209 beyond). */
export const DEFAULT_MAX_SCHEMA_BYTES = 512 * 1024;
const MAX_WRITE_ATTEMPTS = 30;
/** Upper bound of the random pause after losing a race, times the attempt number. */
const RACE_BACKOFF_MS = 5;
const MAX_VERSION = 2 ** 31 - 1;

export interface SchemaRequest {
  schema: string;
  schemaType?: string;
  references?: readonly unknown[];
  /** IMPORT mode only: the id and version to register under. */
  id?: number;
  version?: number;
}

/** A version of a subject as the API answers it (`schemaType` omitted for Avro). */
export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schemaType?: string;
  schema: string;
}

export interface CompatibilityResult {
  is_compatible: boolean;
  messages?: string[];
}

export interface RegistryOptions {
  maxSchemaBytes?: number;
  /** Parsed schemas kept for compatibility checks. Default 1000. */
  schemaCacheSize?: number;
}

function view(e: VersionEntry): SubjectVersion {
  return {
    subject: e.subject,
    version: e.version,
    id: e.id,
    ...(e.schemaType !== undefined ? { schemaType: e.schemaType } : {}),
    schema: e.schema,
  };
}

/** A version path segment: 1..2^31-1, `latest` or -1; throws 42202 otherwise. */
export function parseVersion(text: string): number | 'latest' {
  if (text === 'latest' || text === '-1') return 'latest';
  if (!/^\d{1,10}$/.test(text)) throw invalidVersion(text);
  const n = Number(text);
  if (n < 1 || n > MAX_VERSION) throw invalidVersion(text);
  return n;
}

export function validateSubject(subject: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (subject.length === 0 || subject.length > 4096 || /[\u0000-\u001f]/.test(subject)) {
    throw new RegistryError('INVALID_SUBJECT', `The specified subject '${subject}' is not a valid subject.`);
  }
}

export class SchemaRegistry {
  private readonly maxSchemaBytes: number;
  private readonly parsed = new Map<string, avro.Type>();
  private readonly cacheSize: number;

  constructor(
    readonly store: SchemaStore,
    opts: RegistryOptions = {},
  ) {
    this.maxSchemaBytes = opts.maxSchemaBytes ?? DEFAULT_MAX_SCHEMA_BYTES;
    this.cacheSize = opts.schemaCacheSize ?? 1000;
  }

  private get state() {
    return this.store.state;
  }

  /** Parses a schema of a request: type, size and Avro validity. */
  private parse(req: SchemaRequest): ReturnType<typeof parseAvroSchema> {
    const type = req.schemaType ?? 'AVRO';
    if (type !== 'AVRO') {
      throw new RegistryError(
        'INVALID_SCHEMA',
        `Invalid schema type ${type}: this registry supports AVRO only`,
      );
    }
    if (typeof req.schema !== 'string' || req.schema.length === 0) {
      throw new RegistryError('INVALID_SCHEMA', 'Empty schema');
    }
    if (Buffer.byteLength(req.schema, 'utf8') > this.maxSchemaBytes) {
      throw new RegistryError(
        'SCHEMA_TOO_LARGE',
        `Schema of ${Buffer.byteLength(req.schema, 'utf8')} bytes exceeds the limit of ${this.maxSchemaBytes} bytes`,
      );
    }
    if (req.references !== undefined && req.references.length > 0) {
      throw new RegistryError('INVALID_SCHEMA', 'Invalid schema: schema references are not supported');
    }
    return parseAvroSchema(req.schema);
  }

  /** A stored schema's avsc type (cached; stored schemas were validated when registered). */
  private typeOf(e: VersionEntry): avro.Type | undefined {
    let t = this.parsed.get(e.canonical);
    if (!t) {
      try {
        t = parseAvroSchema(e.schema).type;
      } catch {
        return undefined;
      }
      if (this.parsed.size >= this.cacheSize) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(e.canonical, t);
    }
    return t;
  }

  private previous(subject: string): PreviousSchema[] {
    const out: PreviousSchema[] = [];
    for (const e of this.state.versions(subject, false)) {
      if ((e.schemaType ?? 'AVRO') !== 'AVRO') continue;
      const type = this.typeOf(e);
      if (type) out.push({ version: e.version, text: e.schema, type });
    }
    return out;
  }

  compatibilityLevel(subject?: string): CompatibilityLevel {
    return (
      (subject !== undefined ? this.state.subjectCompatibility.get(subject) : undefined) ??
      this.state.globalCompatibility ??
      DEFAULT_COMPATIBILITY
    );
  }

  mode(subject?: string): Mode {
    return (
      (subject !== undefined ? this.state.subjectMode.get(subject) : undefined) ??
      this.state.globalMode ??
      DEFAULT_MODE
    );
  }

  private checkWritable(subject: string): void {
    const m = this.mode(subject);
    if (m === 'READONLY' || m === 'READONLY_OVERRIDE') {
      throw new RegistryError('OPERATION_NOT_PERMITTED', `Subject ${subject} is in read-only mode`);
    }
  }

  // --- subjects and versions -------------------------------------------------------------------

  /** POST /subjects/{s}/versions: the id of `req` under `subject`, registering it if new. */
  async register(subject: string, req: SchemaRequest): Promise<{ id: number }> {
    validateSubject(subject);
    const parsed = this.parse(req);
    if (req.id !== undefined && (!Number.isInteger(req.id) || req.id < 1)) {
      throw new RegistryError('INVALID_SCHEMA', `Invalid id ${req.id}`);
    }
    if (
      req.version !== undefined &&
      (!Number.isInteger(req.version) || req.version < 1 || req.version > MAX_VERSION)
    ) {
      throw invalidVersion(String(req.version));
    }
    return this.store.exclusive(async () => {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        await this.store.sync();
        const mode = this.mode(subject);
        this.checkWritable(subject);
        if (req.id !== undefined && mode !== 'IMPORT') {
          throw new RegistryError('OPERATION_NOT_PERMITTED', `Subject ${subject} is not in import mode`);
        }
        const live = this.state.versions(subject, false);
        const same = live.find((e) => e.canonical === parsed.canonical);
        if (same) {
          if (req.id !== undefined && req.id !== same.id) {
            throw new RegistryError(
              'ID_DOES_NOT_MATCH',
              `Schema already registered with id ${same.id} instead of input id ${req.id}`,
            );
          }
          return { id: same.id };
        }
        if (mode !== 'IMPORT') {
          const messages = compatibilityErrors(
            this.compatibilityLevel(subject),
            parsed.type,
            this.previous(subject),
          );
          if (messages.length > 0) {
            throw new RegistryError(
              'INCOMPATIBLE_SCHEMA',
              `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`,
            );
          }
        }
        let id = req.id ?? this.state.idOfCanonical(parsed.canonical) ?? this.state.maxId + 1;
        if (req.id !== undefined) {
          const existing = this.state.versionsOfId(req.id)[0];
          if (existing && existing.canonical !== parsed.canonical) {
            throw new RegistryError(
              'ID_DOES_NOT_MATCH',
              `Overwrite new schema with id ${req.id} is not permitted.`,
            );
          }
          id = req.id;
        }
        const all = this.state.versions(subject, true);
        const version = req.version ?? (all.length > 0 ? all[all.length - 1]!.version + 1 : 1);
        const value: SchemaValue = { subject, version, id, schema: parsed.text, deleted: false };
        const taken = this.state.subjects.get(subject)?.get(version);
        if (taken && req.version !== undefined && taken.canonical !== parsed.canonical) {
          throw new RegistryError(
            'OPERATION_NOT_PERMITTED',
            `Version ${version} of subject ${subject} is taken`,
          );
        }
        await this.store.append([
          { key: { keytype: 'SCHEMA', subject, version }, value: encodeSchemaValue(value) },
        ]);
        const now = this.state.subjects.get(subject)?.get(version);
        if (now && now.id === id && now.canonical === parsed.canonical && !now.deleted) return { id };
        // Another instance won the race for this version or id: put the winner back as the newest
        // record of the key (so compaction keeps it, not ours), then try again.
        if (now) {
          await this.store.append([
            { key: { keytype: 'SCHEMA', subject, version }, value: encodeSchemaValue(now) },
          ]);
        }
        // A random pause, so that the same instances do not collide again and again.
        await new Promise((r) => setTimeout(r, Math.random() * RACE_BACKOFF_MS * (attempt + 1)));
      }
      throw new RegistryError(
        'STORE_ERROR',
        `Could not register under ${subject}: too many concurrent writes`,
      );
    });
  }

  /** POST /subjects/{s}: the version of `subject` holding this schema. */
  async lookup(subject: string, req: SchemaRequest, includeDeleted = false): Promise<SubjectVersion> {
    const parsed = this.parse(req);
    await this.store.sync();
    const versions = this.state.versions(subject, includeDeleted);
    if (versions.length === 0) throw subjectNotFound(subject);
    const hit = versions.filter((e) => e.canonical === parsed.canonical).pop();
    if (!hit) throw schemaNotFound();
    return view(hit);
  }

  async subjects(
    opts: { prefix?: string; deleted?: boolean; deletedOnly?: boolean } = {},
  ): Promise<string[]> {
    await this.store.sync();
    const out: string[] = [];
    for (const subject of this.state.subjects.keys()) {
      if (opts.prefix && !subject.startsWith(opts.prefix)) continue;
      const all = this.state.versions(subject, true);
      const anyLive = all.some((e) => !e.deleted);
      const anyDeleted = all.some((e) => e.deleted);
      if (opts.deletedOnly ? anyDeleted && !anyLive : anyLive || (opts.deleted && anyDeleted))
        out.push(subject);
    }
    return out.sort();
  }

  async versions(
    subject: string,
    opts: { deleted?: boolean; deletedOnly?: boolean } = {},
  ): Promise<number[]> {
    await this.store.sync();
    const all = this.state.versions(subject, true);
    if (all.length === 0) throw subjectNotFound(subject);
    if (opts.deletedOnly) return all.filter((e) => e.deleted).map((e) => e.version);
    const picked = all.filter((e) => opts.deleted || !e.deleted);
    if (picked.length === 0) throw subjectNotFound(subject);
    return picked.map((e) => e.version);
  }

  private entry(subject: string, version: number | 'latest', includeDeleted: boolean): VersionEntry {
    const all = this.state.versions(subject, true);
    if (!all.some((e) => includeDeleted || !e.deleted)) throw subjectNotFound(subject);
    const candidates = includeDeleted ? all : all.filter((e) => !e.deleted);
    const e =
      version === 'latest'
        ? candidates[candidates.length - 1]
        : candidates.find((c) => c.version === version);
    if (!e) throw versionNotFound(version === 'latest' ? 'latest' : version);
    return e;
  }

  async version(
    subject: string,
    version: number | 'latest',
    includeDeleted = false,
  ): Promise<SubjectVersion> {
    await this.store.sync();
    return view(this.entry(subject, version, includeDeleted));
  }

  /** DELETE /subjects/{s}: soft (or, after a soft delete, permanent) deletion of every version. */
  async deleteSubject(subject: string, permanent = false): Promise<number[]> {
    return this.store.exclusive(async () => {
      await this.store.sync();
      this.checkWritable(subject);
      const all = this.state.versions(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const live = all.filter((e) => !e.deleted);
      if (permanent) {
        if (live.length > 0) {
          throw new RegistryError(
            'SUBJECT_NOT_SOFT_DELETED',
            `Subject '${subject}' was not deleted first before being permanently deleted`,
          );
        }
        await this.store.append(
          all.map((e) => ({ key: { keytype: 'SCHEMA' as const, subject, version: e.version }, value: null })),
        );
        return all.map((e) => e.version);
      }
      if (live.length === 0) {
        throw new RegistryError(
          'SUBJECT_SOFT_DELETED',
          `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`,
        );
      }
      const records: StoreRecord[] = live.map((e) => ({
        key: { keytype: 'SCHEMA', subject, version: e.version },
        value: encodeSchemaValue({ ...e, deleted: true }),
      }));
      // Confluent drops a deleted subject's own compatibility and mode settings too.
      if (this.state.subjectCompatibility.has(subject))
        records.push({ key: { keytype: 'CONFIG', subject }, value: null });
      if (this.state.subjectMode.has(subject))
        records.push({ key: { keytype: 'MODE', subject }, value: null });
      await this.store.append(records);
      return live.map((e) => e.version);
    });
  }

  /** DELETE /subjects/{s}/versions/{v}. */
  async deleteVersion(subject: string, version: number | 'latest', permanent = false): Promise<number> {
    return this.store.exclusive(async () => {
      await this.store.sync();
      this.checkWritable(subject);
      const all = this.state.versions(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const e =
        version === 'latest'
          ? (permanent ? all : all.filter((x) => !x.deleted)).pop()
          : all.find((x) => x.version === version);
      if (!e) throw versionNotFound(version);
      const key = { keytype: 'SCHEMA' as const, subject, version: e.version };
      if (permanent) {
        if (!e.deleted) {
          throw new RegistryError(
            'VERSION_NOT_SOFT_DELETED',
            `Subject '${subject}' Version ${e.version} was not deleted first before being permanently deleted`,
          );
        }
        await this.store.append([{ key, value: null }]);
      } else {
        if (e.deleted) {
          throw new RegistryError(
            'VERSION_SOFT_DELETED',
            `Subject '${subject}' Version ${e.version} was soft deleted.Set permanent=true to delete permanently`,
          );
        }
        await this.store.append([{ key, value: encodeSchemaValue({ ...e, deleted: true }) }]);
      }
      return e.version;
    });
  }

  // --- schemas by id ---------------------------------------------------------------------------

  /** GET /schemas/ids/{id}. Ids never change meaning, so a known id needs no read of the topic. */
  async schemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    let s = this.state.schemaById(id);
    if (!s) {
      await this.store.sync();
      s = this.state.schemaById(id);
    }
    if (!s) throw schemaNotFound(id);
    return s;
  }

  async versionsOfId(id: number, includeDeleted = false): Promise<{ subject: string; version: number }[]> {
    await this.store.sync();
    if (!this.state.schemaById(id)) throw schemaNotFound(id);
    return this.state
      .versionsOfId(id)
      .filter((e) => includeDeleted || !e.deleted)
      .map((e) => ({ subject: e.subject, version: e.version }));
  }

  async schemas(
    opts: { prefix?: string; deleted?: boolean; latestOnly?: boolean } = {},
  ): Promise<SubjectVersion[]> {
    await this.store.sync();
    const out: SubjectVersion[] = [];
    for (const subject of [...this.state.subjects.keys()].sort()) {
      if (opts.prefix && !subject.startsWith(opts.prefix)) continue;
      const versions = this.state.versions(subject, opts.deleted === true);
      for (const e of opts.latestOnly ? versions.slice(-1) : versions) out.push(view(e));
    }
    return out;
  }

  // --- compatibility ---------------------------------------------------------------------------

  /**
   * POST /compatibility/subjects/{s}/versions[/{v}]: whether `req` could be registered, against
   * one version (with the subject's level, non-transitively) or, without `version`, against what
   * the subject's level says.
   */
  async testCompatibility(
    subject: string,
    version: number | 'latest' | undefined,
    req: SchemaRequest,
    verbose = false,
  ): Promise<CompatibilityResult> {
    const parsed = this.parse(req);
    await this.store.sync();
    const level = this.compatibilityLevel(subject);
    let against: PreviousSchema[];
    if (version === undefined) {
      against = this.previous(subject);
    } else {
      const all = this.state.versions(subject, false);
      if (all.length === 0) {
        if (version === 'latest')
          return verbose ? { is_compatible: true, messages: [] } : { is_compatible: true };
        throw subjectNotFound(subject);
      }
      const e = this.entry(subject, version, false);
      const type = this.typeOf(e);
      against = type ? [{ version: e.version, text: e.schema, type }] : [];
    }
    const messages = compatibilityErrors(level, parsed.type, against);
    return verbose
      ? { is_compatible: messages.length === 0, messages }
      : { is_compatible: messages.length === 0 };
  }

  // --- config and mode -------------------------------------------------------------------------

  /** GET /config[/{s}]. */
  async getConfig(
    subject?: string,
    defaultToGlobal = false,
  ): Promise<{ compatibilityLevel: CompatibilityLevel }> {
    await this.store.sync();
    if (subject !== undefined && !defaultToGlobal) {
      const level = this.state.subjectCompatibility.get(subject);
      if (!level) {
        throw new RegistryError(
          'SUBJECT_COMPATIBILITY_NOT_CONFIGURED',
          `Subject '${subject}' does not have subject-level compatibility configured`,
        );
      }
      return { compatibilityLevel: level };
    }
    return { compatibilityLevel: this.compatibilityLevel(subject) };
  }

  /** PUT /config[/{s}]. */
  async setConfig(
    subject: string | undefined,
    level: unknown,
  ): Promise<{ compatibility: CompatibilityLevel }> {
    const upper = typeof level === 'string' ? level.toUpperCase() : level;
    if (!isCompatibilityLevel(upper)) {
      throw new RegistryError(
        'INVALID_COMPATIBILITY_LEVEL',
        'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
      );
    }
    if (subject !== undefined) validateSubject(subject);
    return this.store.exclusive(async () => {
      await this.store.append([
        {
          key: { keytype: 'CONFIG', subject: subject ?? null },
          value: encodeJson({ compatibilityLevel: upper }),
        },
      ]);
      return { compatibility: upper };
    });
  }

  /** DELETE /config[/{s}]: back to the global (or default) level; answers the level removed. */
  async deleteConfig(subject?: string): Promise<{ compatibilityLevel: CompatibilityLevel }> {
    return this.store.exclusive(async () => {
      await this.store.sync();
      const before = this.compatibilityLevel(subject);
      if (subject !== undefined && !this.state.subjectCompatibility.has(subject)) {
        if (this.state.versions(subject, true).length === 0) throw subjectNotFound(subject);
        return { compatibilityLevel: before };
      }
      await this.store.append([{ key: { keytype: 'CONFIG', subject: subject ?? null }, value: null }]);
      return { compatibilityLevel: before };
    });
  }

  /** GET /mode[/{s}]. */
  async getMode(subject?: string, defaultToGlobal = false): Promise<{ mode: Mode }> {
    await this.store.sync();
    if (subject !== undefined && !defaultToGlobal) {
      const m = this.state.subjectMode.get(subject);
      if (!m) {
        throw new RegistryError(
          'SUBJECT_MODE_NOT_CONFIGURED',
          `Subject '${subject}' does not have subject-level mode configured`,
        );
      }
      return { mode: m };
    }
    return { mode: this.mode(subject) };
  }

  /** PUT /mode[/{s}]. IMPORT needs an empty registry (or subject) unless `force`. */
  async setMode(subject: string | undefined, mode: unknown, force = false): Promise<{ mode: Mode }> {
    const upper = typeof mode === 'string' ? mode.toUpperCase() : mode;
    if (!(MODES as readonly unknown[]).includes(upper)) {
      throw new RegistryError(
        'INVALID_MODE',
        'Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.',
      );
    }
    if (subject !== undefined) validateSubject(subject);
    return this.store.exclusive(async () => {
      await this.store.sync();
      if (upper === 'IMPORT' && !force) {
        const nonEmpty =
          subject === undefined
            ? [...this.state.subjects.keys()].some((s) => this.state.versions(s, false).length > 0)
            : this.state.versions(subject, false).length > 0;
        if (nonEmpty) {
          throw new RegistryError('OPERATION_NOT_PERMITTED', 'Cannot import since found existing subjects');
        }
      }
      await this.store.append([
        { key: { keytype: 'MODE', subject: subject ?? null }, value: encodeJson({ mode: upper }) },
      ]);
      return { mode: upper as Mode };
    });
  }

  /** DELETE /mode/{s}. */
  async deleteMode(subject: string): Promise<{ mode: Mode }> {
    return this.store.exclusive(async () => {
      await this.store.sync();
      const before = this.mode(subject);
      if (!this.state.subjectMode.has(subject)) throw subjectNotFound(subject);
      await this.store.append([{ key: { keytype: 'MODE', subject }, value: null }]);
      return { mode: before };
    });
  }
}
