// The App Services collection API (§11.3): App Services argument order and option names (find's second
// argument is a projection, returnNewDocument), App Services result shapes, driver-only options tolerated.
import { ObjectId } from 'bson';
import { badValue, DataError } from '../errors';
import type { BulkOperation, DataSource, Document, FindAndModifyAction, Namespace, OperationContext } from '../types';
import { isPlainObject, toHostDocument, toHostDocumentArray } from '../values';
import { arrayFilters, limitValue, nonNegativeInt, optionalDocument, optionsObject, sessionOf, updateArgument } from './arguments';
import { AggregationCursor, FindCursor } from './cursor';

function ctxOf(options: Record<string, unknown>): OperationContext {
  const session = sessionOf(options);
  return session ? { session } : {};
}

function systemOnly(what: string): DataError {
  return new DataError(13, 'Unauthorized', `${what} is only available to functions that run as system`);
}

/** insertOne/insertMany: like the driver, an `_id` is generated for documents without one and set on them. */
function prepareInsert(doc: unknown, what: string): Document {
  const host = toHostDocument(doc, what);
  if (host._id === undefined) {
    const id = new ObjectId();
    const withId: Document = { _id: id, ...host };
    try {
      (doc as Record<string, unknown>)._id = id;
    } catch {
      // A frozen document: the generated id is still returned as insertedId.
    }
    return withId;
  }
  return host;
}

function bulkOperation(op: unknown, i: number): BulkOperation {
  if (!isPlainObject(op) || Object.keys(op).length !== 1) throw badValue(`bulkWrite operation ${i} must be an object with exactly one of insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany`);
  const [name, raw] = Object.entries(op)[0];
  const body = optionsObject(raw, `bulkWrite operation ${i}.${name}`);
  const filter = () => toHostDocument(body.filter ?? body.q, `bulkWrite operation ${i}.${name}.filter`);
  switch (name) {
    case 'insertOne':
      return { insertOne: { document: prepareInsert(body.document, `bulkWrite operation ${i}.insertOne.document`) } };
    case 'updateOne':
    case 'updateMany': {
      const spec = { filter: filter(), update: updateArgument(body.update, `bulkWrite operation ${i}.${name}.update`), upsert: body.upsert === true, arrayFilters: arrayFilters(body) };
      return name === 'updateOne' ? { updateOne: spec } : { updateMany: spec };
    }
    case 'replaceOne':
      return { replaceOne: { filter: filter(), replacement: toHostDocument(body.replacement, `bulkWrite operation ${i}.replaceOne.replacement`), upsert: body.upsert === true } };
    case 'deleteOne':
      return { deleteOne: { filter: filter() } };
    case 'deleteMany':
      return { deleteMany: { filter: filter() } };
    default:
      throw badValue(`unknown bulkWrite operation "${name}" (operation ${i})`);
  }
}

export class MongoCollection {
  constructor(
    private readonly source: DataSource,
    private readonly ns: Namespace,
    private readonly system: boolean,
  ) {}

  get collectionName(): string {
    return this.ns.collection;
  }

  get dbName(): string {
    return this.ns.db;
  }

  /** find(query, projection, options): options may also carry driver-style sort/skip/limit/projection. */
  find(query?: unknown, projection?: unknown, options?: unknown): FindCursor {
    const opts = optionsObject(options, 'options');
    const cursor = new FindCursor(
      this.source,
      this.ns,
      {
        filter: toHostDocument(query, 'query'),
        projection: optionalDocument(projection, 'projection') ?? optionalDocument(opts.projection, 'options.projection'),
        sort: optionalDocument(opts.sort, 'options.sort'),
        skip: opts.skip === undefined ? 0 : nonNegativeInt(opts.skip, 'skip'),
        limit: opts.limit === undefined ? 0 : limitValue(opts.limit),
      },
      ctxOf(opts),
    );
    return cursor;
  }

  async findOne(query?: unknown, projection?: unknown, options?: unknown): Promise<Document | null> {
    const opts = optionsObject(options, 'options');
    const docs = await this.source.find(
      this.ns,
      toHostDocument(query, 'query'),
      {
        projection: optionalDocument(projection, 'projection') ?? optionalDocument(opts.projection, 'options.projection'),
        sort: optionalDocument(opts.sort, 'options.sort'),
        skip: opts.skip === undefined ? 0 : nonNegativeInt(opts.skip, 'skip'),
        limit: 1,
      },
      ctxOf(opts),
    );
    return docs[0] ?? null;
  }

  async insertOne(doc: unknown, options?: unknown): Promise<{ insertedId: unknown }> {
    const opts = optionsObject(options, 'options');
    if (Array.isArray(doc)) throw badValue('insertOne takes one document; use insertMany for an array');
    const ids = await this.source.insertMany(this.ns, [prepareInsert(doc, 'document')], { ordered: true }, ctxOf(opts));
    return { insertedId: ids[0] };
  }

