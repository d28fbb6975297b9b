// What kind of BSON value a JS value is, and MongoDB's cross-type sort order ("type bracketing").
// Works on driver-shaped values (JS numbers, bson classes) and on typed ones (Int32/Double wrappers).

export type Kind =
  | 'minKey'
  | 'null'
  | 'number'
  | 'string'
  | 'object'
  | 'array'
  | 'binary'
  | 'objectId'
  | 'bool'
  | 'date'
  | 'timestamp'
  | 'regex'
  | 'code'
  | 'maxKey';

/** MongoDB comparison/sort order of BSON types (MinKey < null < numbers < strings < objects < arrays < ...). */
export const KIND_RANK: Record<Kind, number> = {
  minKey: 1,
  null: 2,
  number: 3,
  string: 4,
  object: 5,
  array: 6,
  binary: 7,
  objectId: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  code: 13,
  maxKey: 14,
};

export function bsonTypeTag(v: object): string | undefined {
  const t = (v as { _bsontype?: unknown })._bsontype;
  return typeof t === 'string' ? t : undefined;
}

export function isDateValue(v: unknown): v is Date {
  return v instanceof Date || (typeof v === 'object' && v !== null && Object.prototype.toString.call(v) === '[object Date]');
}

export function isRegExpValue(v: unknown): v is RegExp {
  return v instanceof RegExp || (typeof v === 'object' && v !== null && Object.prototype.toString.call(v) === '[object RegExp]');
}

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return 'null';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const tag = bsonTypeTag(v as object);
  if (tag !== undefined) {
    switch (tag) {
      case 'Int32':
      case 'Double':
      case 'Long':
      case 'Decimal128':
        return 'number';
      case 'ObjectId':
        return 'objectId';
      case 'Binary':
        return 'binary';
      case 'Timestamp':
        return 'timestamp';
      case 'MinKey':
        return 'minKey';
      case 'MaxKey':
        return 'maxKey';
      case 'BSONRegExp':
        return 'regex';
      case 'Code':
        return 'code';
      case 'BSONSymbol':
        return 'string';
      default:
        return 'object';
    }
  }
  if (isDateValue(v)) return 'date';
  if (isRegExpValue(v)) return 'regex';
  if (v instanceof Uint8Array) return 'binary';
  return 'object';
}

/** A plain document/sub-document (not an array, Date, RegExp or bson value). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return kindOf(v) === 'object';
}
