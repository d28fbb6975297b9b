// Chooses how to find candidate documents for a filter: the _id key, a secondary index (equality on a prefix
// of its fields, then at most one range), a union of plans for a top-level $or, or a full scan. Plans only
// narrow the candidates; every candidate is still tested against the whole filter (unless the plan is an exact
// equality on one field, where the key match is the answer).
import type { Document } from '../types';
import { comparisonRange, equalityRange, isPlainObject, isRegExpValue, kindOf } from '../values';
import type { KeyRange } from '../values';
import type { CollectionMeta, IndexMeta } from './catalog';

export type Plan =
  | { kind: 'scan' }
  | { kind: 'none' }
  | { kind: 'id'; ranges: KeyRange[]; exact: boolean; describe: string }
  | { kind: 'index'; index: IndexMeta; ranges: KeyRange[]; exact: boolean; describe: string; singleKeyOnly: boolean }
  | { kind: 'or'; plans: Plan[] };

interface FieldConds {
  eq: unknown[][]; // each entry: the accepted values ($eq: one value, $in: several)
  lower?: { value: unknown; inclusive: boolean };
  upper?: { value: unknown; inclusive: boolean };
  count: number;
}

const MAX_RANGES = 256;

/** Values a key lookup can serve: scalars compared by value (no regex, documents or arrays). */
function indexable(v: unknown): boolean {
  const k = kindOf(v);
  if (k === 'number') return !(typeof v === 'number' && Number.isNaN(v));
  return k === 'string' || k === 'objectId' || k === 'date' || k === 'bool' || k === 'null' || k === 'binary' || k === 'timestamp';
}

function addConditions(filter: Document, conds: Map<string, FieldConds>): void {
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(cond)) {
      for (const c of cond) if (isPlainObject(c)) addConditions(c as Document, conds);
      continue;
    }
    if (field.startsWith('$')) continue;
    const fc = conds.get(field) ?? { eq: [], count: 0 };
    conds.set(field, fc);
    fc.count++;
    if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      for (const [op, v] of Object.entries(cond as Document)) {
        switch (op) {
          case '$eq':
            if (indexable(v)) fc.eq.push([v]);
            break;
          case '$in':
            if (Array.isArray(v) && v.every(indexable)) fc.eq.push(v);
            break;
          case '$gt':
          case '$gte':
            if (indexable(v) && kindOf(v) !== 'null') fc.lower = { value: v, inclusive: op === '$gte' };
            break;
          case '$lt':
          case '$lte':
            if (indexable(v) && kindOf(v) !== 'null') fc.upper = { value: v, inclusive: op === '$lte' };
            break;
        }
      }
    } else if (!isRegExpValue(cond) && indexable(cond)) {
      fc.eq.push([cond]);
    }
  }
}

interface Candidate {
  ranges: KeyRange[];
  score: number;
  exact: boolean;
  describe: string;
  /** Both bounds of a range were used, which is only right while the index is not multikey. */
  singleKeyOnly: boolean;
}

