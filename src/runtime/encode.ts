// PLACEHOLDER (owned by the globals work): response body encodings (§7.3).
/** JSON as App Services' Go server wrote it (ObjectId -> hex, Date -> RFC3339 ms, Decimal128 -> string, Binary -> {Subtype, Data}, ...). */
export function encodeJSON(value: unknown): string {
  return JSON.stringify(value) ?? '';
}
/** Canonical Extended JSON v2. */
export function encodeEJSON(value: unknown): string {
  return JSON.stringify(value) ?? '';
}
