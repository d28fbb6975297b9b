// Applying an update document (or pipeline, or replacement) to one stored document, with MongoDB's rules:
// operators run through mingo's updater; fields the update does not touch keep their stored BSON type (a Long
// stays a Long, a Double 2.0 stays a Double); $inc/$mul follow MongoDB's numeric type promotion; `_id` cannot
// change; $setOnInsert applies only when an upsert inserts. Operators mingo would silently get wrong (arithmetic
// on Decimal128, $inc on a string) fail with a MongoDB-style error instead.
import { Double, Int32, Long, ObjectId } from 'bson';
import { DataError, failedToParse, notSupported, typeMismatch } from '../errors';
import type { Document } from '../types';
import { bsonEquals, bsonTypeTag, isNumeric, isPlainObject, isRegExpValue, toDouble, toDriverShape } from '../values';
import { mingoCall, mingoOptions } from './engine';
import { updaterModule, util } from './mingo';

const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$pop',
  '$bit',
  '$setOnInsert',
]);
const PIPELINE_UPDATE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
const ARITHMETIC = new Set(['$inc', '$mul']);

export type UpdateKind = 'operators' | 'pipeline' | 'replacement';

/**
 * Operator document, pipeline, or replacement (no `$` keys). A replacement is accepted where MongoDB's update
 * command accepts one (single-document updates): App Services apps pass plain documents to updateOne.
 */
export function classifyUpdate(update: Document | Document[], multi: boolean): UpdateKind {
  if (Array.isArray(update)) {
    for (const stage of update) {
      const name = Object.keys(stage)[0];
      if (Object.keys(stage).length !== 1 || !PIPELINE_UPDATE_STAGES.has(name)) {
        throw failedToParse(`Unrecognized pipeline stage name in an update: '${name}'; pipeline updates accept $addFields, $set, $project, $unset, $replaceRoot and $replaceWith`);
      }
    }
    return 'pipeline';
  }
  const keys = Object.keys(update);
  if (keys.length === 0) throw failedToParse('Update document requires atomic operators (the update document is empty)');
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length === 0) {
    if (multi) throw failedToParse('multi update is not supported for replacement-style update (updateMany needs update operators such as $set)');
    return 'replacement';
  }
  if (ops.length !== keys.length) {
    const plain = keys.find((k) => !k.startsWith('$'));
    throw failedToParse(`Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array (an update document cannot mix operators and plain fields)`);
  }
  for (const op of ops) {
    if (!UPDATE_OPERATORS.has(op)) throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isPlainObject(update[op])) throw failedToParse(`Modifiers operate on fields but we found type ${Array.isArray(update[op]) ? 'array' : typeof update[op]} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(update[op])}}`);
  }
  return 'operators';
}

function hasPositional(path: string): boolean {
  return path.split('.').some((p) => p === '$' || p.startsWith('$['));
}

type NumType = 'int' | 'long' | 'double';

function numTypeOf(v: unknown): NumType | 'decimal' | null {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff ? 'int' : 'double';
  if (typeof v !== 'object' || v === null) return null;
  switch (bsonTypeTag(v)) {
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Double':
      return 'double';
    case 'Decimal128':
      return 'decimal';
  }
  return null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return bsonTypeTag(v as object) ?? (v instanceof Date ? 'date' : 'object');
  return typeof v;
}

interface TargetInfo {
  op: string;
  argType: NumType;
}

