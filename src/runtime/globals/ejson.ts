// Extended JSON as App Services functions saw it (§7.3, §11.4, policies "EJSON").
//
// Writing: three modes share one copy-on-write walk (values that need no change are not copied):
//  - 'json'      Go encoding/json over mongo-go-driver primitives (JSON endpoint responses, §7.3 table).
//  - 'canonical' canonical EJSON v2, except that a JS number that is integral (and fits int64) is an Int64
//                (`{"$numberLong":"42"}`) and any other number a Double: App Services converted JS numbers to
//                BSON that way (`EJSON.stringify({answer: 42})` -> `{"answer":{"$numberLong":"42"}}` in the docs).
//  - 'relaxed'   relaxed EJSON v2 (numbers stay numbers), used where a third party reads the JSON
//                (context.http encodeBodyAsJSON, JWT payloads).
// Reading: strict. `{"$date":"nope"}`, `{"$numberLong":"x"}`, `{"$oid":"zz"}` and friends throw instead of
// producing an Invalid Date or a wrong number. Numbers are promoted like the driver promotes values read from
// the database: $numberInt/$numberDouble -> number, $numberLong -> number when it is a safe integer (else Long).

import { Binary, BSONRegExp, BSONSymbol, Code, DBRef, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { bsonTypeOf, bytesOf, dateTimeOf, goTimeString, isPlainObject, isRegExp, regexOptionsFromFlags, unboxPrimitive } from './values';

export type EJSONMode = 'json' | 'canonical' | 'relaxed';

/** Deeper than this is refused: it is a circular structure or nothing MongoDB could store anyway. */
export const MAX_DEPTH = 1000;

const INT64_MIN = -(2 ** 63);
const INT64_MAX_EXCLUSIVE = 2 ** 63;

/** Recognised by callers that must treat BSON.MinKey / BSON.MaxKey (the functions themselves) as values (docs use them bare). */
export const minMaxKeyMarker: unique symbol = Symbol('atrium.minMaxKey');

// --- writing -------------------------------------------------------------------------------------------------

interface WalkState {
  mode: EJSONMode;
  /** Set when 'json' mode had to emit an exact int64 outside the double-safe range as a placeholder string. */
  rawNumbers: boolean;
}

/** Per-process marker for exact int64 digits in 'json' mode; random so no user string can imitate it. */
const RAW_MARK = `\u0001atrium-int64-${Math.random().toString(36).slice(2, 10)}\u0001`;
const RAW_RE = new RegExp(`"${escapeRegExp(JSON.stringify(RAW_MARK).slice(1, -1))}(-?\\d+)"`, 'g');

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function depthError(): Error {
  return new RangeError(`value is nested more than ${MAX_DEPTH} levels deep, or contains a circular reference`);
}

/** Canonical text of a double: integral values get ".0" like Go and the EJSON corpus ("10.0", "-0.0"). */
function doubleText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const s = String(n);
  return Number.isInteger(n) && !s.includes('e') ? `${s}.0` : s;
}

