// Order-preserving binary keys for BSON values: memcmp order of two keys equals MongoDB's order of the values
// (type bracketing first), so SQLite can answer equality and range lookups on _id and indexed fields with a
// B-tree search. Every encoding is prefix-free (self-delimiting), so compound keys are plain concatenations.
//
// Numbers of every BSON type share one space: 8 bytes of the value rounded to a double (monotonic, so ranges
// over those bytes are supersets of the exact ranges) plus, for values a double cannot hold exactly, a
// canonical exact suffix so that equality, uniqueness and `_id` identity stay exact across int/long/decimal.
// Objects encode field by field (exact for equality; their ranges are never used for lookups).
import { binaryBytes, binarySubtype, documentEntries, EMPTY_ARRAY } from './compare';
import { bsonTypeTag, kindOf } from './kinds';
import type { Kind } from './kinds';
import { exactSuffix, toDouble } from './numeric';

/** First byte of each type's encoding, in MongoDB's type order. */
export const TYPE_BYTE: Record<Kind, number> = {
  minKey: 0x01,
  null: 0x05,
  number: 0x0a,
  string: 0x0f,
  object: 0x14,
  array: 0x19,
  binary: 0x1e,
  objectId: 0x23,
  bool: 0x28,
  date: 0x2d,
  timestamp: 0x32,
  regex: 0x37,
  code: 0x3c,
  maxKey: 0xf0,
};

class KeyWriter {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x00: order-preserving and self-delimiting. */
  escaped(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.ensure(b.length * 2 + 2);
    for (let i = 0; i < b.length; i++) {
      this.buf[this.len++] = b[i];
      if (b[i] === 0) this.buf[this.len++] = 0xff;
    }
    this.buf[this.len++] = 0;
    this.buf[this.len++] = 0;
  }

  orderedDouble(x: number): void {
    this.ensure(8);
    if (Number.isNaN(x)) {
      // MongoDB sorts NaN below every other number.
      this.buf.fill(0, this.len, this.len + 8);
      this.len += 8;
      return;
    }
    if (x === 0) x = 0; // -0 == 0
    this.buf.writeDoubleBE(x, this.len);
    if (this.buf[this.len] & 0x80) {
      for (let i = 0; i < 8; i++) this.buf[this.len + i] = ~this.buf[this.len + i] & 0xff;
    } else {
      this.buf[this.len] |= 0x80;
    }
    this.len += 8;
  }

  uint32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(n >>> 0, this.len);
    this.len += 4;
  }

  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

function writeValue(w: KeyWriter, v: unknown): void {
  if (v === EMPTY_ARRAY) {
    w.byte(TYPE_BYTE.array);
    w.byte(0);
    return;
  }
  const kind = kindOf(v);
  w.byte(TYPE_BYTE[kind]);
  switch (kind) {
    case 'minKey':
    case 'maxKey':
    case 'null':
      return;
    case 'number': {
      w.orderedDouble(toDouble(v));
      const suffix = exactSuffix(v);
      if (suffix === null) w.byte(0);
      else {
        w.byte(1);
        w.escaped(suffix);
      }
      return;
    }
    case 'string':
      w.escaped(typeof v === 'string' ? v : String((v as { value: unknown }).value));
      return;
    case 'bool':
      w.byte(v ? 1 : 0);
      return;
    case 'date':
      w.orderedDouble((v as Date).getTime());
      return;
    case 'objectId':
      w.bytes((v as { id: Uint8Array }).id);
      return;
    case 'binary': {
      const bytes = binaryBytes(v);
      w.uint32(bytes.length);
      w.byte(binarySubtype(v));
      w.bytes(bytes);
      return;
    }
    case 'timestamp': {
      const t = v as { t: number; i: number };
      w.uint32(t.t);
      w.uint32(t.i);
      return;
    }
    case 'regex': {
      if (bsonTypeTag(v as object) === 'BSONRegExp') {
        const r = v as { pattern: string; options: string };
        w.escaped(r.pattern);
        w.escaped(r.options);
      } else {
        const r = v as RegExp;
        w.escaped(r.source);
        w.escaped(r.flags);
      }
      return;
    }
    case 'code':
      w.escaped(String((v as { code: unknown }).code));
      return;
    case 'array':
      for (const e of v as unknown[]) {
        w.byte(1);
        writeValue(w, e);
      }
      w.byte(0);
      return;
    case 'object':
      for (const [k, e] of documentEntries(v)) {
        w.byte(1);
        w.escaped(k);
        writeValue(w, e);
      }
      w.byte(0);
      return;
  }
}

/** The key of one value (an `_id`, or one field of an index key). */
export function encodeKey(v: unknown): Buffer {
  const w = new KeyWriter();
  writeValue(w, v);
  return w.done();
}

/** The key of several values (a compound index entry). */
export function encodeCompoundKey(values: readonly unknown[]): Buffer {
  const w = new KeyWriter();
  for (const v of values) writeValue(w, v);
  return w.done();
}

/** The smallest byte string greater than every string starting with `prefix` (null: none exists). */
export function prefixSuccessor(prefix: Buffer): Buffer | null {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++;
      return out.subarray(0, i + 1);
    }
  }
  return null;
}

/** [lo, hi): lo inclusive, hi exclusive (null: unbounded above). */
export interface KeyRange {
  lo: Buffer;
  hi: Buffer | null;
}

/** All keys that start with exactly this value's encoding (equality on this field, any later fields). */
export function equalityRange(prefix: Buffer, v: unknown): KeyRange {
  const p = Buffer.concat([prefix, encodeKey(v)]);
  return { lo: p, hi: prefixSuccessor(p) };
}

/** The rounded (no exact suffix) encoding of a value: a lower bound of every key equal to it or greater. */
function roundedKey(v: unknown): Buffer {
  const kind = kindOf(v);
  if (kind !== 'number') return encodeKey(v);
  const w = new KeyWriter();
  w.byte(TYPE_BYTE.number);
  w.orderedDouble(toDouble(v));
  return w.done();
}

/**
 * A superset range for `field > v`, `>=`, `<`, `<=` within v's own type (MongoDB's type bracketing), after the
 * equality prefix of a compound key. `lower`/`upper` are the bounds given (either may be absent).
 */
export function comparisonRange(prefix: Buffer, lower: unknown | undefined, upper: unknown | undefined): KeyRange | null {
  const bound = lower !== undefined ? lower : upper;
  const kind = kindOf(bound);
  if (lower !== undefined && upper !== undefined && kindOf(upper) !== kind) return null; // no value is both
  const typeStart = Buffer.from([TYPE_BYTE[kind]]);
  const typeEnd = prefixSuccessor(typeStart)!;
  let lo: Buffer = typeStart;
  let hi: Buffer | null = typeEnd;
  if (lower !== undefined) lo = roundedKey(lower);
  if (upper !== undefined) hi = prefixSuccessor(roundedKey(upper));
  return { lo: Buffer.concat([prefix, lo]), hi: hi ? Buffer.concat([prefix, hi]) : prefixSuccessor(prefix) };
}
