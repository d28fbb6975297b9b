// A DataSource that enforces an app's rules and schemas for one application user (spec §12.2), wrapped around
// the real one (embedded or driver), so the same rules apply to both.
//
// Reads: filters are merged into the query; every document the store returns gets its role (in role order, by
// apply_when on the document), unreadable fields are removed and unreadable documents withheld; then the
// caller's projection and the filters' projections apply. skip/limit/sort run in the store, before roles.
// Writes: the documents a write would touch are read first; a document no role applies to, or whose
// document_filters.write is false, is not touched (as if it did not match); for the others the document as it
// would be after the write is computed with the data layer's own update engine and checked field by field and
// against the schema; only when every document passes does the write run, restricted to those documents' _ids.
import { BulkWriteError, DataError } from '../errors';
import type { WriteErrorDetail } from '../errors';
import { applyReplacement, applyUpdate, buildUpsertDocument, checkPipeline, classifyUpdate, numbersForAggregation, project, runPipeline } from '../query';
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
import { bsonEquals, isPlainObject, valuesAtPath } from '../values';
import { noRuleForNamespace, notPermitted, SchemaValidationError } from './errors';
import type { WriteKind } from './errors';
import { checkWrite, chooseRole, documentGates, readView } from './permissions';
import { isPromise, run } from './steps';
import type { Steps } from './steps';
import type { RuleContext } from './rule-context';
import type { CompiledDataSourceRules, CompiledRole } from './rule-types';
import type { CompiledSchema } from './schema-types';
import { validateDocument } from './schema-validate';
import { checkUserPipeline, checkUserQuery } from './user-restrictions';

/** Everything about one collection that does not depend on the document, worked out once per caller. */
interface Prepared {
  ns: Namespace;
  roles: CompiledRole[];
  rulesFile: string;
  schema?: CompiledSchema;
  /** Expanded queries of the filters that apply. */
  queries: Document[];
  /** Projections of the filters that apply. */
  projections: Document[];
  /** The role every document gets (null: none), or undefined when roles must be chosen per document. */
  staticRole: CompiledRole | null | undefined;
  /** A static role that lets every document be read whole: no per-document work for reads. */
  wholeRead: boolean;
  /** A static role whose document_filters.write holds for every document. */
  staticWriteGate: boolean;
}

/** Page size when a single-document write looks for the first document the caller may write. */
const CANDIDATE_PAGE = 100;

interface Candidate {
  doc: Document;
  role: CompiledRole;
}

function mergeQuery(filter: Document, queries: Document[]): Document {
  if (queries.length === 0) return filter;
  const parts = Object.keys(filter).length > 0 ? [filter, ...queries] : queries;
  return parts.length === 1 ? parts[0] : { $and: parts };
}

/** The merged query restricted to one or more _ids; a flat object when possible (the positional $ operator reads it). */
function restrictToIds(query: Document, ids: unknown[]): Document {
  const idCond = ids.length === 1 ? ids[0] : { $in: ids };
  if (!('_id' in query)) return { ...query, _id: idCond };
  return { $and: [query, { _id: idCond }] };
}

function distinctValues(docs: Document[], field: string): unknown[] {
  const out: unknown[] = [];
  const parts = field.split('.');
  for (const doc of docs) {
    for (const v of valuesAtPath(doc, parts).values) {
      if (v === undefined || typeof v === 'symbol') continue;
      if (!out.some((o) => bsonEquals(o, v))) out.push(v);
    }
  }
  return out;
}

/** Collections a pipeline reads besides its own ($lookup.from, $unionWith), at any depth. */
function foreignCollections(pipeline: Document[], into = new Set<string>()): Set<string> {
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0];
    const spec = stage[name];
    if (name === '$lookup' && isPlainObject(spec)) {
      const s = spec as Document;
      if (typeof s.from === 'string') into.add(s.from);
      if (Array.isArray(s.pipeline)) foreignCollections(s.pipeline as Document[], into);
    } else if (name === '$unionWith') {
      if (typeof spec === 'string') into.add(spec);
      else if (isPlainObject(spec)) {
        const s = spec as Document;
        if (typeof s.coll === 'string') into.add(s.coll);
        if (Array.isArray(s.pipeline)) foreignCollections(s.pipeline as Document[], into);
      }
    }
  }
  return into;
}