/** Exact decimal digits of an integral double (String() switches to exponent form above 1e21). */
function integerDigits(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

function isInt64Number(n: number): boolean {
  return Number.isInteger(n) && n >= INT64_MIN && n < INT64_MAX_EXCLUSIVE;
}

function numberOut(n: number, state: WalkState): unknown {
  switch (state.mode) {
    case 'json':
      return n; // NaN/±Infinity become null through JSON.stringify (Go's encoder fails on them).
    case 'canonical':
      return isInt64Number(n) ? { $numberLong: integerDigits(n) } : { $numberDouble: doubleText(n) };
    default:
      return Number.isFinite(n) ? n : { $numberDouble: doubleText(n) };
  }
}

function int64Out(digits: string, asNumber: number, state: WalkState): unknown {
  if (state.mode === 'canonical') return { $numberLong: digits };
  if (Number.isSafeInteger(asNumber)) return asNumber;
  if (state.mode === 'relaxed') return { $numberLong: digits };
  state.rawNumbers = true;
  return RAW_MARK + digits;
}

function bigintOut(b: bigint, state: WalkState): unknown {
  if (b < -(2n ** 63n) || b >= 2n ** 63n) throw new RangeError(`BigInt ${b} does not fit in a 64-bit integer`);
  return int64Out(b.toString(), Number(b), state);
}

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function binaryOut(bytes: Uint8Array, subType: number, state: WalkState): unknown {
  if (state.mode === 'json') return { Subtype: subType, Data: base64Of(bytes) };
  return { $binary: { base64: base64Of(bytes), subType: (subType < 16 ? '0' : '') + subType.toString(16) } };
}

function dateOut(ms: number, state: WalkState): unknown {
  if (Number.isNaN(ms)) return null; // an Invalid Date has no BSON form; JSON.stringify also writes null.
  if (state.mode === 'json') return goTimeString(ms);
  if (state.mode === 'relaxed' && ms >= 0 && ms <= 253402300799999) return { $date: new Date(ms).toISOString() };
  return { $date: { $numberLong: String(ms) } };
}

function regexOut(pattern: string, options: string, state: WalkState): unknown {
  if (state.mode === 'json') return { Pattern: pattern, Options: options };
  return { $regularExpression: { pattern, options } };
}

function bsonValueOut(value: object, type: string, depth: number, state: WalkState): unknown {
  const mode = state.mode;
  switch (type) {
    case 'ObjectId':
      return mode === 'json' ? (value as ObjectId).toHexString() : { $oid: (value as ObjectId).toHexString() };
    case 'Decimal128':
      return mode === 'json' ? (value as Decimal128).toString() : { $numberDecimal: (value as Decimal128).toString() };
    case 'Double': {
      const n = (value as { value: number }).value;
      if (mode === 'canonical') return { $numberDouble: doubleText(n) };
      return mode === 'json' || Number.isFinite(n) ? n : { $numberDouble: doubleText(n) };
    }
    case 'Int32': {
      const n = (value as { value: number }).value;
      return mode === 'canonical' ? { $numberInt: String(n) } : n;
    }
    case 'Long': {
      const l = value as Long;
      return int64Out(l.toString(), l.toNumber(), state);
    }
    case 'Binary': {
      const b = value as Binary;
      return binaryOut(b.buffer.subarray(0, b.position), b.sub_type, state);
    }
    case 'BSONRegExp': {
      const r = value as BSONRegExp;
      return regexOut(r.pattern, r.options, state);
    }
    case 'Timestamp': {
      const ts = value as Timestamp;
      return mode === 'json' ? { T: ts.t, I: ts.i } : { $timestamp: { t: ts.t, i: ts.i } };
    }
    case 'MinKey':
      return mode === 'json' ? {} : { $minKey: 1 };
    case 'MaxKey':
      return mode === 'json' ? {} : { $maxKey: 1 };
    case 'Code': {
      const c = value as Code;
      const scope = c.scope == null ? undefined : walk(c.scope, depth + 1, state);
      if (mode === 'json') return scope === undefined ? c.code : { Code: c.code, Scope: scope };
      return scope === undefined ? { $code: c.code } : { $code: c.code, $scope: scope };
    }
    case 'BSONSymbol':
    case 'Symbol': {
      const s = String((value as BSONSymbol).value);
      return mode === 'json' ? s : { $symbol: s };
    }
    case 'DBRef': {
      const r = value as DBRef;
      const out: Record<string, unknown> = {};
      out.$ref = r.collection;
      out.$id = walk(r.oid, depth + 1, state);
      if (r.db) out.$db = r.db;
      const fields = r.fields as Record<string, unknown>;
      for (const k of Object.keys(fields)) setKey(out, k, walk(fields[k], depth + 1, state));
      return out;
    }
    default:
      // A BSON type this table does not know (e.g. a newer bson class): let JSON.stringify use its toJSON.
      return value;
  }
}

/** Returns `value` itself when nothing inside needs converting, else a converted copy. */
function walk(value: unknown, depth: number, state: WalkState): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return value;
    case 'number':
      return state.mode === 'json' ? value : numberOut(value, state);
    case 'bigint':
      return bigintOut(value, state);
    case 'function': {
      const key = (value as { [minMaxKeyMarker]?: unknown })[minMaxKeyMarker];
      if (key === 'MinKey' || key === 'MaxKey') return bsonValueOut(value, key, depth, state);
      return value; // dropped by JSON.stringify, as functions are
    }
    default:
      break;
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) throw depthError();
  const obj = value as object;

  if (Array.isArray(obj)) return walkArray(obj, depth, state);

  // Plain objects first: they are the common case, and a plain `{"_bsontype": ...}` from a request body is data.
  if (isPlainObject(obj)) {
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walkToJSON(obj, toJSON, depth, state);
    return walkObject(obj, depth, state);
  }

  const type = bsonTypeOf(obj);
  if (type !== undefined) return bsonValueOut(obj, type, depth, state);

  const ms = dateTimeOf(obj);
  if (ms !== undefined) return dateOut(ms, state);
  if (isRegExp(obj)) return regexOut(obj.source, regexOptionsFromFlags(obj.flags), state);
  const bytes = bytesOf(obj);
  if (bytes !== undefined) return binaryOut(bytes, 0, state);
  const prim = unboxPrimitive(obj);
  if (prim !== undefined) return walk(prim, depth, state);
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return walkToJSON(obj, toJSON, depth, state);
  // Any other object (class instance, Map, Error, ...): its own enumerable properties, as JSON.stringify does.
  const copy = walkObject(obj, depth, state);
  return copy === obj ? copyOwn(obj) : copy;
}

