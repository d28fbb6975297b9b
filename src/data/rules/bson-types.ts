// Which App Services schema type names (bsonType / type) a value has.
// Documents reach the rules layer driver-shaped (a stored int32 or double is a JS number) or typed (Int32, Double,
// Long wrappers after an update), so a JS number is accepted as int/long when it is integral and in range, and as
// double always: the layer cannot tell them apart and refusing would break writes App Services accepted.
import { bsonTypeTag, isDateValue, isPlainObject, isRegExpValue } from '../values';

/** Every bsonType name App Services knows (plus `number`, any numeric, and `mixed`, anything). */
export const BSON_TYPE_NAMES = new Set([
  'double', 'string', 'object', 'array', 'objectId', 'date', 'bool', 'null', 'regex', 'int', 'timestamp', 'long',
  'decimal', 'uuid', 'binData', 'mixed', 'number', 'javascript', 'symbol', 'minKey', 'maxKey', 'undefined', 'dbPointer',
  'javascriptWithScope',
]);

export const JSON_TYPE_NAMES = new Set(['object', 'array', 'number', 'integer', 'boolean', 'string', 'null']);

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Whether `v` is of the named BSON type. */
export function hasBsonType(v: unknown, name: string): boolean {
  if (name === 'mixed') return true;
  if (v === null || v === undefined) return name === 'null';
  switch (typeof v) {
    case 'string':
      return name === 'string';
    case 'boolean':
      return name === 'bool';
    case 'number':
      if (name === 'double' || name === 'number') return true;
      if (!Number.isInteger(v)) return false;
      if (name === 'int') return v >= INT32_MIN && v <= INT32_MAX;
      return name === 'long' && Number.isSafeInteger(v);
    case 'bigint':
      return name === 'long' || name === 'number';
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(v)) return name === 'array';
  const tag = bsonTypeTag(v as object);
  switch (tag) {
    case 'Int32':
      return name === 'int' || name === 'number';
    case 'Double':
      return name === 'double' || name === 'number';
    case 'Long':
      return name === 'long' || name === 'number';
    case 'Decimal128':
      return name === 'decimal' || name === 'number';
    case 'ObjectId':
      return name === 'objectId';
    case 'Binary':
    case 'UUID': {
      if (name === 'binData') return true;
      const subtype = (v as { sub_type?: number }).sub_type;
      return name === 'uuid' && (tag === 'UUID' || subtype === 4) && (v as { position?: number }).position === 16;
    }
    case 'Timestamp':
      return name === 'timestamp';
    case 'BSONRegExp':
      return name === 'regex';
    case 'BSONSymbol':
      return name === 'symbol';
    case 'Code':
      return name === 'javascript' || name === 'javascriptWithScope';
    case 'MinKey':
      return name === 'minKey';
    case 'MaxKey':
      return name === 'maxKey';
    case 'DBRef':
      return name === 'dbPointer' || name === 'object';
    case undefined:
      break;
    default:
      return false;
  }
  if (isDateValue(v)) return name === 'date';
  if (isRegExpValue(v)) return name === 'regex';
  if (v instanceof Uint8Array) return name === 'binData';
  return isPlainObject(v) && name === 'object';
}

/** Whether `v` is of the named JSON Schema type (`type` keyword). */
export function hasJsonType(v: unknown, name: string): boolean {
  switch (name) {
    case 'null':
      return v === null || v === undefined;
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'number':
      return hasBsonType(v, 'number');
    case 'integer':
      return (typeof v === 'number' && Number.isInteger(v)) || hasBsonType(v, 'int') || hasBsonType(v, 'long');
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isPlainObject(v);
    default:
      return false;
  }
}

/** The type names a value has, for messages ("given: [int long number]"). */
export function describeBsonType(v: unknown): string {
  const names = ['null', 'bool', 'string', 'int', 'long', 'double', 'decimal', 'objectId', 'date', 'uuid', 'binData', 'regex', 'timestamp', 'array', 'object'];
  const found = names.filter((n) => hasBsonType(v, n));
  return found.length > 0 ? found.join(' ') : typeof v;
}