/** Normalises numeric operands and checks targets, returning the paths whose result type must be computed. */
function prepareOperators(update: Document, current: Document, insert: boolean): { modifier: Document; targets: Map<string, TargetInfo> } {
  const modifier: Document = {};
  const targets = new Map<string, TargetInfo>();
  for (const [op, operand] of Object.entries(update)) {
    const fields = operand as Document;
    if (op === '$setOnInsert') continue;
    if (op === '$inc' || op === '$mul' || op === '$min' || op === '$max') {
      const out: Document = {};
      for (const [path, arg] of Object.entries(fields)) {
        const t = numTypeOf(arg);
        if (ARITHMETIC.has(op)) {
          if (t === null) throw typeMismatch(`Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${describe(arg)}}`);
          if (t === 'decimal') throw notSupported(`${op} with a Decimal128 operand`);
        } else if (t === 'decimal' || (typeof arg === 'object' && arg !== null && bsonTypeTag(arg) === 'Long' && !Number.isSafeInteger(toDouble(arg)))) {
          throw notSupported(`${op} with a Decimal128 or 64-bit operand beyond 2^53`);
        }
        if (!hasPositional(path)) {
          const now = util.resolve(current, path);
          if (now !== undefined && now !== null) {
            const nt = numTypeOf(now);
            if (ARITHMETIC.has(op) && nt === null) {
              throw typeMismatch(`Cannot apply ${op} to a value of non-numeric type. {_id: ${String(current._id)}} has the field '${path}' of non-numeric type ${describe(now)}`);
            }
            if (nt === 'decimal' || (typeof now === 'object' && bsonTypeTag(now as object) === 'Long')) {
              throw notSupported(`${op} on a Decimal128 or 64-bit integer field beyond 2^53 ('${path}')`);
            }
          }
          if (t !== null) targets.set(path, { op, argType: t as NumType });
        }
        out[path] = isNumeric(arg) ? toDouble(arg) : arg;
      }
      modifier[op] = out;
    } else if (op === '$addToSet') {
      // mingo adds repeated $each values more than once; MongoDB adds each distinct value once.
      const out: Document = {};
      for (const [path, arg] of Object.entries(fields)) {
        if (isPlainObject(arg) && Array.isArray((arg as Document).$each)) {
          const unique: unknown[] = [];
          for (const v of (arg as { $each: unknown[] }).$each) if (!unique.some((u) => bsonEquals(u, v))) unique.push(v);
          out[path] = { ...(arg as Document), $each: unique };
        } else out[path] = arg;
      }
      modifier[op] = out;
    } else {
      modifier[op] = fields;
    }
  }
  if (insert && update.$setOnInsert) {
    const set = { ...((modifier.$set as Document | undefined) ?? {}) };
    for (const [path, v] of Object.entries(update.$setOnInsert as Document)) {
      if (path in set) throw new DataError(40, 'ConflictingUpdateOperators', `Updating the path '${path}' would create a conflict at '${path}'`);
      set[path] = v;
    }
    modifier.$set = set;
  }
  return { modifier, targets };
}

/** The BSON number type MongoDB gives the result of an arithmetic update. */
function resultNumber(value: number, before: unknown, info: TargetInfo): unknown {
  const was = numTypeOf(before) ?? 'int';
  if (info.op === '$min' || info.op === '$max') {
    // The stored value stays (with its type) unless the operand won.
    if (before !== undefined && toDouble(before) === value) return before;
    return typed(value, info.argType);
  }
  const kind: NumType = was === 'double' || info.argType === 'double' ? 'double' : was === 'long' || info.argType === 'long' ? 'long' : 'int';
  if (kind === 'int' && Number.isInteger(value) && (value > 0x7fffffff || value < -0x80000000)) return typed(value, 'long');
  return typed(value, kind);
}

function typed(value: number, t: NumType | 'decimal'): unknown {
  if (t === 'double') return new Double(value);
  if (t === 'long' && Number.isInteger(value)) return Long.fromNumber(value);
  if (t === 'int' && Number.isInteger(value) && value <= 0x7fffffff && value >= -0x80000000) return new Int32(value);
  return value;
}

/**
 * Puts the stored BSON type back on numbers the update left unchanged, and gives arithmetic results their
 * MongoDB type. `before` is the typed-shape original at the same path.
 */
function restoreTypes(after: unknown, before: unknown, path: string, targets: Map<string, TargetInfo>): unknown {
  if (typeof after === 'number') {
    const info = targets.get(path);
    if (info) return resultNumber(after, before, info);
    if (before !== undefined && numTypeOf(before) !== null && numTypeOf(before) !== 'decimal' && Object.is(toDouble(before), after)) return before;
    return after;
  }
  if (Array.isArray(after)) {
    const prev = Array.isArray(before) ? before : [];
    for (let i = 0; i < after.length; i++) after[i] = restoreTypes(after[i], prev[i], path ? `${path}.${i}` : String(i), targets);
    return after;
  }
  if (isPlainObject(after)) {
    const prev = isPlainObject(before) ? (before as Document) : {};
    for (const k of Object.keys(after)) (after as Document)[k] = restoreTypes((after as Document)[k], prev[k], path ? `${path}.${k}` : k, targets);
  }
  return after;
}

