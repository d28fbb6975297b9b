// The `BSON` and `EJSON` globals handed to functions (§11.4).
//
// BSON: the bson package's own classes (so `instanceof BSON.ObjectId` holds for values from the data layer),
// reached through wrappers that can be called with or without `new` as App Services allowed
// (`BSON.ObjectId(hex)`, `BSON.Int32(42)`, `BSON.Long(low, high)`), plus the App Services Binary helpers.
// Function code must not be able to change what the next invocation sees, so the wrappers, the class
// prototypes and the classes' static members are frozen (once per process; bson keeps working, see tests).

import {
  Binary, BSONRegExp, BSONSymbol, BSONValue, Code, DBRef, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId,
  Timestamp, UUID,
} from 'bson';
import { deserializeEJSON, isPaddedBase64, minMaxKeyMarker, parseEJSON, stringifyEJSON, type ParseRealm } from './ejson';

export type { ParseRealm } from './ejson';
import { regexOptionsFromFlags } from './values';

type AnyClass = { prototype: object; name: string } & Function;

const HEX_BYTES_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Statics that bson itself updates (ObjectId's counter and process id) or that reset its state. */
const MUTABLE_STATICS = new Set<PropertyKey>(['index', 'PROCESS_UNIQUE', 'cacheHexString']);
const HIDDEN_STATICS = new Set<PropertyKey>(['length', 'name', 'prototype', 'index', 'PROCESS_UNIQUE', 'cacheHexString', 'resetState']);

function checkSubType(subType: unknown, fn: string): number {
  if (subType === undefined) return 0;
  if (typeof subType !== 'number' || !Number.isInteger(subType) || subType < 0 || subType > 255) {
    throw new TypeError(`BSON.Binary.${fn}: subType must be an integer from 0 to 255, got ${String(subType)}`);
  }
  return subType;
}

/** App Services `BSON.Binary.fromHex(hex, subType?)`: whole bytes only. */
export function binaryFromHex(hex: unknown, subType?: unknown): Binary {
  if (typeof hex !== 'string') throw new TypeError(`BSON.Binary.fromHex expects a string, got ${typeof hex}`);
  if (!HEX_BYTES_RE.test(hex)) {
    throw new TypeError('BSON.Binary.fromHex: the argument must be an even number of hex digits (0-9, a-f, A-F)');
  }
  return new Binary(Buffer.from(hex, 'hex'), checkSubType(subType, 'fromHex'));
}

/** App Services `BSON.Binary.fromBase64(b64, subType?)`: standard alphabet, padding required. */
export function binaryFromBase64(b64: unknown, subType?: unknown): Binary {
  if (typeof b64 !== 'string') throw new TypeError(`BSON.Binary.fromBase64 expects a string, got ${typeof b64}`);
  if (!isPaddedBase64(b64)) {
    throw new TypeError(
      'BSON.Binary.fromBase64: the argument is not valid base64 (standard alphabet A-Z a-z 0-9 + /, with "=" padding to a multiple of 4 characters)',
    );
  }
  return new Binary(Buffer.from(b64, 'base64'), checkSubType(subType, 'fromBase64'));
}

function bytesOfBinary(b: Binary): Buffer {
  const buf = b.buffer;
  return Buffer.from(buf.buffer, buf.byteOffset, b.position);
}

let hardened = false;

/** Adds text/toHex/toBase64 to Binary.prototype and freezes the bson classes function code can reach. Idempotent. */
export function hardenBSONClasses(): void {
  if (hardened) return;
  hardened = true;
  const proto = Binary.prototype as unknown as Record<string, unknown>;
  const helpers: Record<string, (this: Binary) => string> = {
    text(this: Binary) {
      return bytesOfBinary(this).toString('utf8');
    },
    toHex(this: Binary) {
      return bytesOfBinary(this).toString('hex');
    },
    toBase64(this: Binary) {
      return bytesOfBinary(this).toString('base64');
    },
  };
  for (const [name, fn] of Object.entries(helpers)) {
    if (typeof proto[name] !== 'function') {
      Object.defineProperty(proto, name, { value: fn, writable: false, enumerable: false, configurable: false });
    }
  }
  const classes: AnyClass[] = [
    BSONValue, ObjectId, Binary, UUID, Long, Int32, Double, Decimal128, Timestamp, MinKey, MaxKey, BSONRegExp, Code,
    DBRef, BSONSymbol,
  ];
  for (const cls of classes) {
    Object.freeze(cls.prototype);
    for (const key of Reflect.ownKeys(cls)) {
      if (MUTABLE_STATICS.has(key)) continue;
      const d = Object.getOwnPropertyDescriptor(cls, key);
      if (!d || !d.configurable) continue;
      if ('value' in d) Object.defineProperty(cls, key, { writable: false, configurable: false });
      else Object.defineProperty(cls, key, { configurable: false });
    }
    Object.preventExtensions(cls);
  }
}

/**
 * A function usable with or without `new` that builds an instance of `real`. `wrapper.prototype` is the real
 * prototype so `x instanceof wrapper` holds for every instance of the real class, wherever it was made.
 */
function callableClass(real: AnyClass, build: (args: unknown[]) => object, extraStatics: Record<PropertyKey, unknown> = {}): Function {
  const wrapper = function (...args: unknown[]): object {
    return build(args);
  };
  Object.defineProperty(wrapper, 'name', { value: real.name });
  Object.defineProperty(wrapper, 'prototype', { value: real.prototype, writable: false, enumerable: false, configurable: false });
  for (const key of Reflect.ownKeys(real)) {
    if (HIDDEN_STATICS.has(key)) continue;
    const d = Object.getOwnPropertyDescriptor(real, key);
    if (!d || !('value' in d)) continue;
    let value: unknown = d.value;
    if (typeof value === 'function') {
      const fn = value as (...a: unknown[]) => unknown;
      value = Object.defineProperty((...a: unknown[]) => fn.apply(real, a), 'name', { value: fn.name });
    }
    Object.defineProperty(wrapper, key, { value, writable: false, enumerable: false, configurable: false });
  }
  for (const key of Reflect.ownKeys(extraStatics)) {
    const value = (extraStatics as Record<PropertyKey, unknown>)[key];
    Object.defineProperty(wrapper, key, { value, writable: false, enumerable: false, configurable: false });
  }
  return Object.freeze(wrapper);
}

/** JS-only RegExp flags (g, y, d, v) have no BSON meaning: App Services' docs pass "ig". */
function bsonRegExpOptions(flags: unknown): string {
  if (flags === undefined || flags === null) return '';
  const s = String(flags);
  let out = '';
  for (const c of 'ilmsux') if (s.includes(c)) out += c;
  const unknownFlag = [...s].find((c) => !'ilmsuxgydv'.includes(c));
  if (unknownFlag !== undefined) throw new TypeError(`BSON.BSONRegExp: unsupported regular expression flag "${unknownFlag}"`);
  return out;
}

function buildBSONGlobal(): Readonly<Record<string, unknown>> {
  hardenBSONClasses();
  const minKey = callableClass(MinKey, () => new MinKey(), { toBSON: () => new MinKey(), [minMaxKeyMarker]: 'MinKey' });
  const maxKey = callableClass(MaxKey, () => new MaxKey(), { toBSON: () => new MaxKey(), [minMaxKeyMarker]: 'MaxKey' });
  const global: Record<string, unknown> = {
    ObjectId: callableClass(ObjectId, (a) => new ObjectId(a[0] as string | undefined)),
    BSONRegExp: callableClass(BSONRegExp, (a) => {
      const [pattern, flags] = a;
      if (pattern !== null && typeof pattern === 'object' && Object.prototype.toString.call(pattern) === '[object RegExp]') {
        const re = pattern as RegExp;
        return new BSONRegExp(re.source, flags === undefined ? regexOptionsFromFlags(re.flags) : bsonRegExpOptions(flags));
      }
      return new BSONRegExp(String(pattern ?? ''), bsonRegExpOptions(flags));
    }),
    Binary: callableClass(Binary, (a) => new Binary(a[0] as Uint8Array | undefined, a[1] as number | undefined), {
      fromHex: binaryFromHex,
      fromBase64: binaryFromBase64,
    }),
    Int32: callableClass(Int32, (a) => new Int32((a[0] ?? 0) as number)),
    Long: callableClass(Long, (a) => {
      if (a.length === 0) return new Long(0, 0);
      if (typeof a[0] === 'bigint' || typeof a[0] === 'string') return new Long(a[0] as bigint, a[1] as boolean | undefined);
      return new Long((a[0] ?? 0) as number, (a[1] ?? 0) as number, a[2] as boolean | undefined);
    }),
    Double: callableClass(Double, (a) => new Double((a[0] ?? 0) as number)),
    Decimal128: callableClass(Decimal128, (a) => {
      if (typeof a[0] === 'string') return Decimal128.fromString(a[0]);
      return new Decimal128(a[0] as Uint8Array);
    }),
    MinKey: minKey,
    MaxKey: maxKey,
    Timestamp: callableClass(Timestamp, (a) => {
      // App Services (js-bson 1.x era) also took Timestamp(low = increment, high = seconds).
      if (a.length >= 2 && typeof a[0] === 'number' && typeof a[1] === 'number') return new Timestamp({ t: a[1], i: a[0] });
      if (a[0] == null) return new Timestamp({ t: 0, i: 0 });
      return new Timestamp(a[0] as bigint);
    }),
    UUID: callableClass(UUID, (a) => new UUID(a[0] as string | undefined)),
    Code: callableClass(Code, (a) => new Code(a[0] as string, a[1] as Record<string, unknown> | undefined)),
    DBRef: callableClass(DBRef, (a) => new DBRef(a[0] as string, a[1] as ObjectId, a[2] as string | undefined, a[3] as Record<string, unknown> | undefined)),
  };
  return Object.freeze(global);
}

function buildEJSONGlobal(realm: ParseRealm | undefined): Readonly<Record<string, unknown>> {
  const ejson = {
    /** EJSON text (canonical or relaxed) -> values; invalid type wrappers throw. */
    parse(text: unknown): unknown {
      return parseEJSON(text as string, realm);
    },
    /**
     * Canonical EJSON with App Services' number rule (integral -> $numberLong). Accepts JSON.stringify's
     * (value, replacer, space) and bson's (value, options) / (value, replacer, space, options); `{relaxed: true}`
     * selects relaxed EJSON.
     */
    stringify(value: unknown, replacer?: unknown, space?: unknown, options?: unknown): string | undefined {
      let opts = options;
      let rep = replacer;
      let sp = space;
      if (rep !== null && typeof rep === 'object' && !Array.isArray(rep)) {
        opts = rep;
        rep = undefined;
        sp = undefined;
      }
      const relaxed = opts !== null && typeof opts === 'object' && (opts as { relaxed?: unknown }).relaxed === true;
      return stringifyEJSON(
        value,
        relaxed ? 'relaxed' : 'canonical',
        (typeof rep === 'function' || Array.isArray(rep) ? rep : undefined) as Parameters<typeof stringifyEJSON>[2],
        typeof sp === 'number' || typeof sp === 'string' ? sp : undefined,
      );
    },
    /** Value -> EJSON object tree (fresh plain objects). */
    serialize(value: unknown, options?: unknown): unknown {
      const relaxed = options !== null && typeof options === 'object' && (options as { relaxed?: unknown }).relaxed === true;
      const text = stringifyEJSON(value, relaxed ? 'relaxed' : 'canonical');
      return text === undefined ? undefined : (realm ? realm.JSON : JSON).parse(text);
    },
    /** EJSON object tree -> values. */
    deserialize(tree: unknown): unknown {
      return deserializeEJSON(tree, realm);
    },
  };
  return Object.freeze(ejson);
}

let bsonGlobal: Readonly<Record<string, unknown>> | undefined;
let ejsonGlobal: Readonly<Record<string, unknown>> | undefined;

/** The frozen `BSON` global. Built once per process and shared (it holds no per-app state). */
export function createBSONGlobal(): Readonly<Record<string, unknown>> {
  return (bsonGlobal ??= buildBSONGlobal());
}

/**
 * The frozen `EJSON` global. Without `realm` it is built once per process and its results are this realm's
 * objects; give the function sandbox's own `{JSON, Date}` (from the vm context) so that parsed Dates, objects and
 * arrays are that realm's (`instanceof Date` holds in function code). BSON values are the bson classes either way.
 */
export function createEJSONGlobal(realm?: ParseRealm): Readonly<Record<string, unknown>> {
  if (realm) return buildEJSONGlobal(realm);
  return (ejsonGlobal ??= buildEJSONGlobal(undefined));
}

/** MinKey/MaxKey for `BSON.MinKey`/`BSON.MaxKey` passed bare as a value (as the docs do), else undefined. */
export function minMaxKeyOf(value: unknown): MinKey | MaxKey | undefined {
  if (typeof value !== 'function') return undefined;
  const tag = (value as { [minMaxKeyMarker]?: unknown })[minMaxKeyMarker];
  return tag === 'MinKey' ? new MinKey() : tag === 'MaxKey' ? new MaxKey() : undefined;
}
