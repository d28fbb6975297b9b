// The embedded DataSource: every operation is synchronous SQLite work inside one transaction (or a savepoint of
// the session's transaction), behind an async API like the driver's.
import { BulkWriteError, DataError, queryResultTooLarge } from '../errors';
import { checkPipeline, checkProjection, numbersForAggregation, runPipeline } from '../query';
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
import { decodeTypedDocument } from '../values';
import { describePlan, planQuery } from './planner';
import { allDocuments, count, distinct, find, findMatches } from './reader';
import type { ReadProbe } from './reader';
import type { CollectionMeta } from './catalog';
import { EmbeddedSession } from './session';
import { BUSY_TIMEOUT_MS } from './sqlite-file';
import type { Conn, EmbeddedStore } from './store';
import { buildIndex, bulkWrite, findOneAndModify, insertMany, remove, update } from './writer';

export interface ExplainResult {
  /** e.g. "IDSCAN _id_ (_id: eq)", "IXSCAN email_1 (email: eq)", "COLLSCAN". */
  plan: string;
  /** SQLite's EXPLAIN QUERY PLAN of the statement the plan runs. */
  sqlite: string[];
}

export class EmbeddedDataSource implements DataSource {
  readonly kind = 'embedded' as const;

  constructor(
    readonly name: string,
    readonly store: EmbeddedStore,
  ) {}

  /** The connection for an operation: the session's transaction connection, or the main one. */
  private conn(ctx: OperationContext, write: boolean): Conn | Promise<Conn> {
    // The common case (no session, no transaction open in this thread) needs no await.
    if (!ctx.session && !(write && this.store.gate.busy)) return this.store.main;
    return this.slowConn(ctx, write);
  }

  private async slowConn(ctx: OperationContext, write: boolean): Promise<Conn> {
    const s = ctx.session;
    if (s) {
      if (!(s instanceof EmbeddedSession) || s.owner !== this.store) {
        throw new DataError(2, 'BadValue', `this session belongs to another data source than "${this.name}"`);
      }
      const c = await s.connection();
      if (c) return c;
    }
    if (write) await this.store.gate.whenFree(BUSY_TIMEOUT_MS);
    return this.store.main;
  }

  private ctxOf(c: Conn) {
    return { st: c.st, catalog: this.store.catalog };
  }

  /**
   * A read of one collection with the cached catalog: refreshed first when the collection is unknown (created
   * elsewhere?), and the read redone when an index lookup came back empty and the catalog had changed.
   */
  private readCollection<T>(c: Conn, ns: Namespace, op: (coll: CollectionMeta | undefined, probe: ReadProbe) => T): T {
    return this.store.read(c, () => {
      const catalog = this.store.catalog;
      let coll = catalog.get(ns.db, ns.collection);
      if (!coll && this.store.syncCatalog(c)) coll = catalog.get(ns.db, ns.collection);
      const probe: ReadProbe = { emptyIndexScan: false };
      const out = op(coll, probe);
      if (probe.emptyIndexScan && this.store.syncCatalog(c)) return op(catalog.get(ns.db, ns.collection), { emptyIndexScan: false });
      return out;
    });
  }

  /** A read that needs the whole catalog current (listings). */
  private readCatalog<T>(c: Conn, fn: () => T): T {
    return this.store.read(c, () => {
      this.store.syncCatalog(c);
      return fn();
    });
  }

  async find(ns: Namespace, filter: Document, options: FindOptions, ctx: OperationContext): Promise<Document[]> {
    checkProjection(options.projection);
    const c = await this.conn(ctx, false);
    return this.readCollection(c, ns, (coll, probe) => find(c.st, coll, filter, options, MAX_QUERY_RESULT, probe));
  }

  async count(ns: Namespace, filter: Document, options: CountOptions, ctx: OperationContext): Promise<number> {
    const c = await this.conn(ctx, false);
    return this.readCollection(c, ns, (coll, probe) => count(c.st, coll, filter, options, probe));
  }

