// The keys a document contributes to a secondary index, MongoDB-style: an array on the path makes one key per
// element (multikey), a missing field is keyed as null (unless the index is sparse), and two array fields in
// one compound index are refused ("cannot index parallel arrays").
import { DataError } from '../errors';
import type { Document } from '../types';
import { encodeCompoundKey, encodeKey, valuesAtPath } from '../values';
import type { IndexMeta } from './catalog';

export interface IndexKeys {
  keys: Buffer[];
  multikey: boolean;
}

export function indexKeys(index: IndexMeta, doc: Document): IndexKeys {
  if (index.fields.length === 1) {
    const pv = valuesAtPath(doc, index.fields[0].parts);
    if (index.sparse && pv.values.every((v) => v === undefined)) return { keys: [], multikey: false };
    return { keys: dedupe(pv.values.map(encodeKey)), multikey: pv.viaArray };
  }
  const perField = index.fields.map((f) => valuesAtPath(doc, f.parts));
  if (index.sparse && perField.every((pv) => pv.values.every((v) => v === undefined))) return { keys: [], multikey: false };
  const arrays = perField.map((pv, i) => (pv.viaArray ? index.fields[i].path : null)).filter((p): p is string => p !== null);
  if (arrays.length > 1) {
    throw new DataError(171, 'CannotIndexParallelArrays', `cannot index parallel arrays [${arrays[1]}] [${arrays[0]}]`);
  }
  let combos: unknown[][] = [[]];
  for (const pv of perField) {
    const next: unknown[][] = [];
    for (const c of combos) for (const v of pv.values) next.push([...c, v]);
    combos = next;
  }
  return { keys: dedupe(combos.map(encodeCompoundKey)), multikey: arrays.length > 0 };
}

function dedupe(keys: Buffer[]): Buffer[] {
  if (keys.length < 2) return keys;
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const k of keys) {
    const s = k.toString('latin1');
    if (!seen.has(s)) {
      seen.add(s);
      out.push(k);
    }
  }
  return out;
}
