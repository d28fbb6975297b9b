// Turns values coming from user functions into plain host-realm values before they reach a DataSource.
// User code runs in a node:vm context (other Object/Array/Date/RegExp constructors) and may hand us bson
// values from another copy of the bson package (an npm dependency of the app); mingo and the bson serializer
// rely on instanceof, so everything is rebuilt here: plain objects, arrays, Date, RegExp and this process's
// bson classes. Like the Node driver: `undefined` fields are dropped, functions and symbols are ignored,
// bigint becomes a Long, Buffers/typed arrays become Binary, objects with toBSON() are replaced by its result.
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'bson';
import { badValue } from '../errors';
import { bsonTypeTag, isDateValue, isRegExpValue } from './kinds';

const MAX_DEPTH = 150;

function rebuildBson(v: object, tag: string, depth: number, seen: Set<object>): unknown {
  switch (tag) {
    case 'ObjectId':
      if (v instanceof ObjectId) return v;
      return new ObjectId((v as { toHexString(): string }).toHexString());
    case 'Decimal128':
      if (v instanceof Decimal128) return v;
      return Decimal128.fromString(String(v));
    case 'Long':
      if (v instanceof Long) return v;
      return Long.fromString(String(v), Boolean((v as { unsigned?: boolean }).unsigned));
    case 'Int32':
      if (v instanceof Int32) return v;
      return new Int32(Number((v as { value: unknown }).value));
    case 'Double':
      if (v instanceof Double) return v;
      return new Double(Number((v as { value: unknown }).value));
    case 'Binary': {
      if (v instanceof Binary) return v;
      const b = v as { buffer: Uint8Array; position: number; sub_type: number };
      const bytes = Buffer.from(b.buffer.subarray(0, b.position));
      return b.sub_type === Binary.SUBTYPE_UUID && bytes.length === 16 ? new UUID(bytes) : new Binary(bytes, b.sub_type);
    }
    case 'Timestamp': {
      if (v instanceof Timestamp) return v;
      const t = v as { t: number; i: number };
      return new Timestamp({ t: t.t, i: t.i });
    }
    case 'MinKey':
      return v instanceof MinKey ? v : new MinKey();
    case 'MaxKey':
      return v instanceof MaxKey ? v : new MaxKey();
    case 'BSONRegExp': {
      if (v instanceof BSONRegExp) return v;
      const r = v as { pattern: string; options: string };
      return new BSONRegExp(r.pattern, r.options);
    }
    case 'BSONSymbol':
      return v instanceof BSONSymbol ? v : new BSONSymbol(String((v as { value: unknown }).value));
    case 'Code': {
      if (v instanceof Code) return v;
      const c = v as { code: string; scope?: Record<string, unknown> | null };
      return new Code(String(c.code), c.scope ? (toHost(c.scope, depth + 1, seen) as Record<string, unknown>) : null);
    }
    case 'DBRef': {
      if (v instanceof DBRef) return v;
      const r = v as { collection: string; oid: unknown; db?: string; fields?: Record<string, unknown> };
      return new DBRef(r.collection, toHost(r.oid, depth + 1, seen) as ObjectId, r.db, (r.fields ? toHost(r.fields, depth + 1, seen) : undefined) as Record<string, unknown> | undefined);
    }
    default:
      throw badValue(`unsupported BSON value type ${tag}`);
  }
}

function toHost(v: unknown, depth: number, seen: Set<object>): unknown {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'bigint':
      return Long.fromBigInt(v);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return null;
  const obj = v as object;
  const tag = bsonTypeTag(obj);
  if (tag !== undefined) return rebuildBson(obj, tag, depth, seen);
  if (isDateValue(obj)) return new Date((obj as Date).getTime());
  if (isRegExpValue(obj)) return new RegExp((obj as RegExp).source, (obj as RegExp).flags);
  if (ArrayBuffer.isView(obj)) return new Binary(Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength));
  if (obj instanceof ArrayBuffer || Object.prototype.toString.call(obj) === '[object ArrayBuffer]') return new Binary(Buffer.from(obj as ArrayBuffer));
  if (depth > MAX_DEPTH) throw badValue(`document is nested more than ${MAX_DEPTH} levels deep`);
  if (seen.has(obj)) throw badValue('cannot store a value that contains itself (circular reference)');
  const toBSON = (obj as { toBSON?: unknown }).toBSON;
  if (typeof toBSON === 'function') return toHost((toBSON as () => unknown).call(obj), depth + 1, seen);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const out = new Array<unknown>(obj.length);
      for (let i = 0; i < obj.length; i++) {
        const e = toHost(obj[i], depth + 1, seen);
        out[i] = e === undefined ? null : e;
      }
      return out;
    }
    if (obj instanceof Map || Object.prototype.toString.call(obj) === '[object Map]') {
      const out: Record<string, unknown> = {};
      for (const [k, e] of obj as Map<unknown, unknown>) {
        const h = toHost(e, depth + 1, seen);
        if (h !== undefined) out[String(k)] = h;
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) {
      const h = toHost((obj as Record<string, unknown>)[k], depth + 1, seen);
      if (h !== undefined) out[k] = h;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/** Any value (query operand, update value, document field) as a host-realm value. */
export function toHostValue(v: unknown): unknown {
  return toHost(v, 0, new Set());
}

/** A document/query/options argument: undefined and null become {}, anything but an object is refused. */
export function toHostDocument(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || bsonTypeTag(v) !== undefined || isDateValue(v) || isRegExpValue(v)) {
    throw badValue(`${what} must be an object, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return toHost(v, 0, new Set()) as Record<string, unknown>;
}

/** An array of documents (insertMany, aggregation pipelines, arrayFilters). */
export function toHostDocumentArray(v: unknown, what: string): Array<Record<string, unknown>> {
  if (!Array.isArray(v)) throw badValue(`${what} must be an array`);
  return v.map((e, i) => toHostDocument(e === undefined ? null : e, `${what}[${i}]`));
}
