// Query, projection, update and aggregation semantics come from mingo, run with our own operator Context:
// BSON-aware comparison operators (operators.ts), MongoDB sort order, and no operators that would answer
// wrongly or need a server ($where, $text, geo, $jsonSchema, $out/$merge, Atlas Search): those fail with a
// clear MongoDB-style error before anything runs.
import { badValue, DataError, notSupported } from '../errors';
import type { Document } from '../types';
import { isNumeric, isPlainObject, parseSort, sortDocuments, toDouble } from '../values';
import {
  accumulatorOperators,
  aggregatorModule,
  core,
  expressionOperators,
  lazyModule,
  pipelineOperators,
  projectionOperators,
  queryModule,
  queryOperators,
  windowOperators,
} from './mingo';
import type { MingoContext } from './mingo';
import { BSON_QUERY_OPERATORS } from './operators';

type AnyOps = Record<string, unknown>;

/** Pipeline stages that need a server, Atlas, or would write: refused on the embedded store. */
const SERVER_ONLY_STAGES: Record<string, string> = {
  $search: 'Atlas Search ($search) needs an Atlas cluster with a search index',
  $searchMeta: 'Atlas Search ($searchMeta) needs an Atlas cluster with a search index',
  $vectorSearch: 'Atlas Vector Search ($vectorSearch) needs an Atlas cluster with a vector index',
  $listSearchIndexes: 'search indexes exist only on Atlas',
  $out: 'writing pipeline results to a collection ($out)',
  $merge: 'writing pipeline results to a collection ($merge)',
  $geoNear: 'geospatial queries',
  $collStats: 'server statistics',
  $indexStats: 'server statistics',
  $currentOp: 'server state',
  $listSessions: 'server state',
  $listLocalSessions: 'server state',
  $planCacheStats: 'server state',
  $changeStream: 'change streams',
  $queryStats: 'server statistics',
};

const UNSUPPORTED_QUERY_OPERATORS: Record<string, string> = {
  $where: 'server-side JavaScript',
  $text: 'text indexes',
  $near: 'geospatial indexes',
  $nearSphere: 'geospatial indexes',
  $geoWithin: 'geospatial queries',
  $geoIntersects: 'geospatial queries',
  $jsonSchema: 'schema validation in queries',
};

const sortStage = (coll: { transform(f: (docs: unknown[]) => unknown): unknown }, spec: unknown): unknown => {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0) throw badValue('$sort stage must have at least one sort key');
  for (const v of Object.values(spec)) if (isPlainObject(v)) throw notSupported('$sort by {$meta: ...}');
  const keys = parseSort(spec);
  return coll.transform((docs) => lazyModule.Lazy(sortDocuments(docs, keys)));
};

function withoutKeys(ops: AnyOps, drop: string[]): AnyOps {
  const out: AnyOps = { ...ops };
  for (const k of drop) delete out[k];
  return out;
}

const CONTEXT: MingoContext = core.Context.init({
  query: withoutKeys({ ...queryOperators, ...BSON_QUERY_OPERATORS }, ['$where', '$jsonSchema']) as never,
  projection: projectionOperators as never,
  expression: withoutKeys(expressionOperators as AnyOps, ['$function']) as never,
  pipeline: { ...withoutKeys(pipelineOperators as AnyOps, Object.keys(SERVER_ONLY_STAGES)), $sort: sortStage } as never,
  accumulator: withoutKeys(accumulatorOperators as AnyOps, ['$accumulator']) as never,
  window: windowOperators as never,
});

export type CollectionResolver = (collection: string) => Document[];

function options(resolver?: CollectionResolver): Record<string, unknown> {
  return {
    context: CONTEXT,
    idKey: '_id',
    useStrictMode: true,
    // mingo implements $setWindowFields with an internal $function; user-supplied $function, $accumulator and
    // $where are refused before anything runs (and functions never survive toHostValue anyway).
    scriptEnabled: true,
    processingMode: core.ProcessingMode.CLONE_OFF,
    ...(resolver ? { collectionResolver: resolver } : {}),
  };
}

/** Rethrows mingo's errors (MingoError: malformed input) as MongoDB-style errors. */
export function mingoCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DataError) throw err;
    if (err instanceof Error) {
      if (/immutable field/i.test(err.message)) throw new DataError(66, 'ImmutableField', err.message);
      if (/would create a conflict/i.test(err.message)) throw new DataError(40, 'ConflictingUpdateOperators', err.message.replace(/^updating/, 'Updating'));
      if (/unknown (top level|query) operator/i.test(err.message)) throw badValue(err.message.replace(/^unknown (top level |query )?operator:?\s*/i, 'unknown operator: '));
      throw badValue(err.message);
    }
    throw err;
  }
}

function scanOperators(v: unknown, visit: (key: string) => void, depth = 0): void {
  if (depth > 200) return;
  if (Array.isArray(v)) {
    for (const e of v) scanOperators(e, visit, depth + 1);
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      if (k.startsWith('$')) visit(k);
      scanOperators((v as Record<string, unknown>)[k], visit, depth + 1);
    }
  }
}

export interface CompiledFilter {
  test(doc: Document): boolean;
  /** True when the filter needs documents in typed shape (it inspects BSON types with $type). */
  typed: boolean;
  /** True for {} (everything matches). */
  matchesAll: boolean;
}

const LOGICAL = new Set(['$and', '$or', '$nor']);