export class RulesDataSource implements DataSource {
  readonly kind: 'embedded' | 'mongodb';
  readonly name: string;
  private readonly prepared = new Map<string, Promise<Prepared>>();

  constructor(
    private readonly inner: DataSource,
    private readonly rules: CompiledDataSourceRules,
    private readonly ctx: RuleContext,
  ) {
    this.kind = inner.kind;
    this.name = inner.name;
  }

  // ---- per-collection preparation ----

  private prepare(ns: Namespace): Promise<Prepared> {
    const key = `${ns.db}/${ns.collection}`;
    let p = this.prepared.get(key);
    if (!p) {
      p = this.compute(ns, key);
      this.prepared.set(key, p);
      p.catch(() => this.prepared.delete(key));
    }
    return p;
  }

  private async compute(ns: Namespace, key: string): Promise<Prepared> {
    const entry = this.rules.collections.get(key);
    const set = entry?.rules ?? this.rules.defaultRule;
    if (!set) throw noRuleForNamespace(ns.db, ns.collection, `data source "${this.rules.serviceName}" has no rules.json for ${ns.db}.${ns.collection} and no default_rule.json`);
    const queries: Document[] = [];
    const projections: Document[] = [];
    for (const f of set.filters) {
      if (!(await this.ctx.eval(f.applyWhen))) continue;
      if (f.query) {
        const q = await this.ctx.expand(f.query, `query of filter ${f.where}`);
        if (isPlainObject(q) && Object.keys(q as Document).length > 0) queries.push(q as Document);
      }
      if (f.projection) projections.push(f.projection);
    }
    const staticRole = await this.staticRole(set.roles);
    let wholeRead = false;
    let staticWriteGate = false;
    if (staticRole) {
      const r = staticRole;
      const docFree = [r.documentFilters.read, r.documentFilters.write, r.read, r.write].every((e) => e === undefined || !e.perDocument);
      if (docFree) {
        const gates = await run(documentGates(r, this.ctx, {}));
        staticWriteGate = gates.write;
        const read = r.read ? await this.ctx.eval(r.read) : false;
        const write = gates.write && r.write ? await this.ctx.eval(r.write) : false;
        wholeRead = gates.read && (read || write);
      } else if (r.documentFilters.write === undefined || !r.documentFilters.write.perDocument) {
        staticWriteGate = r.documentFilters.write === undefined ? true : await this.ctx.eval(r.documentFilters.write);
      }
    }
    return { ns, roles: set.roles, rulesFile: set.source, schema: entry?.schema, queries, projections, staticRole, wholeRead, staticWriteGate };
  }

  /** The first role that can apply, when it applies to every document alike. */
  private async staticRole(roles: CompiledRole[]): Promise<CompiledRole | null | undefined> {
    for (const role of roles) {
      if (role.applyWhen.perDocument) return undefined;
      if (await this.ctx.eval(role.applyWhen)) return role;
    }
    return null;
  }

  private *roleFor(p: Prepared, doc: Document): Steps<CompiledRole | null> {
    return p.staticRole !== undefined ? p.staticRole : yield* chooseRole(p.roles, this.ctx, doc);
  }

  /** What the caller may read of one document (null: withheld). */
  private *viewOf(p: Prepared, doc: Document): Steps<Document | null> {
    const role = yield* this.roleFor(p, doc);
    return role ? yield* readView(role, this.ctx, doc) : null;
  }

  /** A $search hit: the role's `search` permission, then its read rules. */
  private *searchViewOf(p: Prepared, doc: Document): Steps<Document | null> {
    const role = yield* this.roleFor(p, doc);
    if (!role) return null;
    const allowed = this.ctx.eval(role.search, { root: doc });
    if (!(typeof allowed === 'boolean' ? allowed : yield allowed)) return null;
    return yield* readView(role, this.ctx, doc);
  }