function walkToJSON(obj: object, toJSON: Function, depth: number, state: WalkState): unknown {
  const result: unknown = toJSON.call(obj, '');
  if (result === obj) return walkObject(obj, depth, state);
  return walk(result, depth + 1, state);
}

/** A plain copy of own enumerable properties, so JSON.stringify does not see a class's own toJSON etc. */
function copyOwn(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) setKey(out, k, (obj as Record<string, unknown>)[k]);
  return out;
}

function walkArray(arr: unknown[], depth: number, state: WalkState): unknown {
  let out: unknown[] | null = null;
  const n = arr.length;
  for (let i = 0; i < n; i++) {
    const v = arr[i];
    const c = walk(v, depth + 1, state);
    if (out !== null) out[i] = c;
    else if (c !== v) {
      out = arr.slice(0, i);
      out[i] = c;
    }
  }
  return out ?? arr;
}

function walkObject(obj: object, depth: number, state: WalkState): unknown {
  const keys = Object.keys(obj);
  const src = obj as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = src[k];
    const c = walk(v, depth + 1, state);
    if (out !== null) setKey(out, k, c);
    else if (c !== v) {
      out = {};
      for (let j = 0; j < i; j++) setKey(out, keys[j]!, src[keys[j]!]);
      setKey(out, k, c);
    }
  }
  return out ?? obj;
}

/** out[k] = v, except that a "__proto__" key becomes an own property instead of calling the setter. */
function setKey(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
  else out[k] = v;
}

/** The JSON-ready tree of `value` in `mode` (shares unchanged parts with `value`). */
export function toEJSONTree(value: unknown, mode: EJSONMode): unknown {
  return walk(value, 0, { mode, rawNumbers: false });
}

/**
 * Text of `value` in `mode`; `undefined` when JSON.stringify would return undefined (top-level undefined/function).
 * `replacer`/`space` behave as in JSON.stringify and apply to the converted tree.
 */
export function stringifyEJSON(
  value: unknown,
  mode: EJSONMode,
  replacer?: ((this: unknown, key: string, value: unknown) => unknown) | Array<string | number> | null,
  space?: string | number,
): string | undefined {
  const state: WalkState = { mode, rawNumbers: false };
  const tree = walk(value, 0, state);
  const text = JSON.stringify(tree, replacer as (this: unknown, key: string, value: unknown) => unknown, space) as string | undefined;
  if (text === undefined || !state.rawNumbers) return text;
  return text.replace(RAW_RE, '$1');
}

// --- reading -------------------------------------------------------------------------------------------------

/**
 * The realm whose objects parsing should produce: a node:vm context's own `JSON` and `Date`, so that in function
 * code `EJSON.parse(text).when instanceof Date` and `parsed instanceof Object` hold as they did in App Services.
 */
export interface ParseRealm {
  JSON: { parse(text: string): unknown };
  Date: new (ms: number) => Date;
}

const HOST_REALM: ParseRealm = { JSON, Date };

export class EJSONParseError extends SyntaxError {
  override name = 'EJSONParseError';
}

