// Write operations, each run by the caller inside one SQLite write transaction. A document write checks every
// unique index before touching anything, so a failing document leaves no partial state; documents written
// before it in the same operation stay written (MongoDB's non-atomic multi-document semantics).
import { ObjectId } from 'bson';
import { badValue, DataError } from '../errors';
import type { WriteErrorDetail } from '../errors';
import { applyReplacement, applyUpdate, buildUpsertDocument, classifyUpdate, project } from '../query';
import type { BulkOperation, Document, FindAndModifyAction, FindAndModifyOptions, Namespace, UpdateOptions, UpdateResult } from '../types';
import { bsonTypeTag, decodeDocument, decodeTypedDocument, encodeDocument, encodeKey, isDateValue, kindOf, parseSort, sortDocuments, toDriverShape } from '../values';
import type { Catalog, CollectionMeta, IndexMeta } from './catalog';
import { indexKeys } from './index-keys';
import { findMatches } from './reader';
import type { Match } from './reader';
import type { Statements } from './statements';

export interface WriteCtx {
  st: Statements;
  catalog: Catalog;
}

function formatKeyValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') {
    const tag = bsonTypeTag(v);
    if (tag === 'ObjectId') return `ObjectId('${(v as ObjectId).toHexString()}')`;
    if (tag) return `${tag}('${String(v)}')`;
    if (isDateValue(v)) return `new Date(${v.getTime()})`;
  }
  return String(v);
}

