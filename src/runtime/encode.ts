// Response body encodings for endpoint return values (§7.3).
// Both walk the value once, copying only the parts that need converting, then call JSON.stringify once:
// a plain `{message: "hi"}` costs one walk over one key plus one JSON.stringify.
// Values may come from the function's node:vm realm: nothing here relies on `instanceof`.

import { stringifyEJSON } from './globals/ejson';

/**
 * JSON as App Services' Go server wrote it: ObjectId -> hex string, Date -> RFC 3339 (Go time format: fraction
 * trimmed of trailing zeros), Decimal128 -> string, Int32/Long/Double -> numbers, Binary/UUID ->
 * {"Subtype","Data"}, BSONRegExp/RegExp -> {"Pattern","Options"}, Timestamp -> {"T","I"}, MinKey/MaxKey -> {},
 * NaN/±Infinity -> null. Top-level `undefined` (or a function) -> ''.
 */
export function encodeJSON(value: unknown): string {
  return stringifyEJSON(value, 'json') ?? '';
}

/** Canonical Extended JSON v2 with App Services' number rule (integral JS number -> $numberLong, other -> $numberDouble). */
export function encodeEJSON(value: unknown): string {
  return stringifyEJSON(value, 'canonical') ?? '';
}
