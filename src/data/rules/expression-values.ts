// Value semantics for rule expressions (§12.3): BSON-aware equality and ordering, and dotted-path lookup.
// Equality follows MongoDB query habits: null matches missing, numbers compare by value across BSON number types,
// and an array on the left matches when any element matches.
import { EJSON } from 'bson';

type Kind = 'missing' | 'number' | 'string' | 'boolean' | 'date' | 'objectId' | 'binary' | 'array' | 'object' | 'other';

function bsonType(v: object): string | undefined {
  const t = (v as { _bsontype?: unknown })._bsontype;
  return typeof t === 'string' ? t : undefined;
}

function kindOf(v: unknown): Kind {
  if (v === undefined || v === null) return 'missing';
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'object':
      break;
    default:
      return 'other';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  switch (bsonType(v as object)) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 'number';
    case 'ObjectId':
      return 'objectId';
    case 'Binary':
    case 'UUID':
      return 'binary';
    case undefined:
      return v instanceof Uint8Array ? 'binary' : 'object';
    default:
      return 'other';
  }
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const t = bsonType(v as object);
  if (t === 'Long') return (v as { toNumber(): number }).toNumber();
  if (t === 'Decimal128') return Number(String(v));
  return (v as { valueOf(): number }).valueOf();
}

function hexOf(v: unknown): string {
  return (v as { toHexString(): string }).toHexString();
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position?: number };
  return typeof b.position === 'number' ? b.buffer.subarray(0, b.position) : b.buffer;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Strict structural equality of two values (no array-contains rule). */
export function deepEqual(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return false;
  switch (ka) {
    case 'missing':
      return true;
    case 'number':
      return toNumber(a) === toNumber(b);
    case 'string':
    case 'boolean':
      return a === b;
    case 'date':
      return (a as Date).getTime() === (b as Date).getTime();
    case 'objectId':
      return hexOf(a) === hexOf(b);
    case 'binary':
      return sameBytes(bytesOf(a), bytesOf(b));
    case 'array': {
      const x = a as unknown[];
      const y = b as unknown[];
      return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]));
    }
    case 'object': {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const keys = Object.keys(x).filter((k) => x[k] !== undefined);
      const other = Object.keys(y).filter((k) => y[k] !== undefined);
      return keys.length === other.length && keys.every((k) => Object.prototype.hasOwnProperty.call(y, k) && deepEqual(x[k], y[k]));
    }
    default:
      return a === b;
  }
}

/** Expression equality: deep equality, or, when the left side is an array, equality with any of its elements. */
export function valuesMatch(left: unknown, right: unknown): boolean {
  if (deepEqual(left, right)) return true;
  return Array.isArray(left) && left.some((el) => deepEqual(el, right));
}

/** Ordering for $gt/$gte/$lt/$lte: a number < 0, 0 or > 0, or undefined when the two values are not comparable. */
export function compareValues(a: unknown, b: unknown): number | undefined {
  const ka = kindOf(a);
  if (ka !== kindOf(b)) return undefined;
  switch (ka) {
    case 'number': {
      const x = toNumber(a);
      const y = toNumber(b);
      return Number.isNaN(x) || Number.isNaN(y) ? undefined : x - y;
    }
    case 'string':
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 'boolean':
      return Number(a) - Number(b);
    case 'date':
      return (a as Date).getTime() - (b as Date).getTime();
    case 'objectId': {
      const x = hexOf(a);
      const y = hexOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default:
      return undefined;
  }
}

/**
 * Reads a dotted path. Numeric segments index arrays; other segments applied to an array collect that field from
 * each element (MongoDB style), so `identities.provider_type` yields every provider type.
 * `caseInsensitive(obj)` says for which objects a missing key may be matched ignoring case (HTTP headers).
 */
export function readPath(root: unknown, segments: readonly string[], caseInsensitive?: (obj: object) => boolean): unknown {
  let cur: unknown = root;
  for (const seg of segments) {
    if (cur === undefined || cur === null) return undefined;
    if (Array.isArray(cur)) {
      if (/^\d+$/.test(seg)) {
        cur = cur[Number(seg)];
        continue;
      }
      const out: unknown[] = [];
      for (const el of cur) {
        const v = readPath(el, [seg], caseInsensitive);
        if (v === undefined) continue;
        if (Array.isArray(v)) out.push(...v);
        else out.push(v);
      }
      cur = out.length > 0 ? out : undefined;
      continue;
    }
    if (typeof cur !== 'object') return undefined;
    const obj = cur as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(obj, seg)) {
      cur = obj[seg];
      continue;
    }
    if (caseInsensitive?.(obj)) {
      const lower = seg.toLowerCase();
      const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
      cur = key === undefined ? undefined : obj[key];
      continue;
    }
    cur = undefined;
  }
  return cur;
}

const EJSON_WRAPPERS = new Set([
  '$oid', '$date', '$numberLong', '$numberInt', '$numberDouble', '$numberDecimal', '$binary', '$uuid',
  '$regularExpression', '$timestamp', '$minKey', '$maxKey', '$symbol', '$code',
]);

/** Whether an object literal is an Extended JSON type wrapper such as {"$oid": "..."}. */
export function isEjsonWrapper(obj: Record<string, unknown>): boolean {
  const keys = Object.keys(obj);
  return keys.length > 0 && keys.length <= 2 && EJSON_WRAPPERS.has(keys[0]);
}

/** Turns an Extended JSON wrapper literal into its BSON value; throws on an invalid one. */
export function ejsonLiteral(obj: Record<string, unknown>): unknown {
  return EJSON.deserialize(obj, { relaxed: false });
}
