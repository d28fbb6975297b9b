// One SQLite file per data source: <dataDir>/data/<service>.sqlite, opened once per thread (and once more per
// open transaction). WAL lets readers run beside one writer across threads and processes; busy_timeout makes
// writers wait for each other instead of failing.
//
// Durability: with WAL, a commit is a write() of the WAL frames to the OS before the call returns, so an
// acknowledged write survives kill -9 of the server with synchronous=NORMAL (tested: test/data/durability).
// NORMAL skips the fsync per commit; an OS crash or power loss can lose the last commits (the file stays
// consistent). ATRIUM_DATA_SYNC=full makes every commit fsync (about 7x slower writes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { DataError } from '../errors';

export type Db = Database.Database;

/**
 * better-sqlite3 loads its native addon on the first `new Database()`. Function workers refuse
 * process.dlopen once user code can run, so the addon is loaded here, when the data layer is imported
 * (worker boot), and handed to every connection.
 */
const NATIVE_BINDING: object | undefined = (() => {
  try {
    const dir = path.dirname(require.resolve('better-sqlite3/package.json'));
    return require(path.join(dir, 'build', 'Release', 'better_sqlite3.node')) as object;
  } catch {
    return undefined; // better-sqlite3 finds it itself (and reports its own error)
  }
})();

/** How long a writer waits for another thread/process's write transaction before failing. */
export const BUSY_TIMEOUT_MS = 5000;
const FORMAT_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS atrium_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO atrium_meta (k, v) VALUES ('catalog', 0);
CREATE TABLE IF NOT EXISTS collections (
  id INTEGER PRIMARY KEY,
  db TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (db, name)
);
-- Documents: BSON, keyed by the order-preserving encoding of _id (the unique _id index).
CREATE TABLE IF NOT EXISTS docs (
  rid INTEGER PRIMARY KEY,
  cid INTEGER NOT NULL,
  key BLOB NOT NULL,
  doc BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS docs_id ON docs (cid, key);
-- (cid, rowid): scans a collection in insertion order without sorting.
CREATE INDEX IF NOT EXISTS docs_cid ON docs (cid);
-- AUTOINCREMENT: an index id is never reused, so a plan made from stale metadata cannot read another index.
CREATE TABLE IF NOT EXISTS indexes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cid INTEGER NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  is_unique INTEGER NOT NULL,
  is_sparse INTEGER NOT NULL,
  multikey INTEGER NOT NULL DEFAULT 0,
  UNIQUE (cid, name)
);
-- Secondary index entries: (index, encoded key, document row).
CREATE TABLE IF NOT EXISTS index_entries (
  iid INTEGER NOT NULL,
  k BLOB NOT NULL,
  rid INTEGER NOT NULL,
  PRIMARY KEY (iid, k, rid)
) WITHOUT ROWID;
`;

export function synchronousMode(): 'NORMAL' | 'FULL' {
  return (process.env.ATRIUM_DATA_SYNC ?? '').toLowerCase() === 'full' ? 'FULL' : 'NORMAL';
}

/** File name for a data source: its name with anything unusual hex-escaped. */
export function dataSourceFile(dataDir: string, serviceName: string): string {
  const safe = serviceName.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return path.join(dataDir, 'data', `${safe || '%'}.sqlite`);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function retryWhileBusy<T>(fn: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= 100 || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) throw err;
      Atomics.wait(pause, 0, 0, 20); // a short synchronous pause; the store's API is synchronous underneath
    }
  }
}

export function openSqliteFile(file: string): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    // The typings only know the string form of nativeBinding; better-sqlite3 also takes the addon object.
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS, ...(NATIVE_BINDING ? { nativeBinding: NATIVE_BINDING as unknown as string } : {}) });
  } catch (err) {
    throw new DataError(8000, 'AtriumStoreError', `cannot open the embedded store ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    // Two processes opening a new file at once can meet SQLITE_BUSY here, where SQLite does not always call the
    // busy handler (switching the journal mode takes an exclusive lock): retry for a while before giving up.
    retryWhileBusy(() => db.pragma('journal_mode = WAL'));
    db.pragma(`synchronous = ${synchronousMode()}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > FORMAT_VERSION) {
      throw new DataError(8000, 'AtriumStoreError', `${file} was written by a newer Atrium (format ${version}; this one reads format ${FORMAT_VERSION})`);
    }
    if (version < FORMAT_VERSION) {
      retryWhileBusy(() =>
        db
          .transaction(() => {
            db.exec(SCHEMA);
            db.pragma(`user_version = ${FORMAT_VERSION}`);
          })
          .immediate(),
      );
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
