/**
 * The registry's state, rebuilt from `_schemas` in log order by every instance. Pure: records in,
 * maps out, no I/O.
 *
 * Several registries write to the same topic without a leader, so two of them may race for the
 * same version of a subject, or the same id. Every instance settles such races the same way,
 * because they apply the same records in the same (log) order with the same rule: **a SCHEMA
 * record that contradicts what is already there is ignored** — a version already held by another
 * id or schema, or an id already meaning another schema. Its writer sees that its record lost
 * once it has read up to it, and tries again (see store.ts).
 */
import { type CompatibilityLevel, canonicalForm, isCompatibilityLevel } from './avro.js';
import {
  decodeJson,
  decodeSchemaValue,
  MODES,
  type Mode,
  type SchemaValue,
  type StoreKey,
} from './log-format.js';

export interface VersionEntry extends SchemaValue {
  readonly canonical: string;
}

interface IdEntry {
  readonly schema: string;
  readonly schemaType: string;
  readonly canonical: string;
  /** `subject\0version` of every version that has this id. */
  readonly users: Set<string>;
}

export class RegistryState {
  /** subject → version → entry (soft-deleted ones included, flagged). */
  readonly subjects = new Map<string, Map<number, VersionEntry>>();
  private readonly ids = new Map<number, IdEntry>();
  private readonly idByCanonical = new Map<string, number>();
  /** The highest id ever seen: new ids are above it (never reused while this instance runs). */
  maxId = 0;
  globalCompatibility: CompatibilityLevel | undefined;
  readonly subjectCompatibility = new Map<string, CompatibilityLevel>();
  globalMode: Mode | undefined;
  readonly subjectMode = new Map<string, Mode>();
  /** Records applied and ignored, for tests and diagnostics. */
  applied = 0;
  ignored = 0;

  /** Applies one record of the topic; returns false when it was ignored. */
  apply(key: StoreKey, value: Buffer | null): boolean {
    const ok = this.applyRecord(key, value);
    if (ok) this.applied++;
    else this.ignored++;
    return ok;
  }

  private applyRecord(key: StoreKey, value: Buffer | null): boolean {
    switch (key.keytype) {
      case 'SCHEMA': {
        if (value === null) {
          this.remove(key.subject, key.version);
          return true;
        }
        const v = decodeSchemaValue(value);
        if (!v || v.subject !== key.subject || v.version !== key.version) return false;
        return this.put(v);
      }
      case 'CONFIG': {
        const level = value === null ? undefined : decodeJson(value)?.compatibilityLevel;
        if (value !== null && !isCompatibilityLevel(level)) return false;
        if (key.subject === null) this.globalCompatibility = level as CompatibilityLevel | undefined;
        else if (level === undefined) this.subjectCompatibility.delete(key.subject);
        else this.subjectCompatibility.set(key.subject, level as CompatibilityLevel);
        return true;
      }
      case 'MODE': {
        const mode = value === null ? undefined : decodeJson(value)?.mode;
        if (value !== null && !(MODES as readonly unknown[]).includes(mode)) return false;
        if (key.subject === null) this.globalMode = mode as Mode | undefined;
        else if (mode === undefined) this.subjectMode.delete(key.subject);
        else this.subjectMode.set(key.subject, mode as Mode);
        return true;
      }
      case 'DELETE_SUBJECT': {
        const upTo = value === null ? undefined : decodeJson(value)?.version;
        if (typeof upTo !== 'number') return false;
        for (const e of this.subjects.get(key.subject)?.values() ?? []) {
          if (e.version <= upTo && !e.deleted) this.put({ ...e, deleted: true });
        }
        return true;
      }
      case 'CLEAR_SUBJECT': {
        for (const e of [...(this.subjects.get(key.subject)?.values() ?? [])]) {
          if (e.deleted) this.remove(e.subject, e.version);
        }
        return true;
      }
      case 'NOOP':
        return true;
    }
  }

  /** True when `v` would be accepted now (it contradicts nothing). */
  accepts(v: SchemaValue): boolean {
    const canonical = canonicalForm(v.schema, v.schemaType ?? 'AVRO');
    const existing = this.subjects.get(v.subject)?.get(v.version);
    if (existing && (existing.id !== v.id || existing.canonical !== canonical)) return false;
    const byId = this.ids.get(v.id);
    return !byId || byId.canonical === canonical;
  }

  private put(v: SchemaValue): boolean {
    if (!this.accepts(v)) return false;
    const canonical = canonicalForm(v.schema, v.schemaType ?? 'AVRO');
    let versions = this.subjects.get(v.subject);
    if (!versions) {
      versions = new Map();
      this.subjects.set(v.subject, versions);
    }
    const existing = versions.get(v.version);
    const entry: VersionEntry = { ...v, canonical, ...(existing ? { schema: existing.schema } : {}) };
    versions.set(v.version, entry);
    let id = this.ids.get(v.id);
    if (!id) {
      id = { schema: v.schema, schemaType: v.schemaType ?? 'AVRO', canonical, users: new Set() };
      this.ids.set(v.id, id);
      if (!this.idByCanonical.has(canonical)) this.idByCanonical.set(canonical, v.id);
    }
    id.users.add(`${v.subject}\0${v.version}`);
    if (v.id > this.maxId) this.maxId = v.id;
    return true;
  }

  private remove(subject: string, version: number): void {
    const versions = this.subjects.get(subject);
    const e = versions?.get(version);
    if (!versions || !e) return;
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    const id = this.ids.get(e.id);
    if (!id) return;
    id.users.delete(`${subject}\0${version}`);
    if (id.users.size === 0) {
      this.ids.delete(e.id);
      if (this.idByCanonical.get(id.canonical) === e.id) {
        this.idByCanonical.delete(id.canonical);
        // Another id may hold the same schema (two instances raced to register it): it takes over.
        for (const [other, o] of this.ids) {
          if (o.canonical === id.canonical) {
            this.idByCanonical.set(id.canonical, other);
            break;
          }
        }
      }
    }
  }

  schemaById(id: number): { schema: string; schemaType: string } | undefined {
    const e = this.ids.get(id);
    return e ? { schema: e.schema, schemaType: e.schemaType } : undefined;
  }

  /** The (subject, version) pairs that use `id`. */
  versionsOfId(id: number): VersionEntry[] {
    const e = this.ids.get(id);
    if (!e) return [];
    const out: VersionEntry[] = [];
    for (const u of e.users) {
      const [subject, version] = u.split('\0') as [string, string];
      const v = this.subjects.get(subject)?.get(Number(version));
      if (v) out.push(v);
    }
    return out.sort((a, b) =>
      a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version,
    );
  }

  idOfCanonical(canonical: string): number | undefined {
    return this.idByCanonical.get(canonical);
  }

  /** A subject's versions in order, soft-deleted ones only when asked. */
  versions(subject: string, includeDeleted: boolean): VersionEntry[] {
    const all = [...(this.subjects.get(subject)?.values() ?? [])].sort((a, b) => a.version - b.version);
    return includeDeleted ? all : all.filter((e) => !e.deleted);
  }

  /** Every id in use, ascending. */
  allIds(): number[] {
    return [...this.ids.keys()].sort((a, b) => a - b);
  }
}
