// MongoDB's total order over BSON values (used for $gt/$lt/$eq on documents, sort and distinct) and the
// dotted-path lookup MongoDB uses for sort keys and index keys (arrays are traversed, their elements counted).
import { badValue } from '../errors';
import { bsonTypeTag, isPlainObject, KIND_RANK, kindOf } from './kinds';
import { compareNumeric } from './numeric';

/** Code point order (= UTF-8 byte order, what MongoDB uses), not JS's UTF-16 code unit order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate (code point >= U+10000) sorts after any BMP code unit >= U+E000.
    if (xs !== ys && (xs ? y >= 0xe000 : x >= 0xe000)) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function binaryBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position: number };
  return b.buffer.subarray(0, b.position);
}

export function binarySubtype(v: unknown): number {
  return v instanceof Uint8Array ? 0 : (v as { sub_type: number }).sub_type;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function stringOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (bsonTypeTag(v as object) === 'BSONSymbol') return String((v as { value: unknown }).value);
  return String(v);
}

function regexParts(v: unknown): [string, string] {
  if (bsonTypeTag(v as object) === 'BSONRegExp') {
    const r = v as { pattern: string; options: string };
    return [r.pattern, r.options];
  }
  const r = v as RegExp;
  return [r.source, r.flags];
}

/** Own enumerable fields of a sub-document (DBRef as {$ref, $id, $db}). */
export function documentEntries(v: unknown): Array<[string, unknown]> {
  if (bsonTypeTag(v as object) === 'DBRef') {
    const r = v as { collection: string; oid: unknown; db?: string; fields?: Record<string, unknown> };
    const out: Array<[string, unknown]> = [
      ['$ref', r.collection],
      ['$id', r.oid],
    ];
    if (r.db) out.push(['$db', r.db]);
    for (const k of Object.keys(r.fields ?? {})) out.push([k, r.fields![k]]);
    return out;
  }
  const o = v as Record<string, unknown>;
  const out: Array<[string, unknown]> = [];
  for (const k of Object.keys(o)) if (o[k] !== undefined) out.push([k, o[k]]);
  return out;
}

export function compareBson(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return KIND_RANK[ka] < KIND_RANK[kb] ? -1 : 1;
  switch (ka) {
    case 'null':
    case 'minKey':
    case 'maxKey':
      return 0;
    case 'number':
      return compareNumeric(a, b);
    case 'string':
      return compareStrings(stringOf(a), stringOf(b));
    case 'bool':
      return a === b ? 0 : a ? 1 : -1;
    case 'date': {
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'objectId':
      return compareBytes((a as { id: Uint8Array }).id, (b as { id: Uint8Array }).id);
    case 'binary': {
      const x = binaryBytes(a);
      const y = binaryBytes(b);
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      const sx = binarySubtype(a);
      const sy = binarySubtype(b);
      if (sx !== sy) return sx < sy ? -1 : 1;
      return compareBytes(x, y);
    }
    case 'timestamp': {
      const x = a as { t: number; i: number };
      const y = b as { t: number; i: number };
      if (x.t !== y.t) return x.t < y.t ? -1 : 1;
      return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
    }
    case 'regex': {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    case 'code':
      return compareStrings(String((a as { code: unknown }).code), String((b as { code: unknown }).code));
    case 'array': {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareBson(x[i], y[i]);
        if (c) return c;
      }
      return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
    }
    case 'object': {
      // MongoDB: pair by pair in stored order; value type first, then field name, then value.
      const x = documentEntries(a);
      const y = documentEntries(b);
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const ra = KIND_RANK[kindOf(x[i][1])];
        const rb = KIND_RANK[kindOf(y[i][1])];
        if (ra !== rb) return ra < rb ? -1 : 1;
        const c = compareStrings(x[i][0], y[i][0]) || compareBson(x[i][1], y[i][1]);
        if (c) return c;
      }
      return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
    }
  }
}

export function bsonEquals(a: unknown, b: unknown): boolean {
  return compareBson(a, b) === 0;
}

