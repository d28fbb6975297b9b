// Documents on disk are BSON. They are decoded in one of two shapes:
// - "driver" shape, what user functions see (as the Node driver's defaults: int32/double become JS numbers,
//   int64 a number when it fits in 53 bits, everything else a bson/JS object);
// - "typed" shape, every number kept as Int32/Double/Long/Decimal128, so that updates can keep the stored BSON
//   type of fields they do not touch and `$type` queries see the real type.
import { BSON } from 'bson';
import { DataError } from '../errors';
import type { Document } from '../types';
import { bsonTypeTag, isPlainObject } from './kinds';
import { toDouble } from './numeric';

export const MAX_BSON_SIZE = 16 * 1024 * 1024;

const DRIVER_SHAPE = { promoteValues: true, promoteLongs: true, promoteBuffers: false, bsonRegExp: false } as const;
const TYPED_SHAPE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false } as const;

export function encodeDocument(doc: Document): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = BSON.serialize(doc, { checkKeys: false, ignoreUndefined: true });
  } catch (err) {
    throw new DataError(2, 'BadValue', `document cannot be stored as BSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (bytes.length > MAX_BSON_SIZE) {
    throw new DataError(10334, 'BSONObjectTooLarge', `BSONObj size: ${bytes.length} is invalid. Size must be between 0 and 16793600(16MB)`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeDocument(bytes: Uint8Array): Document {
  return BSON.deserialize(bytes, DRIVER_SHAPE) as Document;
}

export function decodeTypedDocument(bytes: Uint8Array): Document {
  return BSON.deserialize(bytes, TYPED_SHAPE) as Document;
}

/** Typed shape -> driver shape (numbers unwrapped the way decodeDocument would). */
export function toDriverShape(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(toDriverShape);
  const tag = bsonTypeTag(v);
  if (tag === 'Int32' || tag === 'Double') return toDouble(v);
  if (tag === 'Long') {
    const n = toDouble(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = toDriverShape((v as Record<string, unknown>)[k]);
  return out;
}

/** Deep copy of a decoded document (bson values are immutable and shared). */
export function cloneDocument<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneDocument) as unknown as T;
  if (v instanceof Date) return new Date(v.getTime()) as unknown as T;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = cloneDocument((v as Record<string, unknown>)[k]);
  return out as T;
}