  async distinct(ns: Namespace, field: string, filter: Document, ctx: OperationContext): Promise<unknown[]> {
    const c = await this.conn(ctx, false);
    return this.readCollection(c, ns, (coll, probe) => distinct(c.st, coll, field, filter, probe));
  }

  async aggregate(ns: Namespace, pipeline: Document[], ctx: OperationContext): Promise<Document[]> {
    checkPipeline(pipeline);
    const c = await this.conn(ctx, false);
    return this.readCollection(c, ns, (coll, probe) => {
      const catalog = this.store.catalog;
      // Leading $match stages run as a find (index use, exact BSON comparisons); the rest runs in mingo.
      let i = 0;
      const filters: Document[] = [];
      while (i < pipeline.length && '$match' in pipeline[i]) filters.push(pipeline[i++].$match as Document);
      const filter = filters.length === 0 ? {} : filters.length === 1 ? filters[0] : { $and: filters };
      const input = coll ? findMatches(c.st, coll, filter, undefined, undefined, probe).map((m) => numbersForAggregation(m.doc) as Document) : [];
      const loaded = new Map<string, Document[]>();
      const resolver = (name: string): Document[] => {
        let docs = loaded.get(name);
        if (!docs) {
          docs = allDocuments(c.st, catalog.get(ns.db, name)).map((d) => numbersForAggregation(d) as Document);
          loaded.set(name, docs);
        }
        return docs;
      };
      const out = runPipeline(input, pipeline.slice(i), resolver);
      if (out.length > MAX_QUERY_RESULT) throw queryResultTooLarge(MAX_QUERY_RESULT);
      return out;
    });
  }

  async insertMany(ns: Namespace, docs: Document[], options: { ordered: boolean }, ctx: OperationContext): Promise<unknown[]> {
    const c = await this.conn(ctx, true);
    const { ids, errors, firstError } = this.store.write(c, () => insertMany(this.ctxOf(c), ns, docs, options.ordered));
    if (errors.length > 0) {
      if (docs.length === 1 && firstError) throw firstError;
      const inserted: Record<number, unknown> = {};
      ids.forEach((id, i) => {
        if (id !== undefined) inserted[i] = id;
      });
      throw new BulkWriteError(errors, inserted);
    }
    return ids;
  }

