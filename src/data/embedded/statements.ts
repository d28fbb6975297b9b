// Prepared statements of one connection (prepared once, reused for every operation on it).
import type { Statement } from 'better-sqlite3';
import type { Db } from './sqlite-file';

export interface DocRow {
  rid: number;
  doc: Buffer;
}

export class Statements {
  readonly catalogVersion: Statement<[], number>;
  readonly bumpCatalog: Statement;
  readonly collections: Statement<[], { id: number; db: string; name: string }>;
  readonly indexes: Statement<[], { id: number; cid: number; name: string; spec: string; is_unique: number; is_sparse: number; multikey: number }>;
  readonly insertCollection: Statement<[string, string]>;
  readonly insertIndex: Statement<[number, string, string, number, number]>;
  readonly deleteIndex: Statement<[number]>;
  readonly deleteIndexEntries: Statement<[number]>;
  readonly setMultikey: Statement<[number]>;

  readonly docByKey: Statement<[number, Buffer], DocRow>;
  readonly scanBatch: Statement<[number, number, number], DocRow>;
  readonly keyRange: Statement<[number, Buffer, Buffer], DocRow>;
  readonly keyRangeOpen: Statement<[number, Buffer], DocRow>;
  /** (iid, max multikey flag the plan allows, lo, hi): no rows when the index is gone or became multikey. */
  readonly indexRange: Statement<[number, number, Buffer, Buffer], DocRow>;
  readonly indexRangeOpen: Statement<[number, number, Buffer], DocRow>;
  readonly countDocs: Statement<[number], number>;

  readonly insertDoc: Statement<[number, Buffer, Buffer]>;
  readonly updateDoc: Statement<[Buffer, number]>;
  readonly deleteDoc: Statement<[number]>;
  readonly insertEntry: Statement<[number, Buffer, number]>;
  readonly deleteEntry: Statement<[number, Buffer, number]>;
  readonly uniqueProbe: Statement<[number, Buffer, number], number>;

  constructor(readonly db: Db) {
    this.catalogVersion = db.prepare<[], number>("SELECT v FROM atrium_meta WHERE k = 'catalog'").pluck();
    this.bumpCatalog = db.prepare("UPDATE atrium_meta SET v = v + 1 WHERE k = 'catalog'");
    this.collections = db.prepare('SELECT id, db, name FROM collections');
    this.indexes = db.prepare('SELECT id, cid, name, spec, is_unique, is_sparse, multikey FROM indexes ORDER BY id');
    this.insertCollection = db.prepare('INSERT OR IGNORE INTO collections (db, name) VALUES (?, ?)');
    this.insertIndex = db.prepare('INSERT INTO indexes (cid, name, spec, is_unique, is_sparse) VALUES (?, ?, ?, ?, ?)');
    this.deleteIndex = db.prepare('DELETE FROM indexes WHERE id = ?');
    this.deleteIndexEntries = db.prepare('DELETE FROM index_entries WHERE iid = ?');
    this.setMultikey = db.prepare('UPDATE indexes SET multikey = 1 WHERE id = ?');

    this.docByKey = db.prepare('SELECT rid, doc FROM docs WHERE cid = ? AND key = ?');
    this.scanBatch = db.prepare('SELECT rid, doc FROM docs WHERE cid = ? AND rid > ? ORDER BY rid LIMIT ?');
    this.keyRange = db.prepare('SELECT rid, doc FROM docs WHERE cid = ? AND key >= ? AND key < ? ORDER BY key');
    this.keyRangeOpen = db.prepare('SELECT rid, doc FROM docs WHERE cid = ? AND key >= ? ORDER BY key');
    const fromIndex = 'SELECT d.rid AS rid, d.doc AS doc FROM indexes i JOIN index_entries e ON e.iid = i.id JOIN docs d ON d.rid = e.rid WHERE i.id = ? AND i.multikey <= ?';
    this.indexRange = db.prepare(`${fromIndex} AND e.k >= ? AND e.k < ? ORDER BY e.k`);
    this.indexRangeOpen = db.prepare(`${fromIndex} AND e.k >= ? ORDER BY e.k`);
    this.countDocs = db.prepare<[number], number>('SELECT COUNT(*) FROM docs WHERE cid = ?').pluck();

    this.insertDoc = db.prepare('INSERT INTO docs (cid, key, doc) VALUES (?, ?, ?)');
    this.updateDoc = db.prepare('UPDATE docs SET doc = ? WHERE rid = ?');
    this.deleteDoc = db.prepare('DELETE FROM docs WHERE rid = ?');
    this.insertEntry = db.prepare('INSERT OR IGNORE INTO index_entries (iid, k, rid) VALUES (?, ?, ?)');
    this.deleteEntry = db.prepare('DELETE FROM index_entries WHERE iid = ? AND k = ? AND rid = ?');
    this.uniqueProbe = db.prepare<[number, Buffer, number], number>('SELECT rid FROM index_entries WHERE iid = ? AND k = ? AND rid != ? LIMIT 1').pluck();
  }
}
