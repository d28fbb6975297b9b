// BSON-aware replacements for mingo's value-comparing query operators. mingo compares custom objects by their
// toString() and only within one JS type, which is wrong for Decimal128/Long against numbers, for Decimal128
// ordering and for `$type` aliases such as "objectId". These operators keep mingo's structure (how paths are
// resolved, how arrays are matched) and swap the value semantics for MongoDB's (values/compare.ts).
import { badValue } from '../errors';
import { bsonEquals, bsonTypeTag, compareBson, isNumeric, isRegExpValue, KIND_RANK, kindOf, toDouble } from '../values';
import { queryOperators, util } from './mingo';

type Predicate = (lhs: unknown, rhs: unknown, depth: number) => boolean;
type QueryOp = (selector: string, value: unknown, options: unknown) => (obj: unknown) => boolean;

function fieldOp(pred: Predicate): QueryOp {
  return (selector, value) => {
    let depth = 0;
    for (let i = selector.indexOf('.'); i !== -1; i = selector.indexOf('.', i + 1)) depth++;
    return (obj) => pred(util.resolve(obj as Record<string, unknown>, selector, { unwrapArray: true }), value, depth);
  };
}

/** The values a field condition is tested against: the value itself and, for arrays, their elements. */
function candidates(a: unknown, depth: number, withWhole: boolean): unknown[] {
  if (!Array.isArray(a)) return [a];
  const flat = depth > 0 ? util.flatten(a, depth) : a;
  return withWhole ? [a, ...flat] : flat;
}

function eq(a: unknown, b: unknown, depth: number): boolean {
  if (b === null || b === undefined) {
    if (a === null || a === undefined) return true;
    return Array.isArray(a) && candidates(a, depth, false).some((v) => v === null || v === undefined);
  }
  if (bsonEquals(a, b)) return true;
  if (!Array.isArray(a)) return false;
  for (const v of candidates(a, depth, false)) if (bsonEquals(v, b)) return true;
  return false;
}

function regexMatches(a: unknown, re: RegExp, depth: number): boolean {
  return candidates(a, depth, false).some((v) => typeof v === 'string' && (re.lastIndex = 0, re.test(v)));
}

function inList(a: unknown, list: unknown, depth: number): boolean {
  if (!Array.isArray(list)) throw badValue('$in needs an array');
  for (const b of list) {
    if (isRegExpValue(b) ? regexMatches(a, b, depth) : eq(a, b, depth)) return true;
  }
  return false;
}

function comparison(test: (c: number) => boolean): Predicate {
  return (a, b, depth) => {
    const rank = KIND_RANK[kindOf(b)];
    for (const v of candidates(a, depth, Array.isArray(b))) {
      if (KIND_RANK[kindOf(v)] === rank && test(compareBson(v, b))) return true;
    }
    return false;
  };
}

const TYPE_CODES: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  13: 'javascript',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};

/** The BSON type alias of a value; JS numbers (driver shape) are int when int32-sized and integral, else double. */
export function bsonTypeAlias(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0) ? 'int' : 'double';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'object' && v !== null) {
    switch (bsonTypeTag(v)) {
      case 'Int32':
        return 'int';
      case 'Double':
        return 'double';
      case 'Long':
        return 'long';
      case 'Decimal128':
        return 'decimal';
    }
  }
  switch (kindOf(v)) {
    case 'null':
      return 'null';
    case 'string':
      return 'string';
    case 'object':
      return 'object';
    case 'array':
      return 'array';
    case 'binary':
      return 'binData';
    case 'objectId':
      return 'objectId';
    case 'bool':
      return 'bool';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    case 'regex':
      return 'regex';
    case 'code':
      return 'javascript';
    case 'minKey':
      return 'minKey';
    case 'maxKey':
      return 'maxKey';
    default:
      return 'double';
  }
}

function typeName(t: unknown): string {
  if (typeof t === 'string') return t;
  if (isNumeric(t)) {
    const name = TYPE_CODES[toDouble(t)];
    if (name) return name;
  }
  throw badValue(`unknown type name alias: ${String(t)}`);
}

function typeMatches(a: unknown, spec: unknown): boolean {
  const wanted = (Array.isArray(spec) ? spec : [spec]).map(typeName);
  const test = (v: unknown): boolean => {
    if (v === undefined) return false; // a missing field has no type
    const alias = bsonTypeAlias(v);
    return wanted.some((w) => w === alias || (w === 'number' && (alias === 'int' || alias === 'double' || alias === 'long' || alias === 'decimal')));
  };
  if (test(a)) return true;
  return Array.isArray(a) && a.some(test);
}

function modMatches(a: unknown, spec: unknown, depth: number): boolean {
  if (!Array.isArray(spec) || spec.length !== 2 || !isNumeric(spec[0]) || !isNumeric(spec[1])) {
    throw badValue('malformed mod, needs to be an array of 2 numbers');
  }
  const d = Math.trunc(toDouble(spec[0]));
  const r = Math.trunc(toDouble(spec[1]));
  if (d === 0) throw badValue('divisor cannot be 0');
  return candidates(a, depth, false).some((v) => isNumeric(v) && Math.trunc(toDouble(v)) % d === r);
}

const mingoAll = queryOperators.$all as unknown as QueryOp;

const $all: QueryOp = (selector, value, options) => {
  if (!Array.isArray(value)) throw badValue('$all needs an array');
  const usesElemMatch = value.some((e) => typeof e === 'object' && e !== null && !Array.isArray(e) && Object.keys(e)[0] === '$elemMatch');
  if (usesElemMatch) return mingoAll(selector, value, options);
  return fieldOp((a, list, depth) => {
    const items = list as unknown[];
    if (items.length === 0) return false;
    return items.every((b) => (isRegExpValue(b) ? regexMatches(a, b, depth) : eq(a, b, depth)));
  })(selector, value, options);
};

/** Query operators that replace mingo's, keyed by name. */
export const BSON_QUERY_OPERATORS: Record<string, QueryOp> = {
  $eq: fieldOp(eq),
  $ne: fieldOp((a, b, d) => !eq(a, b, d)),
  $gt: fieldOp(comparison((c) => c > 0)),
  $gte: fieldOp(comparison((c) => c >= 0)),
  $lt: fieldOp(comparison((c) => c < 0)),
  $lte: fieldOp(comparison((c) => c <= 0)),
  $in: fieldOp(inList),
  $nin: fieldOp((a, b, d) => !inList(a, b, d)),
  $type: fieldOp((a, b) => typeMatches(a, b)),
  $mod: fieldOp(modMatches),
  $all,
};