  async updateOne(ns: Namespace, filter: Document, upd: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult> {
    const c = await this.conn(ctx, true);
    return this.store.write(c, () => update(this.ctxOf(c), ns, filter, upd, options, false));
  }

  async updateMany(ns: Namespace, filter: Document, upd: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult> {
    const c = await this.conn(ctx, true);
    return this.store.write(c, () => update(this.ctxOf(c), ns, filter, upd, options, true));
  }

  async replaceOne(ns: Namespace, filter: Document, replacement: Document, options: { upsert?: boolean }, ctx: OperationContext): Promise<UpdateResult> {
    const c = await this.conn(ctx, true);
    return this.store.write(c, () => update(this.ctxOf(c), ns, filter, replacement, options, false, true));
  }

  async deleteOne(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number> {
    const c = await this.conn(ctx, true);
    return this.store.write(c, () => remove(this.ctxOf(c), ns, filter, false));
  }

  async deleteMany(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number> {
    const c = await this.conn(ctx, true);
    return this.store.write(c, () => remove(this.ctxOf(c), ns, filter, true));
  }

  async findOneAndModify(ns: Namespace, filter: Document, action: FindAndModifyAction, options: FindAndModifyOptions, ctx: OperationContext): Promise<Document | null> {
    checkProjection(options.projection);
    const c = await this.conn(ctx, true);
    return this.store.write(c, () => findOneAndModify(this.ctxOf(c), ns, filter, action, options));
  }

  async bulkWrite(ns: Namespace, operations: BulkOperation[], options: { ordered: boolean }, ctx: OperationContext): Promise<void> {
    const c = await this.conn(ctx, true);
    const { errors, insertedIds } = this.store.write(c, () => bulkWrite(this.ctxOf(c), ns, operations, options.ordered));
    if (errors.length > 0) throw new BulkWriteError(errors, insertedIds);
  }

  async listCollectionNames(db: string, ctx: OperationContext): Promise<string[]> {
    const c = await this.conn(ctx, false);
    return this.readCatalog(c, () => this.store.catalog.collectionNames(db));
  }

  async listDatabaseNames(): Promise<string[]> {
    return this.readCatalog(this.store.main, () => this.store.catalog.databaseNames());
  }

  async createIndex(ns: Namespace, spec: IndexSpec): Promise<string> {
    const c = await this.conn({}, true);
    return this.store.write(c, () => {
      const coll = this.store.catalog.ensure(c.st, ns.db, ns.collection);
      if (Object.keys(spec.key).length === 1 && '_id' in spec.key) return '_id_';
      const { index, created } = this.store.catalog.addIndex(c.st, coll, spec);
      if (created) buildIndex(this.ctxOf(c), ns, coll, index);
      return index.name;
    });
  }

  async listIndexes(ns: Namespace): Promise<IndexInfo[]> {
    return this.readCatalog(this.store.main, () => this.store.catalog.indexInfos(this.store.catalog.get(ns.db, ns.collection)));
  }

  async dropIndex(ns: Namespace, name: string): Promise<void> {
    if (name === '_id_') throw new DataError(72, 'InvalidOptions', 'cannot drop _id index');
    const c = await this.conn({}, true);
    this.store.write(c, () => {
      const coll = this.store.catalog.get(ns.db, ns.collection);
      if (!coll) throw new DataError(26, 'NamespaceNotFound', `ns not found ${ns.db}.${ns.collection}`);
      this.store.catalog.removeIndex(c.st, coll, name);
    });
  }

  startSession(): SourceSession {
    return new EmbeddedSession(this.store);
  }

  /**
   * Every document of a collection in stored (typed) shape, in batches, without the query result limit:
   * for export. Each batch is read in its own short transaction.
   */
  async *scanAll(ns: Namespace, batchSize = 1000): AsyncGenerator<Document[]> {
    let after = 0;
    for (;;) {
      const rows = this.readCatalog(this.store.main, () => {
        const coll = this.store.catalog.get(ns.db, ns.collection);
        return coll ? this.store.main.st.scanBatch.all(coll.cid, after, batchSize) : [];
      });
      if (rows.length > 0) yield rows.map((r) => decodeTypedDocument(r.doc));
      if (rows.length < batchSize) return;
      after = rows[rows.length - 1].rid;
    }
  }

  /** How a filter would be answered (for tests, the CLI and curious users). */
  explain(ns: Namespace, filter: Document): ExplainResult {
    const c = this.store.main;
    return this.readCatalog(c, () => {
      const coll = this.store.catalog.get(ns.db, ns.collection);
      if (!coll) return { plan: 'EOF (no such collection)', sqlite: [] };
      const plan = planQuery(filter, coll);
      const sql =
        plan.kind === 'index'
          ? 'SELECT d.rid, d.doc FROM indexes i JOIN index_entries e ON e.iid = i.id JOIN docs d ON d.rid = e.rid WHERE i.id = ? AND i.multikey <= ? AND e.k >= ? AND e.k < ?'
          : plan.kind === 'id'
            ? 'SELECT rid, doc FROM docs WHERE cid = ? AND key >= ? AND key < ?'
            : 'SELECT rid, doc FROM docs WHERE cid = ? AND rid > ? ORDER BY rid LIMIT ?';
      const params = plan.kind === 'index' ? [1, 1, Buffer.alloc(0), Buffer.alloc(1)] : plan.kind === 'id' ? [1, Buffer.alloc(0), Buffer.alloc(1)] : [1, 0, 1];
      const rows = c.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
      return { plan: describePlan(plan), sqlite: rows.map((r) => r.detail) };
    });
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
