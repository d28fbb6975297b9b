// The DataSource over a real MongoDB deployment: App Services semantics mapped onto the Node driver
// (returnNewDocument -> returnDocument, replacement-style updateOne -> replaceOne, insertedIds as an array,
// the 50,000-document result limit). Documents come back in the driver's default shape, like the embedded store's.
import type { ClientSession as DriverSession, Collection, Db } from 'mongodb';
import { DataError, failedToParse, queryResultTooLarge } from '../errors';
import { MAX_QUERY_RESULT } from '../types';
import type {
  BulkOperation,
  CountOptions,
  DataSource,
  Document,
  FindAndModifyAction,
  FindAndModifyOptions,
  FindOptions,
  IndexInfo,
  IndexSpec,
  Namespace,
  OperationContext,
  SourceSession,
  UpdateOptions,
  UpdateResult,
} from '../types';
import { connectionError } from './connection';

/** What this source needs from the driver (a MongoClient; tests may hand in a stand-in). */
export interface DriverClient {
  db(name?: string): Db;
  startSession(): DriverSession;
  close(): Promise<void>;
}

function isReplacement(update: Document | Document[]): update is Document {
  return !Array.isArray(update) && Object.keys(update).length > 0 && !Object.keys(update).some((k) => k.startsWith('$'));
}

class MongoSourceSession implements SourceSession {
  constructor(
    readonly owner: object,
    readonly driverSession: DriverSession,
    private readonly wrap: (err: unknown) => unknown,
  ) {}

  inTransaction(): boolean {
    return this.driverSession.inTransaction();
  }

  startTransaction(): void {
    this.driverSession.startTransaction();
  }

  async commitTransaction(): Promise<void> {
    try {
      await this.driverSession.commitTransaction();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  async abortTransaction(): Promise<void> {
    try {
      await this.driverSession.abortTransaction();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  async withTransaction<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.driverSession.withTransaction(fn)) as T;
    } catch (err) {
      throw this.wrap(err);
    }
  }

  async endSession(): Promise<void> {
    await this.driverSession.endSession();
  }
}

export class MongoDataSource implements DataSource {
  readonly kind = 'mongodb' as const;
  private current: DriverClient | null = null;

  /** `makeClient` is called again after a connection failure: a driver client whose first connection failed stays closed. */
  constructor(
    readonly name: string,
    private readonly uri: string,
    private readonly makeClient: () => DriverClient,
  ) {}

  private get client(): DriverClient {
    this.current ??= this.makeClient();
    return this.current;
  }

  private coll(ns: Namespace): Collection<Document> {
    return this.client.db(ns.db).collection<Document>(ns.collection);
  }

  private session(ctx: OperationContext): { session?: DriverSession } {
    const s = ctx.session;
    if (!s) return {};
    if (!(s instanceof MongoSourceSession) || s.owner !== this) throw new DataError(2, 'BadValue', `this session belongs to another data source than "${this.name}"`);
    return { session: s.driverSession };
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const mapped = connectionError(err, this.name, this.uri);
      if (mapped !== err && this.current) {
        // Start over with a fresh client on the next request.
        const dead = this.current;
        this.current = null;
        void dead.close().catch(() => undefined);
      }
      throw mapped;
    }
  }

  find(ns: Namespace, filter: Document, options: FindOptions, ctx: OperationContext): Promise<Document[]> {
    return this.run(async () => {
      const bounded = options.limit && options.limit > 0 && options.limit <= MAX_QUERY_RESULT;
      const docs = await this.coll(ns)
        .find(filter, {
          ...this.session(ctx),
          ...(options.projection ? { projection: options.projection } : {}),
          ...(options.sort ? { sort: options.sort as never } : {}),
          ...(options.skip ? { skip: options.skip } : {}),
          limit: bounded ? options.limit : MAX_QUERY_RESULT + 1,
        })
        .toArray();
      if (docs.length > MAX_QUERY_RESULT) throw queryResultTooLarge(MAX_QUERY_RESULT);
      return docs;
    });
  }

  count(ns: Namespace, filter: Document, options: CountOptions, ctx: OperationContext): Promise<number> {
    return this.run(() =>
      this.coll(ns).countDocuments(filter, {
        ...this.session(ctx),
        ...(options.skip ? { skip: options.skip } : {}),
        ...(options.limit ? { limit: options.limit } : {}),
      }),
    );
  }

  distinct(ns: Namespace, field: string, filter: Document, ctx: OperationContext): Promise<unknown[]> {
    return this.run(() => this.coll(ns).distinct(field, filter, this.session(ctx)));
  }

  aggregate(ns: Namespace, pipeline: Document[], ctx: OperationContext): Promise<Document[]> {
    return this.run(async () => {
      const last = pipeline.length ? Object.keys(pipeline[pipeline.length - 1])[0] : '';
      const writes = last === '$out' || last === '$merge';
      const bounded = writes ? pipeline : [...pipeline, { $limit: MAX_QUERY_RESULT + 1 }];
      const docs = await this.coll(ns).aggregate(bounded, this.session(ctx)).toArray();
      if (docs.length > MAX_QUERY_RESULT) throw queryResultTooLarge(MAX_QUERY_RESULT);
      return docs;
    });
  }

  insertMany(ns: Namespace, docs: Document[], options: { ordered: boolean }, ctx: OperationContext): Promise<unknown[]> {
    return this.run(async () => {
      if (docs.length === 1) {
        const r = await this.coll(ns).insertOne(docs[0], this.session(ctx));
        return [r.insertedId];
      }
      const r = await this.coll(ns).insertMany(docs, { ordered: options.ordered, ...this.session(ctx) });
      return docs.map((d, i) => r.insertedIds[i] ?? d._id);
    });
  }