function invalid(what: string, got: unknown, expected: string): never {
  let shown: string;
  try {
    shown = JSON.stringify(got) ?? String(got);
  } catch {
    shown = String(got);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  throw new EJSONParseError(`EJSON: invalid ${what} value ${shown}: expected ${expected}`);
}

const INT_RE = /^-?\d+$/;
const DOUBLE_RE = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const OID_RE = /^[0-9a-fA-F]{24}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SUBTYPE_RE = /^[0-9a-fA-F]{1,2}$/;
const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const REGEX_OPTIONS_RE = /^[ilmsux]*$/;

/** True when `s` is a valid base64 string with padding (the form EJSON and BSON.Binary.fromBase64 require). */
export function isPaddedBase64(s: string): boolean {
  return BASE64_RE.test(s);
}

function parseInt64(s: unknown, what: string): { digits: string; big: bigint } {
  if (typeof s !== 'string' || !INT_RE.test(s)) invalid(what, s, 'a string of decimal digits');
  const big = BigInt(s);
  if (big < -(2n ** 63n) || big >= 2n ** 63n) invalid(what, s, 'a 64-bit integer');
  return { digits: big.toString(), big };
}

function promoteInt64(s: unknown, what: string): number | Long {
  const { digits, big } = parseInt64(s, what);
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : Long.fromString(digits);
}

function parseDate(v: unknown, realm: ParseRealm): Date {
  let ms: number;
  if (typeof v === 'string') {
    if (!ISO_DATE_RE.test(v)) invalid('$date', v, 'an ISO-8601 date-time string, {"$numberLong": "<ms>"} or a number');
    ms = Date.parse(v);
  } else if (typeof v === 'number') {
    ms = v;
  } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && singleKey(v) === '$numberLong') {
    ms = Number(parseInt64((v as { $numberLong: unknown }).$numberLong, '$date.$numberLong').big);
  } else {
    return invalid('$date', v, 'an ISO-8601 date-time string, {"$numberLong": "<ms>"} or a number');
  }
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) invalid('$date', v, 'a representable date');
  return new realm.Date(ms);
}

function singleKey(o: object): string | undefined {
  let found: string | undefined;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    if (found !== undefined) return undefined;
    found = k;
  }
  return found;
}