function duplicateKey(ns: Namespace, index: string, key: Record<string, number>, doc: Document): DataError {
  const keyValue: Record<string, unknown> = {};
  for (const f of Object.keys(key)) {
    let v: unknown = doc;
    for (const p of f.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    keyValue[f] = v === undefined ? null : v;
  }
  const shown = Object.entries(keyValue)
    .map(([f, v]) => `${f}: ${formatKeyValue(v)}`)
    .join(', ');
  const err = new DataError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns.db}.${ns.collection} index: ${index} dup key: { ${shown} }`);
  err.keyPattern = { ...key };
  err.keyValue = keyValue;
  return err;
}

function checkId(id: unknown): void {
  const k = kindOf(id);
  if (k === 'array') throw badValue("can't use an array for _id");
  if (k === 'regex') throw badValue("can't use a regex for _id");
}

/** Keys to remove and to add for one index when a document changes (null old/new: insert/delete). */
function keyDiff(index: IndexMeta, before: Document | null, after: Document | null): { removed: Buffer[]; added: Buffer[]; multikey: boolean } {
  const oldKeys = before ? indexKeys(index, before).keys : [];
  const next = after ? indexKeys(index, after) : { keys: [], multikey: false };
  if (!before) return { removed: [], added: next.keys, multikey: next.multikey };
  const oldSet = new Set(oldKeys.map((k) => k.toString('latin1')));
  const newSet = new Set(next.keys.map((k) => k.toString('latin1')));
  return {
    removed: oldKeys.filter((k) => !newSet.has(k.toString('latin1'))),
    added: next.keys.filter((k) => !oldSet.has(k.toString('latin1'))),
    multikey: next.multikey,
  };
}

/**
 * Index changes for a document write (`rid` -1 for a new document). Unique violations are found before
 * anything is written; the returned function applies the changes for the document's row id.
 */
function planIndexWrites(ctx: WriteCtx, ns: Namespace, coll: CollectionMeta, rid: number, before: Document | null, after: Document | null): (rid: number) => void {
  const diffs = coll.indexes.map((index) => ({ index, ...keyDiff(index, before, after) }));
  for (const d of diffs) {
    if (!d.index.unique) continue;
    for (const k of d.added) {
      if (ctx.st.uniqueProbe.get(d.index.iid, k, rid) !== undefined) throw duplicateKey(ns, d.index.name, d.index.key, after!);
    }
  }
  return (rowId) => {
    for (const d of diffs) {
      for (const k of d.removed) ctx.st.deleteEntry.run(d.index.iid, k, rowId);
      for (const k of d.added) ctx.st.insertEntry.run(d.index.iid, k, rowId);
      if (d.multikey && !d.index.multikey) ctx.catalog.markMultikey(ctx.st, d.index);
    }
  };
}

/** `_id` first (generated when missing), as MongoDB stores it. */
export function withId(doc: Document): Document {
  if ('_id' in doc && doc._id !== undefined) {
    checkId(doc._id);
    if (Object.keys(doc)[0] === '_id') return doc;
  }
  const out: Document = { _id: '_id' in doc && doc._id !== undefined ? doc._id : new ObjectId() };
  for (const k of Object.keys(doc)) if (k !== '_id') out[k] = doc[k];
  return out;
}

export function insertDocument(ctx: WriteCtx, ns: Namespace, coll: CollectionMeta, input: Document): unknown {
  const doc = withId(input);
  const bytes = encodeDocument(doc);
  const key = encodeKey(doc._id);
  const writeIndexes = planIndexWrites(ctx, ns, coll, -1, null, doc);
  let rid: number;
  try {
    rid = Number(ctx.st.insertDoc.run(coll.cid, key, bytes).lastInsertRowid);
  } catch (err) {
    // The unique (cid, key) index is the _id index.
    if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw duplicateKey(ns, '_id_', { _id: 1 }, doc);
    throw err;
  }
  writeIndexes(rid);
  return doc._id;
}

/** Replaces a stored document; returns whether its bytes changed. */
function rewrite(ctx: WriteCtx, ns: Namespace, coll: CollectionMeta, m: Match, stored: Document, next: Document): boolean {
  const bytes = encodeDocument(next);
  if (bytes.equals(m.bytes)) return false;
  planIndexWrites(ctx, ns, coll, m.rid, stored, next)(m.rid);
  ctx.st.updateDoc.run(bytes, m.rid);
  return true;
}

function removeDocument(ctx: WriteCtx, ns: Namespace, coll: CollectionMeta, m: Match): void {
  planIndexWrites(ctx, ns, coll, m.rid, decodeTypedDocument(m.bytes), null)(m.rid);
  ctx.st.deleteDoc.run(m.rid);
}

export function insertMany(ctx: WriteCtx, ns: Namespace, docs: Document[], ordered: boolean): { ids: unknown[]; errors: WriteErrorDetail[]; firstError?: DataError } {
  const coll = ctx.catalog.ensure(ctx.st, ns.db, ns.collection);
  const ids: unknown[] = [];
  const errors: WriteErrorDetail[] = [];
  let firstError: DataError | undefined;
  for (let i = 0; i < docs.length; i++) {
    try {
      ids[i] = insertDocument(ctx, ns, coll, docs[i]);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      errors.push({ index: i, code: err.code, codeName: err.codeName, errmsg: err.message });
      firstError ??= err;
      if (ordered) break;
    }
  }
  return { ids, errors, firstError };
}

export function update(ctx: WriteCtx, ns: Namespace, filter: Document, upd: Document | Document[], opts: UpdateOptions, multi: boolean, replace = false): UpdateResult {
  const kind = replace ? 'replacement' : classifyUpdate(upd, multi);
  if (replace && !Array.isArray(upd) && Object.keys(upd).some((k) => k.startsWith('$'))) {
    throw badValue('Replacement document must not contain atomic operators');
  }
  let coll = ctx.catalog.get(ns.db, ns.collection);
  const matches = coll ? findMatches(ctx.st, coll, filter, multi ? undefined : 1) : [];
  if (matches.length === 0) {
    if (!opts.upsert) return { matchedCount: 0, modifiedCount: 0 };
    coll ??= ctx.catalog.ensure(ctx.st, ns.db, ns.collection);
    const doc = buildUpsertDocument(filter, upd, kind, opts.arrayFilters);
    const id = insertDocument(ctx, ns, coll, doc);
    return { matchedCount: 0, modifiedCount: 0, upsertedId: id };
  }
  let modified = 0;
  for (const m of matches) {
    const stored = decodeTypedDocument(m.bytes);
    const next = kind === 'replacement' ? applyReplacement(stored, upd as Document) : applyUpdate(stored, upd, kind, { arrayFilters: opts.arrayFilters, filter, inserting: false });
    if (rewrite(ctx, ns, coll!, m, stored, next)) modified++;
  }
  return { matchedCount: matches.length, modifiedCount: modified };
}

export function remove(ctx: WriteCtx, ns: Namespace, filter: Document, multi: boolean): number {
  const coll = ctx.catalog.get(ns.db, ns.collection);
  if (!coll) return 0;
  const matches = findMatches(ctx.st, coll, filter, multi ? undefined : 1);
  for (const m of matches) removeDocument(ctx, ns, coll, m);
  return matches.length;
}

export function findOneAndModify(ctx: WriteCtx, ns: Namespace, filter: Document, action: FindAndModifyAction, opts: FindAndModifyOptions): Document | null {
  let coll = ctx.catalog.get(ns.db, ns.collection);
  const sortKeys = opts.sort && Object.keys(opts.sort).length > 0 ? parseSort(opts.sort) : null;
  const matches = coll ? findMatches(ctx.st, coll, filter, sortKeys ? undefined : 1) : [];
  let m = matches[0];
  if (sortKeys && matches.length > 1) {
    const first = sortDocuments(matches.map((x) => x.doc), sortKeys)[0];
    m = matches.find((x) => x.doc === first)!;
  }
  const out = (doc: Document | null): Document | null => (doc ? project([doc], opts.projection)[0] : null);
  if (!m) {
    if (!opts.upsert || action.kind === 'delete') return null;
    coll ??= ctx.catalog.ensure(ctx.st, ns.db, ns.collection);
    const kind = action.kind === 'replace' ? 'replacement' : classifyUpdate(action.update, false);
    const doc = buildUpsertDocument(filter, action.kind === 'replace' ? action.replacement : action.update, kind, action.kind === 'update' ? action.arrayFilters : undefined);
    insertDocument(ctx, ns, coll, doc);
    return opts.returnNew ? out(toDriverShape(doc) as Document) : null;
  }
  const before = m.doc;
  if (action.kind === 'delete') {
    removeDocument(ctx, ns, coll!, m);
    return out(before);
  }
  const stored = decodeTypedDocument(m.bytes);
  let next: Document;
  if (action.kind === 'replace') {
    if (Object.keys(action.replacement).some((k) => k.startsWith('$'))) throw badValue('Replacement document must not contain atomic operators');
    next = applyReplacement(stored, action.replacement);
  } else {
    const kind = classifyUpdate(action.update, false);
    next = kind === 'replacement' ? applyReplacement(stored, action.update as Document) : applyUpdate(stored, action.update, kind, { arrayFilters: action.arrayFilters, filter, inserting: false });
  }
  rewrite(ctx, ns, coll!, m, stored, next);
  return out(opts.returnNew ? decodeDocument(encodeDocument(next)) : before);
}

/** Runs bulkWrite operations in order; errors are collected (and stop an ordered run). */
export function bulkWrite(ctx: WriteCtx, ns: Namespace, ops: BulkOperation[], ordered: boolean): { errors: WriteErrorDetail[]; insertedIds: Record<number, unknown> } {
  const errors: WriteErrorDetail[] = [];
  const insertedIds: Record<number, unknown> = {};
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    try {
      if ('insertOne' in op) {
        const coll = ctx.catalog.ensure(ctx.st, ns.db, ns.collection);
        insertedIds[i] = insertDocument(ctx, ns, coll, op.insertOne.document);
      } else if ('updateOne' in op) {
        update(ctx, ns, op.updateOne.filter, op.updateOne.update, op.updateOne, false);
      } else if ('updateMany' in op) {
        update(ctx, ns, op.updateMany.filter, op.updateMany.update, op.updateMany, true);
      } else if ('replaceOne' in op) {
        update(ctx, ns, op.replaceOne.filter, op.replaceOne.replacement, op.replaceOne, false, true);
      } else if ('deleteOne' in op) {
        remove(ctx, ns, op.deleteOne.filter, false);
      } else if ('deleteMany' in op) {
        remove(ctx, ns, op.deleteMany.filter, true);
      }
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      errors.push({ index: i, code: err.code, codeName: err.codeName, errmsg: err.message });
      if (ordered) break;
    }
  }
  return { errors, insertedIds };
}

/** Builds the entries of a new index over the existing documents (unique violations abort). */
export function buildIndex(ctx: WriteCtx, ns: Namespace, coll: CollectionMeta, index: IndexMeta): void {
  let after = 0;
  for (;;) {
    const rows = ctx.st.scanBatch.all(coll.cid, after, 1000);
    for (const row of rows) {
      const doc = decodeTypedDocument(row.doc);
      const { keys, multikey } = indexKeys(index, doc);
      for (const k of keys) {
        if (index.unique && ctx.st.uniqueProbe.get(index.iid, k, row.rid) !== undefined) throw duplicateKey(ns, index.name, index.key, doc);
        ctx.st.insertEntry.run(index.iid, k, row.rid);
      }
      if (multikey) ctx.catalog.markMultikey(ctx.st, index);
    }
    if (rows.length < 1000) return;
    after = rows[rows.length - 1].rid;
  }
}