  private async update(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext, multi: boolean): Promise<UpdateResult> {
    const opts = { upsert: options.upsert === true, ...this.session(ctx) };
    let r;
    if (isReplacement(update)) {
      if (multi) throw failedToParse('multi update is not supported for replacement-style update (updateMany needs update operators such as $set)');
      r = await this.coll(ns).replaceOne(filter, update, opts);
    } else {
      const withFilters = options.arrayFilters ? { ...opts, arrayFilters: options.arrayFilters } : opts;
      r = multi ? await this.coll(ns).updateMany(filter, update, withFilters) : await this.coll(ns).updateOne(filter, update, withFilters);
    }
    return { matchedCount: r.matchedCount, modifiedCount: r.modifiedCount, ...(r.upsertedId !== null && r.upsertedId !== undefined ? { upsertedId: r.upsertedId } : {}) };
  }

  updateOne(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult> {
    return this.run(() => this.update(ns, filter, update, options, ctx, false));
  }

  updateMany(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult> {
    return this.run(() => this.update(ns, filter, update, options, ctx, true));
  }

  replaceOne(ns: Namespace, filter: Document, replacement: Document, options: { upsert?: boolean }, ctx: OperationContext): Promise<UpdateResult> {
    return this.run(async () => {
      const r = await this.coll(ns).replaceOne(filter, replacement, { upsert: options.upsert === true, ...this.session(ctx) });
      return { matchedCount: r.matchedCount, modifiedCount: r.modifiedCount, ...(r.upsertedId !== null && r.upsertedId !== undefined ? { upsertedId: r.upsertedId } : {}) };
    });
  }

  deleteOne(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number> {
    return this.run(async () => (await this.coll(ns).deleteOne(filter, this.session(ctx))).deletedCount);
  }

  deleteMany(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number> {
    return this.run(async () => (await this.coll(ns).deleteMany(filter, this.session(ctx))).deletedCount);
  }

  findOneAndModify(ns: Namespace, filter: Document, action: FindAndModifyAction, options: FindAndModifyOptions, ctx: OperationContext): Promise<Document | null> {
    return this.run(async () => {
      const common = {
        ...this.session(ctx),
        ...(options.sort ? { sort: options.sort as never } : {}),
        ...(options.projection ? { projection: options.projection } : {}),
        includeResultMetadata: false as const,
      };
      const change = { ...common, upsert: options.upsert === true, returnDocument: options.returnNew ? ('after' as const) : ('before' as const) };
      if (action.kind === 'delete') return this.coll(ns).findOneAndDelete(filter, common);
      if (action.kind === 'replace') return this.coll(ns).findOneAndReplace(filter, action.replacement, change);
      if (isReplacement(action.update)) return this.coll(ns).findOneAndReplace(filter, action.update, change);
      return this.coll(ns).findOneAndUpdate(filter, action.update, action.arrayFilters ? { ...change, arrayFilters: action.arrayFilters } : change);
    });
  }

  bulkWrite(ns: Namespace, operations: BulkOperation[], options: { ordered: boolean }, ctx: OperationContext): Promise<void> {
    const ops = operations.map((op) => {
      if ('updateOne' in op && isReplacement(op.updateOne.update)) {
        return { replaceOne: { filter: op.updateOne.filter, replacement: op.updateOne.update, upsert: op.updateOne.upsert } };
      }
      return op;
    });
    return this.run(async () => {
      await this.coll(ns).bulkWrite(ops as never, { ordered: options.ordered, ...this.session(ctx) });
    });
  }

  listCollectionNames(db: string, ctx: OperationContext): Promise<string[]> {
    return this.run(async () => {
      const list = await this.client.db(db).listCollections({}, { nameOnly: true, ...this.session(ctx) }).toArray();
      return list.map((c) => c.name).sort();
    });
  }

  listDatabaseNames(): Promise<string[]> {
    return this.run(async () => {
      const r = await this.client.db('admin').admin().listDatabases({ nameOnly: true });
      return r.databases.map((d) => d.name).sort();
    });
  }

  createIndex(ns: Namespace, spec: IndexSpec): Promise<string> {
    return this.run(() =>
      this.coll(ns).createIndex(spec.key as never, {
        ...(spec.name ? { name: spec.name } : {}),
        ...(spec.unique ? { unique: true } : {}),
        ...(spec.sparse ? { sparse: true } : {}),
      }),
    );
  }

  listIndexes(ns: Namespace): Promise<IndexInfo[]> {
    return this.run(async () => {
      const list = await this.coll(ns).listIndexes().toArray();
      return list.map((i) => ({ name: String(i.name), key: i.key as Record<string, number>, unique: i.unique === true || i.name === '_id_', sparse: i.sparse === true }));
    });
  }

  dropIndex(ns: Namespace, name: string): Promise<void> {
    return this.run(async () => {
      await this.coll(ns).dropIndex(name);
    });
  }

  /** Every document of a collection in stored (typed) shape, in batches, without the query result limit (export). */
  async *scanAll(ns: Namespace, batchSize = 1000): AsyncGenerator<Document[]> {
    const cursor = this.coll(ns).find({}, { batchSize, promoteValues: false, promoteLongs: false });
    let batch: Document[] = [];
    try {
      for await (const doc of cursor) {
        batch.push(doc);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    } catch (err) {
      throw connectionError(err, this.name, this.uri);
    }
    if (batch.length > 0) yield batch;
  }

  startSession(): SourceSession {
    return new MongoSourceSession(this, this.client.startSession(), (err) => connectionError(err, this.name, this.uri));
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = null;
    if (c) await c.close();
  }
}