function uint32(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function parseBinary(b64: unknown, subType: unknown): Binary {
  if (typeof b64 !== 'string' || !BASE64_RE.test(b64)) invalid('$binary.base64', b64, 'a padded base64 string');
  if (typeof subType !== 'string' || !SUBTYPE_RE.test(subType)) invalid('$binary.subType', subType, 'a one- or two-digit hex string');
  const st = parseInt(subType, 16);
  const bytes = Buffer.from(b64, 'base64');
  if (st === 4 && bytes.length === 16) return new UUID(bytes);
  return new Binary(bytes, st);
}

/**
 * Converts one object of the parsed tree if it is an EJSON type wrapper. Returns `NOT_A_WRAPPER` for ordinary
 * documents (including query operators such as `{"$gt": 1}` and `{"$regex": "^a"}`).
 */
const NOT_A_WRAPPER: unique symbol = Symbol('notAWrapper');

function convertWrapper(o: Record<string, unknown>, keys: string[], depth: number, realm: ParseRealm): unknown {
  const k0 = keys[0]!;
  if (keys.length === 1) {
    const v = o[k0];
    switch (k0) {
      case '$oid':
        if (typeof v !== 'string' || !OID_RE.test(v)) invalid('$oid', v, 'a 24-character hex string');
        return ObjectId.createFromHexString(v);
      case '$numberInt': {
        if (typeof v !== 'string' || !INT_RE.test(v)) invalid('$numberInt', v, 'a string of decimal digits');
        const n = Number(v);
        if (n < -2147483648 || n > 2147483647) invalid('$numberInt', v, 'a 32-bit integer');
        return n;
      }
      case '$numberLong':
        return promoteInt64(v, '$numberLong');
      case '$numberDouble':
        if (typeof v !== 'string' || !(DOUBLE_RE.test(v) || v === 'Infinity' || v === '-Infinity' || v === 'NaN')) {
          invalid('$numberDouble', v, 'a decimal number string, "Infinity", "-Infinity" or "NaN"');
        }
        return Number(v);
      case '$numberDecimal':
        if (typeof v !== 'string') invalid('$numberDecimal', v, 'a decimal number string');
        try {
          return Decimal128.fromString(v);
        } catch {
          return invalid('$numberDecimal', v, 'a decimal number string that fits Decimal128');
        }
      case '$date':
        return parseDate(v, realm);
      case '$binary':
        if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid('$binary', v, '{"base64": "...", "subType": "<hex>"}');
        {
          const b = v as Record<string, unknown>;
          const bk = Object.keys(b);
          if (bk.length !== 2 || !('base64' in b) || !('subType' in b)) invalid('$binary', v, '{"base64": "...", "subType": "<hex>"}');
          return parseBinary(b.base64, b.subType);
        }
      case '$uuid':
        if (typeof v !== 'string' || !UUID_RE.test(v)) invalid('$uuid', v, 'a UUID string (32 hex digits, optionally hyphenated)');
        return new UUID(v.replace(/-/g, ''));
      case '$timestamp': {
        const t = v as Record<string, unknown> | null;
        if (t === null || typeof t !== 'object' || Array.isArray(t) || Object.keys(t).length !== 2 || !uint32(t.t) || !uint32(t.i)) {
          invalid('$timestamp', v, '{"t": <uint32>, "i": <uint32>}');
        }
        return new Timestamp({ t: t.t as number, i: t.i as number });
      }
      case '$regularExpression': {
        const r = v as Record<string, unknown> | null;
        if (
          r === null || typeof r !== 'object' || Array.isArray(r) || Object.keys(r).length !== 2 ||
          typeof r.pattern !== 'string' || typeof r.options !== 'string' || !REGEX_OPTIONS_RE.test(r.options)
        ) {
          invalid('$regularExpression', v, '{"pattern": "...", "options": "<letters from ilmsux>"}');
        }
        return new BSONRegExp(r.pattern as string, r.options as string);
      }
      case '$symbol':
        if (typeof v !== 'string') invalid('$symbol', v, 'a string');
        return v;
      case '$code':
        if (typeof v !== 'string') invalid('$code', v, 'a string');
        return new Code(v);
      case '$minKey':
        if (v !== 1) invalid('$minKey', v, '1');
        return new MinKey();
      case '$maxKey':
        if (v !== 1) invalid('$maxKey', v, '1');
        return new MaxKey();
      case '$undefined':
        if (v !== true) invalid('$undefined', v, 'true');
        return null;
      default:
        return NOT_A_WRAPPER;
    }
  }
  if (keys.length === 2) {
    if ('$binary' in o && '$type' in o && typeof o.$binary === 'string') return parseBinary(o.$binary, o.$type);
    if ('$regex' in o && '$options' in o && typeof o.$regex === 'string' && typeof o.$options === 'string') {
      if (!REGEX_OPTIONS_RE.test(o.$options)) invalid('$options', o.$options, 'letters from ilmsux');
      return new BSONRegExp(o.$regex, o.$options);
    }
    if ('$code' in o && '$scope' in o) {
      if (typeof o.$code !== 'string') invalid('$code', o.$code, 'a string');
      const scope = revive(o.$scope, depth + 1, realm);
      if (scope === null || typeof scope !== 'object' || Array.isArray(scope)) invalid('$scope', o.$scope, 'a document');
      return new Code(o.$code, scope as Record<string, unknown>);
    }
  }
  if ('$ref' in o && '$id' in o && typeof o.$ref === 'string' && (o.$db === undefined || typeof o.$db === 'string')) {
    const fields: Record<string, unknown> = {};
    for (const k of keys) if (k !== '$ref' && k !== '$id' && k !== '$db') fields[k] = revive(o[k], depth + 1, realm);
    return new DBRef(o.$ref, revive(o.$id, depth + 1, realm) as ObjectId, o.$db as string | undefined, fields);
  }
  return NOT_A_WRAPPER;
}

/** Converts a parsed JSON tree in place into BSON/JS values (the tree must be freshly parsed: it is mutated). */
function revive(value: unknown, depth: number, realm: ParseRealm): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) throw depthError();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') value[i] = revive(v, depth + 1, realm);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length > 0 && keys[0]!.charCodeAt(0) === 36 /* $ */) {
    const converted = convertWrapper(o, keys, depth, realm);
    if (converted !== NOT_A_WRAPPER) return converted;
  }
  for (const k of keys) {
    const v = o[k];
    if (v === null || typeof v !== 'object') continue;
    const r = revive(v, depth + 1, realm);
    if (r === v) continue;
    // A "__proto__" key from JSON.parse is an own data property; plain assignment would call the setter.
    if (k === '__proto__') Object.defineProperty(o, k, { value: r, writable: true, enumerable: true, configurable: true });
    else o[k] = r;
  }
  return o;
}

/** EJSON text (canonical or relaxed) -> JS/BSON values. Throws EJSONParseError on JSON syntax errors and invalid type wrappers. */
export function parseEJSON(text: string, realm: ParseRealm = HOST_REALM): unknown {
  if (typeof text !== 'string') throw new TypeError(`EJSON.parse expects a string, got ${text === null ? 'null' : typeof text}`);
  let tree: unknown;
  try {
    tree = realm.JSON.parse(text);
  } catch (e) {
    throw new EJSONParseError(`EJSON: ${(e as Error).message}`);
  }
  return revive(tree, 0, realm);
}

/** An EJSON object tree (e.g. the result of EJSON.serialize) -> JS/BSON values. The input is not modified. */
export function deserializeEJSON(tree: unknown, realm: ParseRealm = HOST_REALM): unknown {
  // Round-trip through text: a deep copy that also drops anything JSON cannot carry.
  const text = JSON.stringify(tree);
  return text === undefined ? undefined : parseEJSON(text, realm);
}