function planFields(fields: string[], unique: boolean, sparse: boolean, multikey: boolean, conds: Map<string, FieldConds>, singleCondition: boolean): Candidate | null {
  let prefixes: Buffer[] = [Buffer.alloc(0)];
  let eqCount = 0;
  const parts: string[] = [];
  let ranges: KeyRange[] | null = null;
  let singleKeyOnly = false;
  for (const f of fields) {
    const fc = conds.get(f);
    if (!fc) break;
    if (fc.eq.length > 0) {
      // Several equality conditions on one field (a: 1 and a: {$in: [...]}) use the smallest list.
      const values = fc.eq.reduce((a, b) => (b.length < a.length ? b : a));
      if (sparse && values.some((v) => kindOf(v) === 'null')) return null; // sparse indexes do not hold missing fields
      if (prefixes.length * values.length > MAX_RANGES) break;
      const next: Buffer[] = [];
      for (const p of prefixes) for (const v of values) next.push(equalityRange(p, v).lo);
      prefixes = next;
      eqCount++;
      parts.push(`${f}: ${values.length === 1 ? 'eq' : `in(${values.length})`}`);
      continue;
    }
    if (fc.lower || fc.upper) {
      // On a multikey index, two bounds may be met by different elements: keep one (a superset).
      const lower = fc.lower?.value;
      const upper = multikey && lower !== undefined ? undefined : fc.upper?.value;
      singleKeyOnly = lower !== undefined && upper !== undefined;
      const out: KeyRange[] = [];
      for (const p of prefixes) {
        const r = comparisonRange(p, lower, upper);
        if (r) out.push(r);
      }
      ranges = out;
      parts.push(`${f}: range`);
    }
    break;
  }
  if (eqCount === 0 && ranges === null) return null;
  if (ranges === null) ranges = prefixes.map((p) => ({ lo: p, hi: successor(p) }));
  const allEq = eqCount === fields.length;
  const score = eqCount * 10 + (parts.length > eqCount ? 5 : 0) + (unique && allEq ? 100 : 0) - fields.length * 0.01;
  // One field, one equality condition on it, nothing else in the filter: the key match is the whole answer.
  const fc = conds.get(fields[0]);
  const exact = singleCondition && fields.length === 1 && eqCount === 1 && fc !== undefined && fc.count === 1 && fc.eq.length === 1 && fc.eq[0].length >= 1 && fc.eq[0].every((v) => kindOf(v) !== 'null');
  return { ranges, score, exact, describe: parts.join(', '), singleKeyOnly };
}

function successor(p: Buffer): Buffer | null {
  for (let i = p.length - 1; i >= 0; i--) {
    if (p[i] !== 0xff) {
      const out = Buffer.from(p.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return null;
}

export function planQuery(filter: Document, coll: CollectionMeta): Plan {
  const conds = new Map<string, FieldConds>();
  addConditions(filter, conds);
  const topKeys = Object.keys(filter);
  const singleCondition = topKeys.length === 1 && !topKeys[0].startsWith('$');

  for (const fc of conds.values()) if (fc.eq.some((vals) => vals.length === 0)) return { kind: 'none' }; // $in: []

  let best: { c: Candidate; index: IndexMeta | null } | null = null;
  const idc = planFields(['_id'], true, false, false, conds, singleCondition);
  if (idc) best = { c: idc, index: null };
  for (const ix of coll.indexes) {
    const c = planFields(
      ix.fields.map((f) => f.path),
      ix.unique,
      ix.sparse,
      ix.multikey,
      conds,
      singleCondition,
    );
    if (c && (!best || c.score > best.c.score)) best = { c, index: ix };
  }
  if (best) {
    return best.index
      ? { kind: 'index', index: best.index, ranges: best.c.ranges, exact: best.c.exact, describe: `IXSCAN ${best.index.name} (${best.c.describe})`, singleKeyOnly: best.c.singleKeyOnly }
      : { kind: 'id', ranges: best.c.ranges, exact: best.c.exact, describe: `IDSCAN _id_ (${best.c.describe})` };
  }

  // A top-level $or whose every branch can use a key: the union of the branches' candidates.
  if (Array.isArray(filter.$or) && filter.$or.length > 0) {
    const plans: Plan[] = [];
    for (const branch of filter.$or) {
      if (!isPlainObject(branch)) return { kind: 'scan' };
      const p = planQuery(branch as Document, coll);
      if (p.kind === 'scan') return { kind: 'scan' };
      plans.push(p.kind === 'id' || p.kind === 'index' ? { ...p, exact: false } : p);
    }
    return { kind: 'or', plans };
  }
  return { kind: 'scan' };
}

export function describePlan(plan: Plan): string {
  switch (plan.kind) {
    case 'scan':
      return 'COLLSCAN';
    case 'none':
      return 'EOF (no document can match)';
    case 'or':
      return `OR [${plan.plans.map(describePlan).join('; ')}]`;
    default:
      return plan.describe;
  }
}