  async insertMany(docs: unknown, options?: unknown): Promise<{ insertedIds: unknown[] }> {
    const opts = optionsObject(options, 'options');
    if (!Array.isArray(docs)) throw badValue('insertMany needs an array of documents');
    if (docs.length === 0) throw badValue('Invalid BulkOperation, Batch cannot be empty');
    const prepared = docs.map((d, i) => prepareInsert(d, `documents[${i}]`));
    const ids = await this.source.insertMany(this.ns, prepared, { ordered: opts.ordered !== false }, ctxOf(opts));
    return { insertedIds: ids };
  }

  async updateOne(query: unknown, update: unknown, options?: unknown): Promise<Record<string, unknown>> {
    const opts = optionsObject(options, 'options');
    const r = await this.source.updateOne(this.ns, toHostDocument(query, 'query'), updateArgument(update, 'update'), { upsert: opts.upsert === true, arrayFilters: arrayFilters(opts) }, ctxOf(opts));
    return updateResult(r);
  }

  async updateMany(query: unknown, update: unknown, options?: unknown): Promise<Record<string, unknown>> {
    const opts = optionsObject(options, 'options');
    const r = await this.source.updateMany(this.ns, toHostDocument(query, 'query'), updateArgument(update, 'update'), { upsert: opts.upsert === true, arrayFilters: arrayFilters(opts) }, ctxOf(opts));
    return updateResult(r);
  }

  async replaceOne(query: unknown, replacement: unknown, options?: unknown): Promise<Record<string, unknown>> {
    const opts = optionsObject(options, 'options');
    const r = await this.source.replaceOne(this.ns, toHostDocument(query, 'query'), toHostDocument(replacement, 'replacement'), { upsert: opts.upsert === true }, ctxOf(opts));
    return updateResult(r);
  }

  async deleteOne(query?: unknown, options?: unknown): Promise<{ deletedCount: number }> {
    const opts = optionsObject(options, 'options');
    return { deletedCount: await this.source.deleteOne(this.ns, toHostDocument(query, 'query'), ctxOf(opts)) };
  }

  async deleteMany(query?: unknown, options?: unknown): Promise<{ deletedCount: number }> {
    const opts = optionsObject(options, 'options');
    return { deletedCount: await this.source.deleteMany(this.ns, toHostDocument(query, 'query'), ctxOf(opts)) };
  }

  /** Options: upsert, sort, projection, returnNewDocument (driver's returnDocument/new are ignored, as App Services did). */
  async findOneAndUpdate(query: unknown, update: unknown, options?: unknown): Promise<Document | null> {
    const opts = optionsObject(options, 'options');
    return this.findAndModify(query, { kind: 'update', update: updateArgument(update, 'update'), arrayFilters: arrayFilters(opts) }, opts);
  }

  async findOneAndReplace(query: unknown, replacement: unknown, options?: unknown): Promise<Document | null> {
    const opts = optionsObject(options, 'options');
    return this.findAndModify(query, { kind: 'replace', replacement: toHostDocument(replacement, 'replacement') }, opts);
  }

  async findOneAndDelete(query?: unknown, options?: unknown): Promise<Document | null> {
    const opts = optionsObject(options, 'options');
    return this.findAndModify(query, { kind: 'delete' }, opts);
  }

  private findAndModify(query: unknown, action: FindAndModifyAction, opts: Record<string, unknown>): Promise<Document | null> {
    return this.source.findOneAndModify(
      this.ns,
      toHostDocument(query, 'query'),
      action,
      {
        sort: optionalDocument(opts.sort, 'options.sort'),
        projection: optionalDocument(opts.projection, 'options.projection'),
        upsert: opts.upsert === true,
        returnNew: opts.returnNewDocument === true,
      },
      ctxOf(opts),
    );
  }

  aggregate(pipeline?: unknown, options?: unknown): AggregationCursor {
    const opts = optionsObject(options, 'options');
    const stages = pipeline === undefined || pipeline === null ? [] : toHostDocumentArray(pipeline, 'pipeline');
    return new AggregationCursor(this.source, this.ns, stages, ctxOf(opts));
  }

  /** count(query, options): options.limit and options.skip are honoured. */
  async count(query?: unknown, options?: unknown): Promise<number> {
    const opts = optionsObject(options, 'options');
    return this.source.count(
      this.ns,
      toHostDocument(query, 'query'),
      { skip: opts.skip === undefined ? 0 : nonNegativeInt(opts.skip, 'skip'), limit: opts.limit === undefined ? 0 : limitValue(opts.limit) },
      ctxOf(opts),
    );
  }

  /** The driver's name for count(); kept for functions ported from Node. */
  countDocuments(query?: unknown, options?: unknown): Promise<number> {
    return this.count(query, options);
  }