/** Rejects unknown operators up front (the filter itself is compiled lazily, maybe never). */
function validateFilter(filter: Document, depth = 0): void {
  if (depth > 100) throw badValue('filter is nested too deeply');
  for (const [k, v] of Object.entries(filter)) {
    if (LOGICAL.has(k)) {
      if (!Array.isArray(v) || v.length === 0) throw badValue(`${k} must be a nonempty array`);
      for (const c of v) {
        if (!isPlainObject(c)) throw badValue(`${k} argument's entries must be objects`);
        validateFilter(c as Document, depth + 1);
      }
    } else if (k === '$expr' || k === '$comment') {
      continue;
    } else if (k.startsWith('$')) {
      throw badValue(`unknown top level operator: ${k}`);
    } else if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      validateOperators(v as Document, depth + 1);
    }
  }
}

function validateOperators(ops: Document, depth: number): void {
  for (const [op, arg] of Object.entries(ops)) {
    if (op === '$options') continue;
    if (!op.startsWith('$')) throw badValue(`unknown operator: ${op} (an operator object cannot mix operators and field names)`);
    if (!CONTEXT.getOperator(core.OpType.QUERY, op)) throw badValue(`unknown operator: ${op}`);
    if (op === '$not' && isPlainObject(arg)) validateOperators(arg as Document, depth + 1);
    if (op === '$elemMatch' && isPlainObject(arg)) {
      const keys = Object.keys(arg);
      if (keys.length > 0 && keys.every((x) => x.startsWith('$') && !LOGICAL.has(x) && x !== '$expr')) validateOperators(arg as Document, depth + 1);
      else validateFilter(arg as Document, depth + 1);
    }
  }
}

export function compileFilter(filter: Document): CompiledFilter {
  let typed = false;
  let expr = false;
  scanOperators(filter, (k) => {
    if (k in UNSUPPORTED_QUERY_OPERATORS) throw notSupported(`the ${k} query operator`, UNSUPPORTED_QUERY_OPERATORS[k]);
    if (k === '$function' || k === '$accumulator') throw notSupported(`the ${k} operator`, 'server-side JavaScript');
    if (k === '$type') typed = true;
    if (k === '$expr') expr = true;
  });
  const clean = '$comment' in filter ? withoutKeys(filter, ['$comment']) : filter;
  validateFilter(clean);
  if (Object.keys(clean).length === 0) return { test: () => true, typed: false, matchesAll: true };
  // Compiled on first use: plans answered by an exact key match never need it.
  let q: InstanceType<typeof queryModule.Query> | null = null;
  return {
    test: (doc) =>
      mingoCall(() => {
        q ??= new queryModule.Query(clean, options() as never);
        // $expr runs mingo's aggregation expressions, which know only JS numbers: give them numbers.
        return q.test(expr ? (numbersForAggregation(doc) as Document) : doc);
      }),
    typed,
    matchesAll: false,
  };
}

export function checkProjection(projection: Document | undefined): void {
  if (!projection) return;
  scanOperators(projection, (k) => {
    if (k === '$meta') throw notSupported('projection with $meta');
  });
}

/** Applies a find()-style projection to documents (a no-op for an empty projection). */
export function project(docs: Document[], projection: Document | undefined): Document[] {
  if (!projection || Object.keys(projection).length === 0 || docs.length === 0) return docs;
  const out = mingoCall(() => new queryModule.Query({}, options() as never).find(docs, projection as never).all() as Document[]);
  return out.map(idFirst);
}

/** MongoDB returns `_id` as the first field; mingo's projection appends it last. */
function idFirst(doc: Document): Document {
  const keys = Object.keys(doc);
  if (keys.length < 2 || keys[0] === '_id' || !('_id' in doc)) return doc;
  const out: Document = { _id: doc._id };
  for (const k of keys) if (k !== '_id') out[k] = doc[k];
  return out;
}

/** Refuses stages the embedded store cannot run, with MongoDB's wording for unknown stages. */
export function checkPipeline(pipeline: Document[]): void {
  for (const stage of pipeline) {
    const keys = Object.keys(stage);
    if (keys.length !== 1) throw new DataError(40323, 'Location40323', 'A pipeline stage specification object must contain exactly one field.');
    const name = keys[0];
    if (name in SERVER_ONLY_STAGES) throw notSupported(`the ${name} aggregation stage`, SERVER_ONLY_STAGES[name]);
    if (!CONTEXT.getOperator(core.OpType.PIPELINE, name)) throw new DataError(40324, 'Location40324', `Unrecognized pipeline stage name: '${name}'`);
    scanOperators(stage[name], (k) => {
      if (k in UNSUPPORTED_QUERY_OPERATORS) throw notSupported(`the ${k} operator`, UNSUPPORTED_QUERY_OPERATORS[k]);
      if (k === '$function' || k === '$accumulator') throw notSupported(`the ${k} operator`, 'server-side JavaScript');
      if (k === '$meta') throw notSupported('$meta');
    });
  }
}

/**
 * Numbers inside aggregation stages are plain doubles for mingo's arithmetic and accumulators:
 * Decimal128 and int64 beyond 2^53 are converted (documented: their BSON type is not kept in pipeline output).
 */
export function numbersForAggregation(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const c = numbersForAggregation(v[i]);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  if (isNumeric(v)) return toDouble(v);
  if (!isPlainObject(v)) return v;
  let out: Record<string, unknown> | null = null;
  for (const k of Object.keys(v)) {
    const e = (v as Record<string, unknown>)[k];
    const c = numbersForAggregation(e);
    if (c !== e) (out ??= { ...(v as Record<string, unknown>) })[k] = c;
  }
  return out ?? v;
}

export function runPipeline(docs: Document[], pipeline: Document[], resolver: CollectionResolver): Document[] {
  if (pipeline.length === 0) return docs;
  const agg = mingoCall(() => new aggregatorModule.Aggregator(pipeline, options(resolver) as never));
  return mingoCall(() => agg.run(docs) as Document[]);
}

export { CONTEXT as QUERY_CONTEXT, options as mingoOptions };