function idFirst(doc: Document): Document {
  if (Object.keys(doc)[0] === '_id') return doc;
  const out: Document = { _id: doc._id };
  for (const k of Object.keys(doc)) if (k !== '_id') out[k] = doc[k];
  return out;
}

function checkId(before: unknown, after: Document): void {
  if (!('_id' in after) || !bsonEquals(after._id, before)) {
    throw new DataError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
}

export interface ApplyOptions {
  arrayFilters?: Document[];
  /** The query that matched, for the positional `$` operator. */
  filter: Document;
  /** True when an upsert is inserting this (seeded) document: $setOnInsert applies. */
  inserting: boolean;
}

/**
 * Returns the new document (ready to store, numbers typed) for an operator or pipeline update of `stored`
 * (typed shape). `stored` is not modified.
 */
export function applyUpdate(stored: Document, update: Document | Document[], kind: 'operators' | 'pipeline', opts: ApplyOptions): Document {
  const current = toDriverShape(stored) as Document;
  const docs = [current];
  let targets = new Map<string, TargetInfo>();
  let modifier: Document | Document[];
  let condition: Document = {};
  if (kind === 'operators') {
    const prepared = prepareOperators(update as Document, current, opts.inserting);
    modifier = prepared.modifier;
    targets = prepared.targets;
    const paths = Object.values(modifier).flatMap((f) => Object.keys(f as Document));
    if (paths.some((p) => p.split('.').includes('$'))) condition = opts.filter;
    if (Object.keys(modifier).length === 0) return stored;
  } else {
    modifier = update;
  }
  mingoCall(() =>
    updaterModule.updateOne(docs, condition as never, modifier as never, { arrayFilters: opts.arrayFilters, cloneMode: 'deep' } as never, mingoOptions() as never),
  );
  const after = docs[0];
  checkId(stored._id, after);
  return idFirst(restoreTypes(after, stored, '', targets) as Document);
}

/** A replacement keeps the stored `_id` (and may only repeat it). */
export function applyReplacement(stored: Document, replacement: Document): Document {
  if ('_id' in replacement && !bsonEquals(replacement._id, stored._id)) {
    throw new DataError(66, 'ImmutableField', "After applying the update, the (immutable) field '_id' was found to have been altered");
  }
  const out: Document = { _id: stored._id };
  for (const k of Object.keys(replacement)) if (k !== '_id') out[k] = replacement[k];
  return out;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node[parts[i]];
    if (!isPlainObject(next)) node[parts[i]] = {};
    node = node[parts[i]] as Document;
  }
  node[parts[parts.length - 1]] = value;
}

/** The fields an upsert copies from its query: top-level equality conditions (also inside $and). */
export function upsertSeed(filter: Document, into: Document = {}): Document {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const clause of v) if (isPlainObject(clause)) upsertSeed(clause as Document, into);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in v) setPath(into, k, (v as Document).$eq);
      continue;
    }
    if (isRegExpValue(v)) continue;
    setPath(into, k, v);
  }
  return into;
}

/** The document an upsert inserts: the query's equality fields, then the update, `_id` first. */
export function buildUpsertDocument(filter: Document, update: Document | Document[], kind: UpdateKind, arrayFilters?: Document[]): Document {
  if (kind === 'replacement') {
    const doc = update as Document;
    const seed = upsertSeed(filter);
    const id = '_id' in doc ? doc._id : '_id' in seed ? seed._id : new ObjectId();
    const out: Document = { _id: id };
    for (const k of Object.keys(doc)) if (k !== '_id') out[k] = doc[k];
    return out;
  }
  const seed = upsertSeed(filter);
  if (!('_id' in seed)) seed._id = new ObjectId();
  const start = idFirst(seed);
  const result = applyUpdate(start, update, kind, { arrayFilters, filter, inserting: true });
  return result;
}
