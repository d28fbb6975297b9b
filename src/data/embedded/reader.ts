// Read operations: candidates from the plan, filtered by the compiled query, then sorted, sliced and projected.
import { queryResultTooLarge } from '../errors';
import { compileFilter, project } from '../query';
import type { CompiledFilter } from '../query';
import type { CountOptions, Document, FindOptions } from '../types';
import { compareBson, decodeDocument, decodeTypedDocument, EMPTY_ARRAY, encodeKey, parseSort, sortDocuments, valuesAtPath } from '../values';
import type { CollectionMeta } from './catalog';
import { planQuery } from './planner';
import type { Plan } from './planner';
import type { DocRow, Statements } from './statements';

const SCAN_BATCH = 1000;

export interface Match {
  rid: number;
  bytes: Buffer;
  /** Driver-shaped document. */
  doc: Document;
}

/**
 * Reads run without a transaction and with the cached catalog. Index lookups join the index's metadata row, so
 * an index dropped/replaced elsewhere (or one that became multikey) yields no rows; the caller then refreshes
 * the catalog and, if it changed, runs the read again.
 */
export interface ReadProbe {
  /** An index lookup returned nothing: maybe a stale plan. */
  emptyIndexScan: boolean;
}

function* planRows(st: Statements, coll: CollectionMeta, plan: Plan, probe?: ReadProbe): Generator<DocRow> {
  switch (plan.kind) {
    case 'none':
      return;
    case 'scan': {
      let after = 0;
      for (;;) {
        const rows = st.scanBatch.all(coll.cid, after, SCAN_BATCH);
        for (const r of rows) yield r;
        if (rows.length < SCAN_BATCH) return;
        after = rows[rows.length - 1].rid;
      }
    }
    case 'id':
      for (const r of plan.ranges) yield* r.hi ? st.keyRange.all(coll.cid, r.lo, r.hi) : st.keyRangeOpen.all(coll.cid, r.lo);
      return;
    case 'index': {
      const maxMultikey = plan.singleKeyOnly ? 0 : 1;
      let rows = 0;
      for (const r of plan.ranges) {
        const found = r.hi ? st.indexRange.all(plan.index.iid, maxMultikey, r.lo, r.hi) : st.indexRangeOpen.all(plan.index.iid, maxMultikey, r.lo);
        rows += found.length;
        yield* found;
      }
      if (rows === 0 && probe) probe.emptyIndexScan = true;
      return;
    }
    case 'or':
      for (const p of plan.plans) yield* planRows(st, coll, p, probe);
  }
}

function test(compiled: CompiledFilter, bytes: Buffer, doc: Document): boolean {
  return compiled.typed ? compiled.test(decodeTypedDocument(bytes)) : compiled.test(doc);
}

/**
 * The documents matching `filter`, in plan order, at most `stopAfter` of them. An exact plan (one equality
 * condition answered by a key) is trusted without evaluating the filter.
 */
export function findMatches(st: Statements, coll: CollectionMeta, filter: Document, stopAfter?: number, plan: Plan = planQuery(filter, coll), probe?: ReadProbe): Match[] {
  const compiled = compileFilter(filter);
  const exact = (plan.kind === 'id' || plan.kind === 'index') && plan.exact && !compiled.typed;
  const dedupe = plan.kind === 'or' || (plan.kind === 'index' && (plan.index.multikey || plan.ranges.length > 1)) || (plan.kind === 'id' && plan.ranges.length > 1);
  const seen = dedupe ? new Set<number>() : null;
  const out: Match[] = [];
  if (stopAfter !== undefined && stopAfter <= 0) return out;
  for (const row of planRows(st, coll, plan, probe)) {
    if (seen) {
      if (seen.has(row.rid)) continue;
      seen.add(row.rid);
    }
    const doc = decodeDocument(row.doc);
    if (!compiled.matchesAll && !exact && !test(compiled, row.doc, doc)) continue;
    out.push({ rid: row.rid, bytes: row.doc, doc });
    if (stopAfter !== undefined && out.length >= stopAfter) break;
  }
  return out;
}

export function find(st: Statements, coll: CollectionMeta | undefined, filter: Document, opts: FindOptions, max: number, probe?: ReadProbe): Document[] {
  if (!coll) {
    compileFilter(filter); // still report a malformed filter
    return [];
  }
  const skip = opts.skip ?? 0;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  const sortKeys = opts.sort && Object.keys(opts.sort).length > 0 ? parseSort(opts.sort) : null;
  const stopAfter = sortKeys ? undefined : limit ? skip + limit : skip + max + 1;
  let docs = findMatches(st, coll, filter, stopAfter, undefined, probe).map((m) => m.doc);
  if (sortKeys) docs = sortDocuments(docs, sortKeys);
  docs = docs.slice(skip, limit ? skip + limit : undefined);
  if (docs.length > max) throw queryResultTooLarge(max);
  return project(docs, opts.projection);
}

export function count(st: Statements, coll: CollectionMeta | undefined, filter: Document, opts: CountOptions, probe?: ReadProbe): number {
  const compiled = compileFilter(filter);
  if (!coll) return 0;
  const skip = opts.skip ?? 0;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  const n = compiled.matchesAll ? (st.countDocs.get(coll.cid) ?? 0) : findMatches(st, coll, filter, limit ? skip + limit : undefined, undefined, probe).length;
  const after = Math.max(0, n - skip);
  return limit ? Math.min(after, limit) : after;
}

/** Distinct values of a field (array values contribute their elements), in BSON order. */
export function distinct(st: Statements, coll: CollectionMeta | undefined, field: string, filter: Document, probe?: ReadProbe): unknown[] {
  compileFilter(filter);
  if (!coll) return [];
  const parts = field.split('.');
  const seen = new Map<string, unknown>();
  for (const m of findMatches(st, coll, filter, undefined, undefined, probe)) {
    for (const v of valuesAtPath(m.doc, parts).values) {
      if (v === undefined || v === EMPTY_ARRAY) continue;
      const k = encodeKey(v).toString('latin1');
      if (!seen.has(k)) seen.set(k, v);
    }
  }
  return [...seen.values()].sort(compareBson);
}

/** All documents of a collection (driver shape), for $lookup and friends. */
export function allDocuments(st: Statements, coll: CollectionMeta | undefined): Document[] {
  return coll ? findMatches(st, coll, {}, undefined, { kind: 'scan' }).map((m) => m.doc) : [];
}
