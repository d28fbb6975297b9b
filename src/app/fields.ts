// Typed reads of fields from parsed JSON config objects. A field of the wrong type is reported
// (file + field path) and replaced by its documented default, so one bad field never drops a whole file.
import { fieldPath, type ProblemList } from './problems';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Sets a key taken from user input; `__proto__` and friends become plain own properties. */
export function putOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export class FieldReader {
  constructor(
    readonly obj: JsonObject,
    private readonly problems: ProblemList,
    readonly file: string,
    /** Path of `obj` inside the file, e.g. `[3]` or `` for the top level. */
    readonly prefix: string,
  ) {}

  path(key: string): string {
    return fieldPath(this.prefix, key);
  }

  has(key: string): boolean {
    return hasOwn(this.obj, key) && this.obj[key] !== undefined && this.obj[key] !== null;
  }

  string(key: string, fallback = ''): string {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v === 'string') return v;
    this.problems.error(this.file, this.path(key), `must be a string, got ${describeType(v)}; using ${JSON.stringify(fallback)}`);
    return fallback;
  }

  bool(key: string, fallback = false): boolean {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') {
      this.problems.warning(this.file, this.path(key), `should be a boolean, got the string "${v}"; read as ${v}`);
      return v === 'true';
    }
    this.problems.error(this.file, this.path(key), `must be a boolean, got ${describeType(v)}; using ${fallback}`);
    return fallback;
  }

  object(key: string): JsonObject {
    if (!this.has(key)) return {};
    const v = this.obj[key];
    if (isObject(v)) return v;
    this.problems.error(this.file, this.path(key), `must be an object, got ${describeType(v)}; ignored`);
    return {};
  }

  array(key: string): unknown[] {
    if (!this.has(key)) return [];
    const v = this.obj[key];
    if (Array.isArray(v)) return v;
    this.problems.error(this.file, this.path(key), `must be an array, got ${describeType(v)}; ignored`);
    return [];
  }

  stringArray(key: string): string[] {
    const out: string[] = [];
    this.array(key).forEach((v, i) => {
      if (typeof v === 'string') out.push(v);
      else this.problems.error(this.file, fieldPath(this.path(key), i), `must be a string, got ${describeType(v)}; ignored`);
    });
    return out;
  }

  /**
   * A rule expression (§12.3): an object, or true/false. `true` is `{}`; `false` becomes an expression that
   * never holds (`{"%%true": false}`), so consumers only ever see objects.
   */
  expression(key: string): JsonObject {
    if (!this.has(key)) return {};
    const v = this.obj[key];
    if (isObject(v)) return v;
    if (v === true) return {};
    if (v === false) return { '%%true': false };
    this.problems.error(this.file, this.path(key), `must be a rule expression (object or boolean), got ${describeType(v)}; nothing is allowed`);
    return { '%%true': false };
  }
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
