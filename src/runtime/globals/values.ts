// Realm-independent tests on values handed back by user code.
// Functions run in a node:vm context, so their Dates, RegExps, Arrays and plain objects come from another
// realm: `instanceof Date` / `instanceof Object` are false for them. These checks use internal slots and
// prototype shape instead, and BSON values are recognised by their `_bsontype` tag.

const objectToString = Object.prototype.toString;
const dateGetTime = Date.prototype.getTime;

/** The BSON type tag of a bson-package value (`'ObjectId'`, `'Binary'`, ...), or undefined for anything else. */
export function bsonTypeOf(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** True for an object whose prototype is some realm's Object.prototype, or null. */
export function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Milliseconds since the epoch when `value` is a Date from any realm (NaN for an Invalid Date), else undefined. */
export function dateTimeOf(value: object): number | undefined {
  if (objectToString.call(value) !== '[object Date]') return undefined;
  // getTime checks the internal [[DateValue]] slot, which works across realms and rejects a forged toStringTag.
  try {
    return dateGetTime.call(value);
  } catch {
    return undefined;
  }
}

export function isRegExp(value: object): value is RegExp {
  return objectToString.call(value) === '[object RegExp]';
}

/** Bytes of a Uint8Array/Buffer/other typed array/DataView/ArrayBuffer from any realm, or undefined. */
export function bytesOf(value: object): Uint8Array | undefined {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const tag = objectToString.call(value);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(value as ArrayBuffer);
  }
  return undefined;
}

/** The primitive inside a boxed Number/String/Boolean/BigInt from any realm, or undefined. */
export function unboxPrimitive(value: object): number | string | boolean | bigint | undefined {
  switch (objectToString.call(value)) {
    case '[object Number]':
    case '[object String]':
    case '[object Boolean]':
    case '[object BigInt]': {
      const v: unknown = (value as { valueOf(): unknown }).valueOf();
      return typeof v === 'object' ? undefined : (v as number | string | boolean | bigint);
    }
    default:
      return undefined;
  }
}

/** JS RegExp flags as MongoDB regex options: i, m, s and u kept, sorted; g, y, d, v have no BSON meaning. */
export function regexOptionsFromFlags(flags: string): string {
  let out = '';
  for (const f of 'imsu') if (flags.includes(f)) out += f;
  return out;
}

/** Go `time.Time.MarshalJSON` (RFC 3339 with nanoseconds, trailing zeros of the fraction removed) of a UTC instant. */
export function goTimeString(ms: number): string {
  const iso = new Date(ms).toISOString();
  // toISOString always writes ".sss"; Go writes no fraction for whole seconds and trims trailing zeros.
  const dot = iso.length - 5;
  if (iso.charCodeAt(dot) !== 46 /* . */) return iso;
  let end = iso.length - 1; // index of 'Z'
  while (end > dot + 1 && iso.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (end === dot + 1) return iso.slice(0, dot) + 'Z';
  return iso.slice(0, end) + 'Z';
}