  async distinct(field: unknown, query?: unknown, options?: unknown): Promise<unknown[]> {
    if (typeof field !== 'string' || field.length === 0) throw badValue('distinct needs a field name (a non-empty string)');
    const opts = optionsObject(options, 'options');
    return this.source.distinct(this.ns, field, toHostDocument(query, 'query'), ctxOf(opts));
  }

  /** Resolves to null (§11.3); failures reject with a MongoBulkWriteError listing each failed operation. */
  async bulkWrite(operations: unknown, options?: unknown): Promise<null> {
    const opts = optionsObject(options, 'options');
    if (!Array.isArray(operations) || operations.length === 0) throw badValue('bulkWrite needs a non-empty array of operations');
    const ops = operations.map(bulkOperation);
    await this.source.bulkWrite(this.ns, ops, { ordered: opts.ordered !== false }, ctxOf(opts));
    return null;
  }

  initializeOrderedBulkOp(): BulkOpBuilder {
    return new BulkOpBuilder(this, true);
  }

  initializeUnorderedBulkOp(): BulkOpBuilder {
    return new BulkOpBuilder(this, false);
  }

  /** System functions only: creates a secondary index on the embedded store (or the cluster). */
  async createIndex(keys: unknown, options?: unknown): Promise<string> {
    if (!this.system) throw systemOnly('createIndex');
    const opts = optionsObject(options, 'options');
    const key = toHostDocument(keys, 'index keys') as Record<string, number>;
    return this.source.createIndex(this.ns, {
      key,
      name: typeof opts.name === 'string' ? opts.name : undefined,
      unique: opts.unique === true,
      sparse: opts.sparse === true,
    });
  }

  async indexes(): Promise<Document[]> {
    if (!this.system) throw systemOnly('indexes');
    const list = await this.source.listIndexes(this.ns);
    return list.map((i) => ({ v: 2, key: i.key, name: i.name, ...(i.unique && i.name !== '_id_' ? { unique: true } : {}), ...(i.sparse ? { sparse: true } : {}) }));
  }

  async dropIndex(name: unknown): Promise<void> {
    if (!this.system) throw systemOnly('dropIndex');
    if (typeof name !== 'string') throw badValue('dropIndex needs an index name');
    await this.source.dropIndex(this.ns, name);
  }
}

function updateResult(r: { matchedCount: number; modifiedCount: number; upsertedId?: unknown }): Record<string, unknown> {
  const out: Record<string, unknown> = { matchedCount: r.matchedCount, modifiedCount: r.modifiedCount };
  if (r.upsertedId !== undefined && r.upsertedId !== null) out.upsertedId = r.upsertedId;
  return out;
}

/** initializeOrderedBulkOp()/initializeUnorderedBulkOp(): find(q).updateOne(u) ..., insert(doc), execute(). */
export class BulkOpBuilder {
  private readonly ops: unknown[] = [];

  constructor(
    private readonly collection: MongoCollection,
    private readonly ordered: boolean,
  ) {}

  insert(document: unknown): this {
    this.ops.push({ insertOne: { document } });
    return this;
  }

  find(filter: unknown): BulkFindBuilder {
    return new BulkFindBuilder(this.ops, filter ?? {}, false, this);
  }

  async execute(options?: unknown): Promise<null> {
    if (this.ops.length === 0) throw badValue('Invalid BulkOperation, Batch cannot be empty');
    const opts = optionsObject(options, 'options');
    return this.collection.bulkWrite(this.ops.splice(0), { ...opts, ordered: this.ordered });
  }
}

export class BulkFindBuilder {
  constructor(
    private readonly ops: unknown[],
    private readonly filter: unknown,
    private readonly upsertFlag: boolean,
    private readonly parent: BulkOpBuilder,
  ) {}

  upsert(): BulkFindBuilder {
    return new BulkFindBuilder(this.ops, this.filter, true, this.parent);
  }

  updateOne(update: unknown): BulkOpBuilder {
    this.ops.push({ updateOne: { filter: this.filter, update, upsert: this.upsertFlag } });
    return this.parent;
  }

  update(update: unknown): BulkOpBuilder {
    this.ops.push({ updateMany: { filter: this.filter, update, upsert: this.upsertFlag } });
    return this.parent;
  }

  replaceOne(replacement: unknown): BulkOpBuilder {
    this.ops.push({ replaceOne: { filter: this.filter, replacement, upsert: this.upsertFlag } });
    return this.parent;
  }

  deleteOne(): BulkOpBuilder {
    this.ops.push({ deleteOne: { filter: this.filter } });
    return this.parent;
  }

  delete(): BulkOpBuilder {
    this.ops.push({ deleteMany: { filter: this.filter } });
    return this.parent;
  }

  removeOne(): BulkOpBuilder {
    return this.deleteOne();
  }

  remove(): BulkOpBuilder {
    return this.delete();
  }
}