  /** The role of a document the caller may write (a role applies and document_filters.write holds), else null. */
  private *writerRoleOf(p: Prepared, doc: Document, quick: boolean): Steps<CompiledRole | null> {
    const role = yield* this.roleFor(p, doc);
    if (!role) return null;
    if (!quick && !(yield* documentGates(role, this.ctx, doc)).write) return null;
    return role;
  }

  // ---- reads ----

  private async visible(p: Prepared, docs: Document[]): Promise<Document[]> {
    if (p.wholeRead) return docs;
    if (p.staticRole === null) return [];
    const out: Document[] = [];
    for (const doc of docs) {
      const v = run(this.viewOf(p, doc));
      const view = isPromise(v) ? await v : v;
      if (view) out.push(view);
    }
    return out;
  }

  private withFilterProjections(p: Prepared, docs: Document[]): Document[] {
    let out = docs;
    for (const proj of p.projections) out = project(out, proj);
    return out;
  }

  async find(ns: Namespace, filter: Document, options: FindOptions, ctx: OperationContext): Promise<Document[]> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    if (p.wholeRead) return this.withFilterProjections(p, await this.inner.find(ns, query, options, ctx));
    if (p.staticRole === null) return [];
    const docs = await this.inner.find(ns, query, { ...options, projection: undefined }, ctx);
    return this.withFilterProjections(p, project(await this.visible(p, docs), options.projection));
  }

  async count(ns: Namespace, filter: Document, options: CountOptions, ctx: OperationContext): Promise<number> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    if (p.wholeRead) return this.inner.count(ns, query, options, ctx);
    if (p.staticRole === null) return 0;
    const docs = await this.inner.find(ns, query, { skip: options.skip, limit: options.limit }, ctx);
    return (await this.visible(p, docs)).length;
  }

  async distinct(ns: Namespace, field: string, filter: Document, ctx: OperationContext): Promise<unknown[]> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    if (p.wholeRead && p.projections.length === 0) return this.inner.distinct(ns, field, query, ctx);
    if (p.staticRole === null) return [];
    const docs = await this.inner.find(ns, query, {}, ctx);
    return distinctValues(this.withFilterProjections(p, await this.visible(p, docs)), field);
  }

  async aggregate(ns: Namespace, pipeline: Document[], ctx: OperationContext): Promise<Document[]> {
    checkUserPipeline(pipeline);
    const p = await this.prepare(ns);
    const foreign = foreignCollections(pipeline);
    if (p.wholeRead && foreign.size === 0 && !('$search' in (pipeline[0] ?? {}))) {
      const head: Document[] = [];
      if (p.queries.length > 0) head.push({ $match: mergeQuery({}, p.queries) });
      for (const proj of p.projections) head.push({ $project: proj });
      return this.inner.aggregate(ns, [...head, ...pipeline], ctx);
    }
    // Documents enter the pipeline as the caller may see them; the rest of the pipeline runs here.
    let i = 0;
    let input: Document[];
    if (pipeline[0] && '$search' in pipeline[0]) {
      i = 1;
      const found = await this.inner.aggregate(ns, [pipeline[0], ...(p.queries.length > 0 ? [{ $match: mergeQuery({}, p.queries) }] : [])], ctx);
      input = await this.searchable(p, found);
    } else {
      const matches: Document[] = [];
      while (i < pipeline.length && '$match' in pipeline[i] && Object.keys(pipeline[i]).length === 1) matches.push(pipeline[i++].$match as Document);
      const query = mergeQuery(matches.length === 1 ? matches[0] : matches.length > 1 ? { $and: matches } : {}, p.queries);
      input = p.staticRole === null ? [] : await this.visible(p, await this.inner.find(ns, query, {}, ctx));
    }
    input = this.withFilterProjections(p, input);
    const rest = pipeline.slice(i);
    checkPipeline(rest);
    const loaded = new Map<string, Document[]>();
    for (const coll of foreign) {
      const docs = await this.find({ db: ns.db, collection: coll }, {}, {}, ctx);
      loaded.set(coll, docs.map((d) => numbersForAggregation(d) as Document));
    }
    const resolver = (name: string): Document[] => loaded.get(name) ?? [];
    return runPipeline(input.map((d) => numbersForAggregation(d) as Document), rest, resolver);
  }

  /** $search results: a role's `search` permission and its read rules apply (App Services runs $search as system). */
  private async searchable(p: Prepared, docs: Document[]): Promise<Document[]> {
    const out: Document[] = [];
    for (const doc of docs) {
      const view = await run(this.searchViewOf(p, doc));
      if (view) out.push(view);
    }
    return out;
  }

  // ---- writes ----

  /** Documents matching `query` that the caller may write (a role applies and document_filters.write holds). */
  private async candidates(p: Prepared, ns: Namespace, query: Document, opts: { sort?: Document; one: boolean }, ctx: OperationContext): Promise<Candidate[]> {
    if (p.staticRole === null) return [];
    const quick = p.staticRole !== undefined && p.staticWriteGate;
    if (p.staticRole !== undefined && !p.staticWriteGate && !(p.staticRole.documentFilters.write?.perDocument ?? false)) return [];
    const out: Candidate[] = [];
    // A single-document write reads in pages until it finds a writable document (no result-size limit hit on
    // big collections); a multi-document write needs every match.
    const page = opts.one ? (quick ? 1 : CANDIDATE_PAGE) : 0;
    for (let skip = 0; ; skip += page) {
      const docs = await this.inner.find(ns, query, { sort: opts.sort, skip, limit: page }, ctx);
      for (const doc of docs) {
        const r = run(this.writerRoleOf(p, doc, quick));
        const role = isPromise(r) ? await r : r;
        if (!role) continue;
        out.push({ doc, role });
        if (opts.one) return out;
      }
      if (page === 0 || docs.length < page || quick) return out;
    }
  }

  private async checkSchema(p: Prepared, kind: WriteKind, after: Document, before: Document | undefined): Promise<void> {
    if (!p.schema) return;
    const f = validateDocument(p.schema, after, before, this.ctx);
    const failures = isPromise(f) ? await f : f;
    if (failures.length > 0) throw new SchemaValidationError(kind, failures, p.schema.file);
  }

  /** Checks a write of one document; throws App Services' error when it is not allowed. */
  private async allowWrite(p: Prepared, kind: WriteKind, role: CompiledRole, before: Document | undefined, after: Document | undefined): Promise<void> {
    const d = run(checkWrite(role, this.ctx, kind, before, after));
    const decision = isPromise(d) ? await d : d;
    if (!decision.allowed) throw notPermitted(kind, decision.reason);
    if (after) await this.checkSchema(p, kind === 'delete' ? 'update' : kind, after, before);
  }

  private async allowInsert(p: Prepared, doc: Document): Promise<void> {
    const r = run(this.roleFor(p, doc));
    const role = isPromise(r) ? await r : r;
    if (!role) throw notPermitted('insert', `no role of ${p.rulesFile} applies to the document inserted into ${p.ns.db}.${p.ns.collection}`);
    await this.allowWrite(p, 'insert', role, undefined, doc);
  }

  async insertMany(ns: Namespace, docs: Document[], options: { ordered: boolean }, ctx: OperationContext): Promise<unknown[]> {
    const p = await this.prepare(ns);
    for (const doc of docs) await this.allowInsert(p, doc);
    return this.inner.insertMany(ns, docs, options, ctx);
  }

  /** The document after `update` (operators, pipeline or replacement) of `before`. */
  private afterUpdate(before: Document, update: Document | Document[], multi: boolean, query: Document, arrayFilters?: Document[]): Document {
    const kind = classifyUpdate(update, multi);
    if (kind === 'replacement') return applyReplacement(before, update as Document);
    return applyUpdate(before, update, kind, { filter: query, arrayFilters, inserting: false });
  }

  /** Upsert that matched nothing the caller may write: the document it would insert, checked, then inserted. */
  private async upsert(p: Prepared, ns: Namespace, query: Document, update: Document | Document[], multi: boolean, arrayFilters: Document[] | undefined, ctx: OperationContext): Promise<Document> {
    const doc = buildUpsertDocument(query, update, classifyUpdate(update, multi), arrayFilters);
    await this.allowInsert(p, doc);
    await this.inner.insertMany(ns, [doc], { ordered: true }, ctx);
    return doc;
  }

  private async update(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext, multi: boolean): Promise<UpdateResult> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    const targets = await this.candidates(p, ns, query, { one: !multi }, ctx);
    if (targets.length === 0) {
      if (!options.upsert) return { matchedCount: 0, modifiedCount: 0 };
      const doc = await this.upsert(p, ns, query, update, multi, options.arrayFilters, ctx);
      return { matchedCount: 0, modifiedCount: 0, upsertedId: doc._id };
    }
    for (const t of targets) await this.allowWrite(p, 'update', t.role, t.doc, this.afterUpdate(t.doc, update, multi, query, options.arrayFilters));
    const restricted = restrictToIds(query, targets.map((t) => t.doc._id));
    const opts = { upsert: false, arrayFilters: options.arrayFilters };
    return multi ? this.inner.updateMany(ns, restricted, update, opts, ctx) : this.inner.updateOne(ns, restricted, update, opts, ctx);
  }

  updateOne(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult> {
    return this.update(ns, filter, update, options, ctx, false);
  }

  updateMany(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult> {
    return this.update(ns, filter, update, options, ctx, true);
  }

  async replaceOne(ns: Namespace, filter: Document, replacement: Document, options: { upsert?: boolean }, ctx: OperationContext): Promise<UpdateResult> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    const [target] = await this.candidates(p, ns, query, { one: true }, ctx);
    if (!target) {
      if (!options.upsert) return { matchedCount: 0, modifiedCount: 0 };
      const doc = await this.upsert(p, ns, query, replacement, false, undefined, ctx);
      return { matchedCount: 0, modifiedCount: 0, upsertedId: doc._id };
    }
    await this.allowWrite(p, 'update', target.role, target.doc, applyReplacement(target.doc, replacement));
    return this.inner.replaceOne(ns, restrictToIds(query, [target.doc._id]), replacement, { upsert: false }, ctx);
  }

  private async remove(ns: Namespace, filter: Document, ctx: OperationContext, multi: boolean): Promise<number> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    const targets = await this.candidates(p, ns, query, { one: !multi }, ctx);
    if (targets.length === 0) return 0;
    for (const t of targets) await this.allowWrite(p, 'delete', t.role, t.doc, undefined);
    const restricted = restrictToIds(query, targets.map((t) => t.doc._id));
    return multi ? this.inner.deleteMany(ns, restricted, ctx) : this.inner.deleteOne(ns, restricted, ctx);
  }

  deleteOne(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number> {
    return this.remove(ns, filter, ctx, false);
  }

  deleteMany(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number> {
    return this.remove(ns, filter, ctx, true);
  }

  /** The document handed back by findOneAnd*: what the caller may read of it, projected. */
  private async returnedView(p: Prepared, doc: Document | null, projection: Document | undefined): Promise<Document | null> {
    if (!doc) return null;
    const [view] = await this.visible(p, [doc]);
    if (!view) return null;
    return this.withFilterProjections(p, project([view], projection))[0] ?? null;
  }

  async findOneAndModify(ns: Namespace, filter: Document, action: FindAndModifyAction, options: FindAndModifyOptions, ctx: OperationContext): Promise<Document | null> {
    checkUserQuery(filter);
    const p = await this.prepare(ns);
    const query = mergeQuery(filter, p.queries);
    const [target] = await this.candidates(p, ns, query, { sort: options.sort, one: true }, ctx);
    if (!target) {
      if (!options.upsert || action.kind === 'delete') return null;
      const update = action.kind === 'update' ? action.update : action.replacement;
      const doc = await this.upsert(p, ns, query, update, false, action.kind === 'update' ? action.arrayFilters : undefined, ctx);
      return options.returnNew ? this.returnedView(p, doc, options.projection) : null;
    }
    if (action.kind === 'delete') await this.allowWrite(p, 'delete', target.role, target.doc, undefined);
    else {
      const after = action.kind === 'update' ? this.afterUpdate(target.doc, action.update, false, query, action.arrayFilters) : applyReplacement(target.doc, action.replacement);
      await this.allowWrite(p, 'update', target.role, target.doc, after);
    }
    const result = await this.inner.findOneAndModify(ns, restrictToIds(query, [target.doc._id]), action, { returnNew: options.returnNew, upsert: false }, ctx);
    return this.returnedView(p, result, options.projection);
  }

  /** Each operation goes through the checks above, in order; failures are reported like the driver's bulkWrite. */
  async bulkWrite(ns: Namespace, operations: BulkOperation[], options: { ordered: boolean }, ctx: OperationContext): Promise<void> {
    const errors: WriteErrorDetail[] = [];
    const insertedIds: Record<number, unknown> = {};
    for (let i = 0; i < operations.length; i++) {
      try {
        await this.bulkOperation(ns, operations[i], i, insertedIds, ctx);
      } catch (err) {
        if (!(err instanceof DataError)) throw err;
        errors.push({ index: i, code: err.code, codeName: err.codeName, errmsg: err.message });
        if (options.ordered) break;
      }
    }
    if (errors.length > 0) throw new BulkWriteError(errors, insertedIds);
  }

  private async bulkOperation(ns: Namespace, op: BulkOperation, i: number, insertedIds: Record<number, unknown>, ctx: OperationContext): Promise<void> {
    if ('insertOne' in op) {
      const [id] = await this.insertMany(ns, [op.insertOne.document], { ordered: true }, ctx);
      insertedIds[i] = id;
    } else if ('updateOne' in op) {
      await this.updateOne(ns, op.updateOne.filter, op.updateOne.update, { upsert: op.updateOne.upsert, arrayFilters: op.updateOne.arrayFilters }, ctx);
    } else if ('updateMany' in op) {
      await this.updateMany(ns, op.updateMany.filter, op.updateMany.update, { upsert: op.updateMany.upsert, arrayFilters: op.updateMany.arrayFilters }, ctx);
    } else if ('replaceOne' in op) {
      await this.replaceOne(ns, op.replaceOne.filter, op.replaceOne.replacement, { upsert: op.replaceOne.upsert }, ctx);
    } else if ('deleteOne' in op) {
      await this.deleteOne(ns, op.deleteOne.filter, ctx);
    } else {
      await this.deleteMany(ns, op.deleteMany.filter, ctx);
    }
  }

  // ---- pass-through (the service client allows these to system functions only) ----

  listCollectionNames(db: string, ctx: OperationContext): Promise<string[]> {
    return this.inner.listCollectionNames(db, ctx);
  }

  listDatabaseNames(): Promise<string[]> {
    return this.inner.listDatabaseNames();
  }

  createIndex(ns: Namespace, spec: IndexSpec): Promise<string> {
    return this.inner.createIndex(ns, spec);
  }

  listIndexes(ns: Namespace): Promise<IndexInfo[]> {
    return this.inner.listIndexes(ns);
  }

  dropIndex(ns: Namespace, name: string): Promise<void> {
    return this.inner.dropIndex(ns, name);
  }

  startSession(): SourceSession {
    return this.inner.startSession();
  }

  close(): Promise<void> {
    // The wrapped store is shared by every invocation of this thread; closing is the data layer's business.
    return Promise.resolve();
  }
}
