// Collections and secondary indexes of one store file. Several threads and processes share the file, so the
// cached metadata is checked against a version counter (bumped by every catalog change) at the start of each
// operation, inside its transaction: an index created by another process is maintained from the next write on.
import { DataError, notSupported } from '../errors';
import type { IndexInfo, IndexSpec } from '../types';
import { isNumeric, toDouble } from '../values';
import type { Statements } from './statements';

export interface IndexField {
  path: string;
  parts: string[];
}

export interface IndexMeta {
  iid: number;
  name: string;
  key: Record<string, number>;
  fields: IndexField[];
  unique: boolean;
  sparse: boolean;
  /** Some document had an array on an indexed path (ranges then use one bound only). */
  multikey: boolean;
}

export interface CollectionMeta {
  cid: number;
  db: string;
  name: string;
  indexes: IndexMeta[];
}

const ID_INDEX: IndexInfo = { name: '_id_', key: { _id: 1 }, unique: true, sparse: false };

function nsKey(db: string, name: string): string {
  return `${db}\u0000${name}`;
}

/** Validates an index key document ({field: 1|-1, ...}) and returns it with plain numbers. */
export function normalizeIndexKey(key: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const fields = Object.keys(key);
  if (fields.length === 0) throw new DataError(67, 'CannotCreateIndex', 'Index keys cannot be an empty field');
  if (fields.length > 32) throw new DataError(67, 'CannotCreateIndex', 'Index has too many fields (at most 32)');
  for (const f of fields) {
    const v = key[f];
    if (typeof v === 'string') throw notSupported(`"${v}" indexes`, 'only ascending (1) and descending (-1) indexes exist in the embedded store');
    const n = isNumeric(v) ? toDouble(v) : NaN;
    if (n !== 1 && n !== -1) throw new DataError(67, 'CannotCreateIndex', `Values in the index key pattern must be 1 or -1; got ${JSON.stringify(v)} for "${f}"`);
    if (f === '' || f.startsWith('$') || f.split('.').some((p) => p === '')) throw new DataError(67, 'CannotCreateIndex', `Index key field name "${f}" is not valid`);
    out[f] = n;
  }
  return out;
}

export function defaultIndexName(key: Record<string, number>): string {
  return Object.entries(key)
    .map(([f, d]) => `${f}_${d}`)
    .join('_');
}

export class Catalog {
  private version = -1;
  private readonly byNs = new Map<string, CollectionMeta>();
  private readonly byCid = new Map<number, CollectionMeta>();

  /** Reloads the metadata when another connection changed it. Call inside the operation's transaction. */
  sync(st: Statements): void {
    const v = st.catalogVersion.get() ?? 0;
    if (v === this.version) return;
    this.byNs.clear();
    this.byCid.clear();
    for (const row of st.collections.all()) {
      const meta: CollectionMeta = { cid: row.id, db: row.db, name: row.name, indexes: [] };
      this.byNs.set(nsKey(row.db, row.name), meta);
      this.byCid.set(row.id, meta);
    }
    for (const row of st.indexes.all()) {
      const coll = this.byCid.get(row.cid);
      if (!coll) continue;
      const spec = JSON.parse(row.spec) as { key: Record<string, number> };
      coll.indexes.push({
        iid: row.id,
        name: row.name,
        key: spec.key,
        fields: Object.keys(spec.key).map((path) => ({ path, parts: path.split('.') })),
        unique: row.is_unique === 1,
        sparse: row.is_sparse === 1,
        multikey: row.multikey === 1,
      });
    }
    this.version = v;
  }

  get currentVersion(): number {
    return this.version;
  }

  /** Forgets the cached metadata (after a rollback: it may describe changes that never committed). */
  invalidate(): void {
    this.version = -1;
  }

  get(db: string, name: string): CollectionMeta | undefined {
    return this.byNs.get(nsKey(db, name));
  }

  /** Creates the collection if needed (inside a write transaction). */
  ensure(st: Statements, db: string, name: string): CollectionMeta {
    const found = this.get(db, name);
    if (found) return found;
    st.insertCollection.run(db, name);
    st.bumpCatalog.run();
    this.version = -1;
    this.sync(st);
    return this.get(db, name)!;
  }

  databaseNames(): string[] {
    return [...new Set([...this.byNs.values()].map((c) => c.db))].sort();
  }

  collectionNames(db: string): string[] {
    return [...this.byNs.values()].filter((c) => c.db === db).map((c) => c.name).sort();
  }

  /** Registers an index (entries are built by the caller in the same transaction). Returns null if it already exists. */
  addIndex(st: Statements, coll: CollectionMeta, spec: IndexSpec): { index: IndexMeta; created: boolean } {
    const key = normalizeIndexKey(spec.key);
    const name = spec.name ?? defaultIndexName(key);
    const keyJson = JSON.stringify(key);
    const unique = spec.unique === true;
    const sparse = spec.sparse === true;
    for (const ix of coll.indexes) {
      const sameKey = JSON.stringify(ix.key) === keyJson;
      if (ix.name === name && sameKey && ix.unique === unique && ix.sparse === sparse) return { index: ix, created: false };
      if (ix.name === name) throw new DataError(86, 'IndexKeySpecsConflict', `An existing index has the same name (${name}) as the requested index but a different key or options`);
      if (sameKey && ix.unique === unique && ix.sparse === sparse) throw new DataError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${ix.name}`);
    }
    const info = st.insertIndex.run(coll.cid, name, JSON.stringify({ key }), unique ? 1 : 0, sparse ? 1 : 0);
    st.bumpCatalog.run();
    const index: IndexMeta = {
      iid: Number(info.lastInsertRowid),
      name,
      key,
      fields: Object.keys(key).map((path) => ({ path, parts: path.split('.') })),
      unique,
      sparse,
      multikey: false,
    };
    coll.indexes.push(index);
    this.version = -1; // reload on next sync (cheap) so every cached view agrees with the file
    return { index, created: true };
  }

  removeIndex(st: Statements, coll: CollectionMeta, name: string): void {
    const ix = coll.indexes.find((i) => i.name === name);
    if (!ix) throw new DataError(27, 'IndexNotFound', `index not found with name [${name}]`);
    st.deleteIndexEntries.run(ix.iid);
    st.deleteIndex.run(ix.iid);
    st.bumpCatalog.run();
    coll.indexes = coll.indexes.filter((i) => i !== ix);
    this.version = -1;
  }

  markMultikey(st: Statements, index: IndexMeta): void {
    if (index.multikey) return;
    st.setMultikey.run(index.iid);
    st.bumpCatalog.run();
    index.multikey = true;
    this.version = -1;
  }

  indexInfos(coll: CollectionMeta | undefined): IndexInfo[] {
    const out: IndexInfo[] = [ID_INDEX];
    for (const ix of coll?.indexes ?? []) out.push({ name: ix.name, key: { ...ix.key }, unique: ix.unique, sparse: ix.sparse });
    return out;
  }
}