/** Marks an empty array reached at the end of a path (MongoDB sorts it before null). */
export const EMPTY_ARRAY = Symbol('empty array');

export interface PathValues {
  values: unknown[];
  /** True when an array was traversed or expanded on the way (the index becomes multikey). */
  viaArray: boolean;
}

/**
 * Every value a dotted path reaches, MongoDB-style: arrays met on the way are traversed (numeric parts index
 * into them), an array at the end contributes its elements (an empty one: EMPTY_ARRAY), a missing field
 * contributes undefined once.
 */
export function valuesAtPath(doc: unknown, parts: readonly string[]): PathValues {
  const out: PathValues = { values: [], viaArray: false };
  collect(doc, parts, 0, out);
  if (out.values.length === 0) out.values.push(undefined);
  return out;
}

function collect(v: unknown, parts: readonly string[], i: number, out: PathValues): void {
  if (i === parts.length) {
    if (Array.isArray(v)) {
      out.viaArray = true;
      if (v.length === 0) out.values.push(EMPTY_ARRAY);
      else for (const e of v) out.values.push(e);
    } else {
      out.values.push(v);
    }
    return;
  }
  if (Array.isArray(v)) {
    out.viaArray = true;
    const part = parts[i];
    if (/^\d+$/.test(part)) {
      const idx = Number(part);
      if (idx < v.length) collect(v[idx], parts, i + 1, out);
      return;
    }
    for (const e of v) {
      // An element without the field counts as null (as in MongoDB's index keys).
      const before = out.values.length;
      collect(e, parts, i, out);
      if (out.values.length === before) out.values.push(undefined);
    }
    return;
  }
  if (!isPlainObject(v)) return;
  const next = (v as Record<string, unknown>)[parts[i]];
  if (next === undefined && !Object.prototype.hasOwnProperty.call(v, parts[i])) return;
  collect(next, parts, i + 1, out);
}

function sortValue(doc: unknown, parts: readonly string[], dir: number): unknown {
  const { values } = valuesAtPath(doc, parts);
  let best: unknown = values[0];
  for (let i = 1; i < values.length; i++) {
    const c = compareSortValues(values[i], best);
    if ((dir > 0 && c < 0) || (dir < 0 && c > 0)) best = values[i];
  }
  return best;
}

function compareSortValues(a: unknown, b: unknown): number {
  if (a === EMPTY_ARRAY || b === EMPTY_ARRAY) return a === b ? 0 : a === EMPTY_ARRAY ? -1 : 1;
  return compareBson(a, b);
}

export interface SortKey {
  parts: string[];
  dir: 1 | -1;
}

/** Parses a sort document ({a: 1, "b.c": -1}); anything else than 1/-1 is refused. */
export function parseSort(spec: Record<string, unknown>): SortKey[] {
  const keys: SortKey[] = [];
  for (const [field, dir] of Object.entries(spec)) {
    const d = typeof dir === 'number' ? dir : typeof dir === 'object' && dir !== null && 'valueOf' in dir ? Number((dir as { valueOf(): unknown }).valueOf()) : NaN;
    if (d !== 1 && d !== -1) {
      throw badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending); got ${JSON.stringify(dir)} for "${field}"`);
    }
    keys.push({ parts: field.split('.'), dir: d });
  }
  return keys;
}

/** Stable MongoDB sort: arrays sort by their smallest (ascending) or largest (descending) element. */
export function sortDocuments<T>(docs: T[], keys: SortKey[]): T[] {
  if (keys.length === 0 || docs.length < 2) return docs;
  const decorated = docs.map((doc, i) => ({ doc, i, vals: keys.map((k) => sortValue(doc, k.parts, k.dir)) }));
  decorated.sort((x, y) => {
    for (let k = 0; k < keys.length; k++) {
      const c = compareSortValues(x.vals[k], y.vals[k]);
      if (c) return c * keys[k].dir;
    }
    return x.i - y.i;
  });
  return decorated.map((d) => d.doc);
}
